package main

import (
	"strings"
	"testing"
	"time"
)

func sampleResults(createRate float64, idleRSS int64, ready, list time.Duration) *Results {
	const n = 10000
	wall := time.Duration(float64(n) / createRate * float64(time.Second))
	return &Results{
		Env:      Env{Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), CPUs: 2, ServerArgs: "--disable-agent"},
		Pods:     n,
		Clients:  64,
		ListRuns: 5,
		Idle:     5 * time.Second,
		Etcd: &EtcdBaseline{
			Put:       LoadResult{N: n, Clients: 64, Wall: time.Second}, // 10000/s
			Range:     Summary{N: 5, Median: 100 * time.Millisecond, Min: 90 * time.Millisecond, Max: 110 * time.Millisecond},
			RangeKeys: n, ValueSize: 1024,
		},
		ReadyFresh: Summary{N: 5, Median: ready, Min: ready, Max: ready},
		IdleMem:    ProcMem{VmRSS: idleRSS},
		Create:     LoadResult{N: n, Clients: 64, Wall: wall},
		ListProto:  Summary{N: 5, Median: list, Min: list, Max: list},
		ListJSON:   Summary{N: 5, Median: 2 * list, Min: 2 * list, Max: 2 * list},
	}
}

// line returns the report line that starts with prefix.
func line(t *testing.T, report, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting with %q in:\n%s", prefix, report)
	return ""
}

func TestReportVerdictsAndRatios(t *testing.T) {
	tests := []struct {
		name                   string
		rate                   float64
		rss                    int64
		ready, list            time.Duration
		wantReady, wantRSS     string
		wantCreate, wantList   string
		createRatio, etcdRatio string
		listVsEtcd, listVsK8s  string
	}{
		{
			name: "all aims met", rate: 2000, rss: 80e6, ready: 500 * time.Millisecond, list: 300 * time.Millisecond,
			wantReady: "PASS", wantRSS: "PASS", wantCreate: "PASS", wantList: "PASS",
			createRatio: "3.2–4.4x", etcdRatio: "20% of raw put rate (10000/s)",
			listVsEtcd: "3.0x raw range (100 ms)", listVsK8s: "3.0x faster",
		},
		{
			name: "all aims missed", rate: 1000, rss: 150e6, ready: 2 * time.Second, list: 1800 * time.Millisecond,
			wantReady: "MISS", wantRSS: "MISS", wantCreate: "MISS", wantList: "MISS",
			createRatio: "1.6–2.2x", etcdRatio: "10% of raw put rate (10000/s)",
			listVsEtcd: "18.0x raw range (100 ms)", listVsK8s: "2.0x slower",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := sampleResults(tt.rate, tt.rss, tt.ready, tt.list).String()
			if l := line(t, rep, "ready: start to /readyz ok"); !strings.HasSuffix(l, tt.wantReady) {
				t.Errorf("ready line %q, want verdict %s", l, tt.wantReady)
			}
			if l := line(t, rep, "idle RSS"); !strings.HasSuffix(l, tt.wantRSS) {
				t.Errorf("RSS line %q, want verdict %s", l, tt.wantRSS)
			}
			l := line(t, rep, "pod creates/s")
			if !strings.HasSuffix(l, tt.wantCreate) || !strings.Contains(l, tt.createRatio) || !strings.Contains(l, tt.etcdRatio) {
				t.Errorf("create line %q, want verdict %s, ratio %q and %q", l, tt.wantCreate, tt.createRatio, tt.etcdRatio)
			}
			l = line(t, rep, "LIST 10000 pods, protobuf, decoded")
			if !strings.HasSuffix(l, tt.wantList) || !strings.Contains(l, tt.listVsEtcd) || !strings.Contains(l, tt.listVsK8s) {
				t.Errorf("list line %q, want verdict %s, %q and %q", l, tt.wantList, tt.listVsEtcd, tt.listVsK8s)
			}
		})
	}
}

func TestReportFailedCreatesMiss(t *testing.T) {
	r := sampleResults(5000, 50e6, 100*time.Millisecond, 10*time.Millisecond)
	r.Create.Errors = 1
	if l := line(t, r.String(), "pod creates/s"); !strings.HasSuffix(l, "MISS") {
		t.Errorf("a run with failed creates must not pass: %q", l)
	}
}

func TestBetter(t *testing.T) {
	tests := []struct {
		ratio float64
		want  string
	}{
		{3, "3.0x faster"},
		{1, "1.0x faster"},
		{0.25, "4.0x slower"},
	}
	for _, tt := range tests {
		if got := better(tt.ratio, "faster", "slower"); got != tt.want {
			t.Errorf("better(%v) = %q, want %q", tt.ratio, got, tt.want)
		}
	}
}

func TestFmtDur(t *testing.T) {
	tests := map[time.Duration]string{
		1500 * time.Millisecond: "1.50 s",
		250 * time.Millisecond:  "250 ms",
		1234 * time.Microsecond: "1.23 ms",
	}
	for d, want := range tests {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}
