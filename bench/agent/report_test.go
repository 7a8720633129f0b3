package main

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestVerdict(t *testing.T) {
	tests := []struct {
		p99  time.Duration
		want string
	}{
		{999 * time.Millisecond, "PASS"},
		{time.Second, "MISS"},
		{3 * time.Second, "MISS"},
		{0, "MISS"}, // nothing measured
	}
	for _, tt := range tests {
		if got := verdict(tt.p99); got != tt.want {
			t.Errorf("verdict(%v) = %s, want %s", tt.p99, got, tt.want)
		}
	}
}

func TestOverheadAndShare(t *testing.T) {
	agent := Summary{N: 100, P50: 300 * time.Millisecond, P99: 900 * time.Millisecond}
	raw := Summary{N: 100, P50: 200 * time.Millisecond, P99: 300 * time.Millisecond}
	if got, want := overhead(agent, raw), "p50 1.5x, p99 3.0x"; got != want {
		t.Errorf("overhead = %q, want %q", got, want)
	}
	if got := overhead(agent, Summary{}); got != "-" {
		t.Errorf("overhead without a reference = %q, want -", got)
	}
	if got, want := share(Mem{RSS: 130e6}, Mem{RSS: 100e6}), "+30.0 MB"; got != want {
		t.Errorf("share = %q, want %q", got, want)
	}
	if got, want := share(Mem{RSS: 95e6}, Mem{RSS: 100e6}), "-5.0 MB"; got != want {
		t.Errorf("share below the reference = %q, want %q", got, want)
	}
	if got := share(Mem{RSS: 95e6}, Mem{}); got != "-" {
		t.Errorf("share without a reference = %q, want -", got)
	}
}

func TestFmtDur(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{1700 * time.Microsecond, "1.7 ms"},
		{312 * time.Millisecond, "312 ms"},
		{1234 * time.Millisecond, "1.23 s"},
		{12345 * time.Millisecond, "12.3 s"},
	}
	for _, tt := range tests {
		if got := fmtDur(tt.d); got != tt.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// reportLine returns the report's line that starts with prefix.
func reportLine(t *testing.T, report, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting with %q in:\n%s", prefix, report)
	return ""
}

func TestReport(t *testing.T) {
	sum := func(p50, p99 int) Summary {
		return Summary{N: 100, P50: time.Duration(p50) * time.Millisecond, P90: time.Duration(p99) * time.Millisecond,
			P99: time.Duration(p99) * time.Millisecond, Max: time.Duration(p99) * time.Millisecond}
	}
	r := &results{
		started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), host: "2 CPUs (test)", pods: 100, clients: 8, rawWorkers: 16,
		noAgent: Mem{RSS: 100e6},
		idleMem: procSet{server: Mem{RSS: 120e6}, containerd: Mem{Procs: 1, RSS: 45e6}},
		phases: []phase{
			{name: "sequential", start: sum(250, 1200), raw: sum(200, 400), startWall: 30 * time.Second, rawWall: 20 * time.Second,
				mem: procSet{server: Mem{RSS: 150e6}, shims: Mem{Procs: 100, RSS: 1400e6, PSS: 380e6}}},
			{name: "burst", start: sum(5000, 9000), raw: sum(4000, 8000), startWall: 9 * time.Second, rawWall: 8 * time.Second},
		},
		cgroupLeftovers: 3,
	}
	var b strings.Builder
	r.write(&b)
	out := b.String()
	seq := reportLine(t, out, "pod start, sequential, 100 pods")
	for _, want := range []string{"250 ms / 1.20 s / 1.20 s / 1.20 s", "p99 < 1.00 s", "p50 1.2x, p99 3.0x", "MISS"} {
		if !strings.Contains(seq, want) {
			t.Errorf("sequential line lacks %q: %s", want, seq)
		}
	}
	if burst := reportLine(t, out, "pod start, burst, 100 pods"); !strings.HasSuffix(strings.TrimSpace(burst), "info") {
		t.Errorf("the burst is checked against the aim: %s", burst)
	}
	if wall := reportLine(t, out, "  sequential: first create → last Running"); !strings.Contains(wall, "1.5x") {
		t.Errorf("wall ratio missing: %s", wall)
	}
	if s := reportLine(t, out, "  the agent's share"); !strings.Contains(s, "+20.0 MB") || !strings.Contains(s, "+50.0 MB") {
		t.Errorf("agent share: %s", s)
	}
	if s := reportLine(t, out, "shims:"); !strings.Contains(s, "none") || !strings.Contains(s, "100, 1400.0 MB, 380.0 MB") {
		t.Errorf("shims: %s", s)
	}
	reportLine(t, out, "  3 deleted pods left their pod cgroup")
	if strings.Contains(out, "within the run-to-run drift") {
		t.Errorf("a +20 MB idle share is called noise")
	}
	r.idleMem.server.RSS = 95e6
	b.Reset()
	r.write(&b)
	reportLine(t, b.String(), "  The idle share is within the run-to-run drift")
}

func TestNodeReady(t *testing.T) {
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	notReady := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}
	node := func(cidr string, conds []corev1.NodeCondition) *corev1.Node {
		return &corev1.Node{Spec: corev1.NodeSpec{PodCIDR: cidr}, Status: corev1.NodeStatus{Conditions: conds}}
	}
	tests := []struct {
		name string
		node *corev1.Node
		want string
	}{
		{"ready with a CIDR", node("10.44.0.0/24", ready), "10.44.0.0/24"},
		{"ready, no CIDR yet", node("", ready), ""},
		{"not ready", node("10.44.0.0/24", notReady), ""},
		{"no conditions", node("10.44.0.0/24", nil), ""},
	}
	for _, tt := range tests {
		if got := nodeReady(tt.node); got != tt.want {
			t.Errorf("%s: nodeReady = %q, want %q", tt.name, got, tt.want)
		}
	}
}
