package main

import (
	"strings"
	"testing"
	"time"
)

func durs(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", durs(7), 99, 7 * time.Millisecond},
		{"min", durs(5, 1, 3), 0, 1 * time.Millisecond},
		{"max", durs(5, 1, 3), 100, 5 * time.Millisecond},
		{"p50 of 5 unsorted", durs(50, 10, 40, 20, 30), 50, 30 * time.Millisecond},
		{"p50 of 4 is the lower middle", durs(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100", durs(seq(100)...), 99, 99 * time.Millisecond},
		{"p90 of 10", durs(seq(10)...), 90, 9 * time.Millisecond},
		{"p91 of 10 rounds up", durs(seq(10)...), 91, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestMedianAndSummary(t *testing.T) {
	tests := []struct {
		in        []time.Duration
		med, max_ time.Duration
	}{
		{nil, 0, 0},
		{durs(3), 3 * time.Millisecond, 3 * time.Millisecond},
		{durs(9, 1, 5), 5 * time.Millisecond, 9 * time.Millisecond},
		{durs(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond},
		{durs(504, 677, 570, 591, 814), 591 * time.Millisecond, 814 * time.Millisecond},
	}
	for _, tt := range tests {
		in := append([]time.Duration(nil), tt.in...)
		s := summarize(tt.in)
		if s.Median != tt.med || s.Max != tt.max_ || s.N != len(tt.in) {
			t.Errorf("summarize(%v) = %+v, want median %v max %v", tt.in, s, tt.med, tt.max_)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Fatalf("summarize reordered its input: %v", tt.in)
			}
		}
	}
}

func TestRatioVerdictMs(t *testing.T) {
	if got := ratio(3*time.Second, 2*time.Second); got != "1.50x" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(time.Second, 0); got != "-" {
		t.Errorf("ratio by zero = %q", got)
	}
	if got := ratio(0, time.Second); got != "-" {
		t.Errorf("ratio of nothing = %q", got)
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "-"}, {999 * time.Millisecond, "PASS"}, {time.Second, "MISS"}, {4 * time.Minute, "MISS"}} {
		if got := verdict(tt.d, time.Second); got != tt.want {
			t.Errorf("verdict(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "-"}, {1234 * time.Microsecond, "1.23 ms"}, {591 * time.Millisecond, "591 ms"}, {4538 * time.Millisecond, "4538 ms"}, {241 * time.Second, "241.0 s"}} {
		if got := ms(tt.d); got != tt.want {
			t.Errorf("ms(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestWriteReport(t *testing.T) {
	res := []backendResult{
		{Name: "nftables", Services: 10000, Full: 4500 * time.Millisecond, Refs: []refResult{{"nft -f", 3000 * time.Millisecond}},
			Changes: durs(500, 700, 600), ChangeSizes: []int{14, 14, 14},
			Pure: []pureResult{{"nftables.Rules", durs(300, 400, 350)}}},
		{Name: "iptables", Services: 2000, Full: 800 * time.Millisecond, Refs: []refResult{{"restore", 200 * time.Millisecond}, {"restore --noflush", 1600 * time.Millisecond}},
			Changes: durs(1500, 1200, 1300), Err: "boom"},
	}
	var b strings.Builder
	if err := writeReport(&b, reportHeader{When: time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC), Aim: time.Second}, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	row := func(backend string) []string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == backend {
				return f
			}
		}
		t.Fatalf("no row for %s in:\n%s", backend, out)
		return nil
	}
	// backend Services full sync raw syncer/raw verdict median max verdict
	nft := strings.Join(row("nftables"), " ")
	if want := "nftables 10000 4500 ms 3000 ms 1.50x MISS 600 ms 700 ms PASS"; nft != want {
		t.Errorf("nftables row %q, want %q", nft, want)
	}
	ipt := strings.Join(row("iptables"), " ")
	if want := "iptables 2000 800 ms 200 ms 4.00x PASS 1300 ms 1500 ms MISS"; ipt != want {
		t.Errorf("iptables row %q, want %q", ipt, want)
	}
	for _, want := range []string{"2026-11-22T05:00:00Z", "FAILED: boom", "pure, nftables.Rules: median 350 ms, max 400 ms (3 rounds)", "[14 14 14]", "reference, restore --noflush: 1600 ms (syncer/reference 0.50x)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
