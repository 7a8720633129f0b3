package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Sample is what one or more timed slices of closed-loop load measured.
type Sample struct {
	Requests  int
	Errors    int
	FirstErr  error
	Elapsed   time.Duration   // wall-clock time of the slices, summed
	ServerCPU time.Duration   // server user+system CPU time during the slices
	Latencies []time.Duration // one per successful request
}

// Add merges o into s.
func (s *Sample) Add(o Sample) {
	s.Requests += o.Requests
	s.Errors += o.Errors
	if s.FirstErr == nil {
		s.FirstErr = o.FirstErr
	}
	s.Elapsed += o.Elapsed
	s.ServerCPU += o.ServerCPU
	s.Latencies = append(s.Latencies, o.Latencies...)
}

// PerSecond is successful requests per second of wall-clock time.
func (s Sample) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// CPUPerRequest is the server CPU time spent per successful request.
func (s Sample) CPUPerRequest() time.Duration {
	if s.Requests == 0 {
		return 0
	}
	return s.ServerCPU / time.Duration(s.Requests)
}

// request is one API call; i numbers the calls of a slice from 0, for
// unique names.
type request func(ctx context.Context, i int64) error

// runSlice keeps `clients` goroutines issuing req back to back for d: each
// starts its next request only while d has not passed, so the slice ends
// when the last in-flight request returns. cpu reads the server's CPU
// time before and after (nil: not measured). next numbers requests across
// slices of the same scenario.
func runSlice(ctx context.Context, clients int, d time.Duration, next *atomic.Int64, req request, cpu func() (time.Duration, error)) Sample {
	var cpuBefore time.Duration
	if cpu != nil {
		cpuBefore, _ = cpu()
	}
	var (
		stop atomic.Bool
		mu   sync.Mutex
		out  Sample
		wg   sync.WaitGroup
	)
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1024)
			var errs int
			var firstErr error
			for !stop.Load() && ctx.Err() == nil {
				t := time.Now()
				if err := req(ctx, next.Add(1)-1); err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			out.Latencies = append(out.Latencies, lat...)
			out.Errors += errs
			if out.FirstErr == nil {
				out.FirstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	out.Requests = len(out.Latencies)
	if cpu != nil {
		if after, err := cpu(); err == nil {
			out.ServerCPU = after - cpuBefore
		}
	}
	return out
}
