package prober

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeExec is an Execer whose answer per command is set by the test. The
// command's first word selects the answer; unknown commands exit 0.
type fakeExec struct {
	mu      sync.Mutex
	exit    map[string]int32
	output  map[string]string
	calls   map[string]int
	lastIDs map[string]string
}

func newFakeExec() *fakeExec {
	return &fakeExec{exit: map[string]int32{}, output: map[string]string{}, calls: map[string]int{}, lastIDs: map[string]string{}}
}

func (f *fakeExec) set(cmd string, exit int32, output string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exit[cmd], f.output[cmd] = exit, output
}

func (f *fakeExec) count(cmd string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[cmd]
}

func (f *fakeExec) lastID(cmd string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastIDs[cmd]
}

func (f *fakeExec) ExecSync(_ context.Context, id string, cmd []string, _ time.Duration) ([]byte, []byte, int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := strings.Join(cmd, " ")
	f.calls[name]++
	f.lastIDs[name] = id
	return []byte(f.output[name]), nil, f.exit[name], nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
