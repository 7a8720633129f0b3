package testserver

import (
	"testing"
	"time"
)

// WaitTimeout is how long Eventually waits by default: generous, since the
// test machines are shared and slow.
const WaitTimeout = 30 * time.Second

// Eventually polls cond until it returns nil, failing the test with cond's
// last error once timeout (WaitTimeout when 0) has passed. Tests use it
// instead of sleeping for whatever they wait on.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if timeout == 0 {
		timeout = WaitTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
