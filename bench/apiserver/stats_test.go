package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1 // 1..100 ms
	}
	tests := []struct {
		name   string
		sample []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", ms(7), 50, 7 * time.Millisecond},
		{"single p99", ms(7), 99, 7 * time.Millisecond},
		{"p0 is min", ms(1, 2, 3), 0, time.Millisecond},
		{"p100 is max", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p50 of 1..100 is 50", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100 is 99", ms(hundred...), 99, 99 * time.Millisecond},
		{"p90 of 1..100 is 90", ms(hundred...), 90, 90 * time.Millisecond},
		{"p99.5 of 1..100 rounds up to 100", ms(hundred...), 99.5, 100 * time.Millisecond},
		{"p50 of 4 is the 2nd", ms(10, 20, 30, 40), 50, 20 * time.Millisecond},
		{"p51 of 4 is the 3rd", ms(10, 20, 30, 40), 51, 30 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p10 of 10 is the 1st", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 10, 1 * time.Millisecond},
		{"p11 of 10 is the 2nd", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 11, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sample, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sample, tt.p, got, tt.want)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		sample []time.Duration
		want   time.Duration
	}{
		{nil, 0},
		{ms(5), 5 * time.Millisecond},
		{ms(1, 9), 5 * time.Millisecond},
		{ms(1, 2, 30), 2 * time.Millisecond},
		{ms(1, 2, 4, 30), 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Median(tt.sample); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.sample, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	in := ms(30, 10, 20, 50, 40)
	orig := slices.Clone(in)
	s := Summarize(in)
	if !slices.Equal(in, orig) {
		t.Errorf("Summarize reordered its input: %v", in)
	}
	want := Summary{N: 5, Min: 10 * time.Millisecond, Max: 50 * time.Millisecond, Mean: 30 * time.Millisecond,
		Median: 30 * time.Millisecond, P50: 30 * time.Millisecond, P90: 50 * time.Millisecond, P99: 50 * time.Millisecond,
		Total: 150 * time.Millisecond}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if z := Summarize(nil); z != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", z)
	}
}

func TestRate(t *testing.T) {
	if got := Rate(1500, 2*time.Second); got != 750 {
		t.Errorf("Rate(1500, 2s) = %v, want 750", got)
	}
	if got := Rate(10, 0); got != 0 {
		t.Errorf("Rate(10, 0) = %v, want 0", got)
	}
}

func TestRunConcurrent(t *testing.T) {
	const n, clients = 1000, 16
	var mu sync.Mutex
	seen := map[int]int{}
	errBoom := errors.New("boom")
	r := runConcurrent(context.Background(), n, clients, func(_ context.Context, i int) error {
		mu.Lock()
		seen[i]++
		mu.Unlock()
		if i%100 == 7 {
			return errBoom
		}
		return nil
	})
	if len(seen) != n {
		t.Fatalf("ran %d distinct indexes, want %d", len(seen), n)
	}
	for i, c := range seen {
		if c != 1 || i < 0 || i >= n {
			t.Fatalf("index %d ran %d times", i, c)
		}
	}
	if r.N != n || r.Clients != clients || r.Errors != 10 || !errors.Is(r.FirstErr, errBoom) {
		t.Errorf("result N=%d clients=%d errors=%d first=%v, want %d, %d, 10, boom", r.N, r.Clients, r.Errors, r.FirstErr, n, clients)
	}
	if r.Latency.N != n-10 {
		t.Errorf("latency sample has %d entries, want %d (successes only)", r.Latency.N, n-10)
	}
	if r.Wall <= 0 || r.PerSecond() <= 0 {
		t.Errorf("wall %v, rate %v: want positive", r.Wall, r.PerSecond())
	}
}

func TestRunConcurrentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runConcurrent(ctx, 100, 4, func(context.Context, int) error { return nil })
	if r.Errors != 100 || !errors.Is(r.FirstErr, context.Canceled) {
		t.Errorf("cancelled run: errors=%d first=%v, want 100 and context.Canceled", r.Errors, r.FirstErr)
	}
}
