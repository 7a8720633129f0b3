package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadResult is one load run's outcome.
type loadResult struct {
	requests int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// runLoad keeps conns keep-alive connections busy with GET requests for
// host on addr for d (after a warm-up), one request at a time per
// connection, and measures each request's latency. The client is a
// minimal HTTP/1.1 implementation so that it costs the 2-core machine as
// little CPU as possible, identically for every target.
func runLoad(ctx context.Context, addr, host string, conns int, warmup, d time.Duration) (loadResult, error) {
	req := []byte("GET /bench HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: skiff-ingress-bench\r\n\r\n")
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+d)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errCount  int
		firstErr  error
		wg        sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			errs := 0
			var lastErr error
			var c net.Conn
			var br *bufio.Reader
			for ctx.Err() == nil {
				now := time.Now()
				if now.After(end) {
					break
				}
				if c == nil {
					var err error
					if c, err = net.Dial("tcp", addr); err != nil {
						errs, lastErr = errs+1, err
						continue
					}
					br = bufio.NewReaderSize(c, 16<<10)
				}
				t0 := time.Now()
				err := roundTrip(c, br, req)
				t1 := time.Now()
				if err != nil {
					errs, lastErr = errs+1, err
					c.Close()
					c = nil
					continue
				}
				if t0.After(measureFrom) && t1.Before(end) {
					lat = append(lat, t1.Sub(t0))
				}
			}
			if c != nil {
				c.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, lat...)
			errCount += errs
			if firstErr == nil {
				firstErr = lastErr
			}
		}()
	}
	wg.Wait()
	if len(latencies) == 0 {
		return loadResult{}, fmt.Errorf("no successful requests to %s: %w", addr, firstErr)
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	return loadResult{requests: len(latencies), errors: errCount, elapsed: d, p50: pct(0.50), p99: pct(0.99)}, nil
}

// roundTrip writes one request and reads one response with a
// Content-Length body (which the benchmark backend always sends).
func roundTrip(c net.Conn, br *bufio.Reader, req []byte) error {
	if _, err := c.Write(req); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil {
		return fmt.Errorf("status line: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200") {
		return fmt.Errorf("status %q", status)
	}
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("headers: %w", err)
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := strings.Cut(string(line), ":"); ok && strings.EqualFold(k, "Content-Length") {
			if length, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return fmt.Errorf("content-length: %w", err)
			}
		}
	}
	if length < 0 {
		return errors.New("response without Content-Length")
	}
	_, err = io.CopyN(io.Discard, br, int64(length))
	return err
}
