package stats

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		// user 100 + nice 1 + system 50 + irq 2 + softirq 3 + steal 4 = 160 ticks.
		{"aggregate line", "cpu  100 1 50 9999 7 2 3 4 20 0\ncpu0 50 0 25 0 0 0 0 0 0 0\n", 160 * 10_000_000, false},
		{"old kernel without guest columns", "cpu 1 0 0 5 0 0 0 0\n", 10_000_000, false},
		{"aggregate line not first", "intr 1\ncpu 0 0 1 0 0 0 0 0\n", 10_000_000, false},
		{"no cpu line", "cpu0 1 2 3 4 5 6 7 8\n", 0, true},
		{"too few columns", "cpu 1 2 3\n", 0, true},
		{"not a number", "cpu 1 x 3 4 5 6 7 8\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcStat([]byte(tc.in))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %d, %v; want %d, err %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       1000 kB\nMemFree:         300 kB\nMemAvailable:    900 kB\nInactive(file):  200 kB\nAnonPages:        50 kB\nHugePages_Total:   0\n"
	m, err := ParseMeminfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := NodeMemory{Total: 1000 * 1024, Free: 300 * 1024, InactiveFile: 200 * 1024, AnonPages: 50 * 1024}
	if m != want {
		t.Fatalf("got %+v, want %+v", m, want)
	}
	if m.UsageBytes() != 700*1024 || m.WorkingSetBytes() != 500*1024 || m.AvailableBytes() != 500*1024 {
		t.Fatalf("derived usage %d ws %d avail %d", m.UsageBytes(), m.WorkingSetBytes(), m.AvailableBytes())
	}
	if ws := (NodeMemory{Total: 10, Free: 5, InactiveFile: 8}).WorkingSetBytes(); ws != 0 {
		t.Fatalf("working set below zero not clamped: %d", ws)
	}
	for _, bad := range []string{"MemFree: 1 kB\n", "MemTotal: lots kB\n", "MemTotal:\n"} {
		if _, err := ParseMeminfo([]byte(bad)); err == nil {
			t.Errorf("ParseMeminfo(%q) accepted", bad)
		}
	}
}

func TestReadNode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte("cpu 1 0 0 0 0 0 0 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemTotal: 4 kB\nMemFree: 1 kB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(100, 0)
	s, err := ReadNode(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Time.Equal(now) || s.CPUUsageCoreNanoSeconds != 10_000_000 || s.Memory.Total != 4096 {
		t.Fatalf("sample %+v", s)
	}
	if _, err := ReadNode(t.TempDir(), now); err == nil {
		t.Fatal("missing files accepted")
	}
	if _, err := ReadNode("/proc", now); err != nil {
		t.Fatalf("real /proc: %v", err)
	}
}

func TestCPURates(t *testing.T) {
	var r cpuRates
	t0 := time.Unix(1000, 0)
	if got := r.nanoCores("c", t0, 5e9); got != nil {
		t.Fatalf("first sample gave %d", *got)
	}
	// 1.5 core-seconds over 3 seconds is half a core.
	got := r.nanoCores("c", t0.Add(3*time.Second), 6.5e9)
	if got == nil || *got != 5e8 {
		t.Fatalf("rate %v, want 5e8", got)
	}
	if again := r.nanoCores("c", t0.Add(3*time.Second), 6.5e9); again == nil || *again != 5e8 {
		t.Fatalf("same timestamp did not repeat the rate: %v", again)
	}
	if reset := r.nanoCores("c", t0.Add(4*time.Second), 1e9); reset != nil {
		t.Fatalf("counter reset gave %d", *reset)
	}
	if after := r.nanoCores("c", t0.Add(5*time.Second), 3e9); after == nil || *after != 2e9 {
		t.Fatalf("rate after reset %v, want 2e9", after)
	}
	r.nanoCores("gone", t0, 1)
	r.retain(map[string]bool{"c": true})
	if _, ok := r.prev["gone"]; ok || len(r.prev) != 1 {
		t.Fatalf("retain kept %v", r.prev)
	}
}
