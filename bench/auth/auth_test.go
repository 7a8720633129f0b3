package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name   string
		sample []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of ten is the fifth", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 50, 5 * time.Millisecond},
		{"p99 of ten is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p90 of ten is the ninth", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"p0 is the minimum", ms(3, 1, 2), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.sample)
			if got := Percentile(tt.sample, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sample, tt.p, got, tt.want)
			}
			if !slices.Equal(before, tt.sample) {
				t.Errorf("sample modified: %v", tt.sample)
			}
		})
	}
}

func TestParseCPUTime(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "1234 (skiff) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0", 3 * time.Second, false},
		{"name with spaces and parens", "9 (a (b) c) R 1 9 9 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond, false},
		{"no name", "1234 S 1", 0, true},
		{"too short", "1 (x) S 1 2", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCPUTime(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseCPUTime = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{"present", "Name:\tskiff\nVmHWM:\t  200 kB\nVmRSS:\t  100 kB\n", 102400, false},
		{"missing", "Name:\tkthreadd\n", 0, true},
		{"bad unit", "VmRSS:\t100 MB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVmRSS(strings.NewReader(tt.status))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseVmRSS = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRatioToAdmin(t *testing.T) {
	res := func(c, op string, n int, cpu time.Duration) Result {
		return Result{Case: c, Op: op, Sample: Sample{Requests: n, Elapsed: time.Second, ServerCPU: cpu}}
	}
	results := []Result{
		res(caseAdmin, opGetConfigMap, 1000, 100*time.Millisecond),
		res(caseSA, opGetConfigMap, 900, 150*time.Millisecond),
		res(caseSA, opListPods, 90, 10*time.Millisecond),
		res(caseAdmin, opCreate, 0, 0),
		res(caseSA, opCreate, 10, time.Millisecond),
	}
	tests := []struct {
		name string
		r    Result
		want Ratio
	}{
		{"slower and costlier", results[1], Ratio{Throughput: 0.9, CPU: 1.5 / 0.9, ok: true}},
		{"no reference", results[2], Ratio{}},
		{"reference measured nothing", results[4], Ratio{}},
		{"itself", results[0], Ratio{Throughput: 1, CPU: 1, ok: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ratioToAdmin(results, tt.r)
			if got.ok != tt.want.ok || !near(got.Throughput, tt.want.Throughput) || !near(got.CPU, tt.want.CPU) {
				t.Errorf("ratioToAdmin = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// near allows for CPUPerRequest rounding to whole nanoseconds.
func near(a, b float64) bool { return a-b < 1e-4 && b-a < 1e-4 }

func TestRoundOrder(t *testing.T) {
	scs := []scenario{{Op: "a"}, {Op: "a"}, {Op: "a"}, {Op: "b"}, {Op: "c"}, {Op: "c"}}
	tests := []struct {
		round int
		want  []int
	}{
		{0, []int{0, 1, 2, 3, 4, 5}},
		{1, []int{1, 2, 0, 3, 5, 4}},
		{2, []int{2, 0, 1, 3, 4, 5}},
		{3, []int{0, 1, 2, 3, 5, 4}},
	}
	for _, tt := range tests {
		if got := roundOrder(scs, tt.round); !slices.Equal(got, tt.want) {
			t.Errorf("roundOrder(round %d) = %v, want %v", tt.round, got, tt.want)
		}
	}
}

func TestRunSliceCountsAndErrors(t *testing.T) {
	var next atomic.Int64
	var calls atomic.Int64
	boom := errors.New("boom")
	req := func(_ context.Context, i int64) error {
		calls.Add(1)
		if i%10 == 9 {
			return boom
		}
		return nil
	}
	cpu := func() (time.Duration, error) { return time.Duration(calls.Load()) * time.Microsecond, nil }
	s := runSlice(context.Background(), 4, 20*time.Millisecond, &next, req, cpu)
	if got := int64(s.Requests + s.Errors); got != calls.Load() || got != next.Load() {
		t.Errorf("requests %d + errors %d = %d, want every call (%d) and number (%d) counted", s.Requests, s.Errors, got, calls.Load(), next.Load())
	}
	if len(s.Latencies) != s.Requests {
		t.Errorf("%d latencies for %d requests", len(s.Latencies), s.Requests)
	}
	if s.Errors == 0 || !errors.Is(s.FirstErr, boom) {
		t.Errorf("errors %d, first %v; want the failing calls counted", s.Errors, s.FirstErr)
	}
	if want := time.Duration(calls.Load()) * time.Microsecond; s.ServerCPU != want {
		t.Errorf("ServerCPU = %v, want the cpu function's difference %v", s.ServerCPU, want)
	}
	// Numbering continues across slices of the same scenario.
	before := next.Load()
	runSlice(context.Background(), 1, time.Millisecond, &next, func(context.Context, int64) error { return nil }, nil)
	if next.Load() <= before {
		t.Errorf("counter did not advance: %d -> %d", before, next.Load())
	}
}

func TestReportMentionsRatios(t *testing.T) {
	rep := Report{
		Env: Env{Date: time.Unix(0, 0), Clients: 16, Rounds: 3, Slice: time.Second, Pods: 100},
		Results: []Result{
			{Case: caseAdmin, Op: opGetConfigMap, Sample: Sample{Requests: 1000, Elapsed: time.Second}},
			{Case: caseSA, Op: opGetConfigMap, Sample: Sample{Requests: 900, Elapsed: time.Second}},
		},
		Memory: []Memory{{Label: "audited server", Before: 100e6, After: 120e6}},
	}
	out := rep.String()
	for _, want := range []string{"SA token + RBAC GET configmap: 0.90x of admin", "before load 100.0 MB, after load 120.0 MB"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestDroppedAuditEvents(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want uint64
	}{
		{"none", "time=x level=INFO msg=ready\n", 0},
		{"highest total wins", `time=a level=WARN msg="audit: dropping events" reason="queue full" droppedTotal=12
time=b level=INFO msg="something else" droppedTotal=999
time=c level=WARN msg="audit: dropping events" reason="queue full" droppedTotal=4031
`, 4031},
		{"malformed total ignored", `level=WARN msg="audit: dropping events" droppedTotal=lots`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DroppedAuditEvents(tt.log); got != tt.want {
				t.Errorf("DroppedAuditEvents = %d, want %d", got, tt.want)
			}
		})
	}
}
