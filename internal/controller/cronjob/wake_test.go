package cronjob

import (
	"sync"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

func TestWakeups(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var got []string
	fired := make(chan struct{}, 10)
	w := newWakeups(clk, func(key string) {
		mu.Lock()
		got = append(got, key)
		mu.Unlock()
		fired <- struct{}{}
	})
	w.at("a", clk.Now().Add(time.Minute))
	w.at("a", clk.Now().Add(2*time.Minute)) // replaces the first plan
	w.at("b", clk.Now().Add(time.Minute))
	w.at("b", time.Time{}) // cancelled
	clk.Step(90 * time.Second)
	if clk.Waiters() != 1 {
		t.Fatalf("%d timers pending, want 1", clk.Waiters())
	}
	clk.Step(time.Minute)
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("wake-up did not fire")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "a" {
		t.Fatalf("enqueued %v, want [a]", got)
	}
}
