package cronjob

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// wakeups re-enqueues keys at a time of the controller's clock, so that a
// test can move a fake clock forward instead of waiting. Each key has at
// most one pending wake-up: the latest reconcile decides when it is.
type wakeups struct {
	clock   clock.WithDelayedExecution
	enqueue func(key string)
	mu      sync.Mutex
	timers  map[string]clock.Timer
}

func newWakeups(c clock.WithDelayedExecution, enqueue func(string)) *wakeups {
	return &wakeups{clock: c, enqueue: enqueue, timers: map[string]clock.Timer{}}
}

// at schedules key to be enqueued at t, replacing any earlier plan; a zero
// t only cancels.
func (w *wakeups) at(key string, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.timers[key]; ok {
		old.Stop()
		delete(w.timers, key)
	}
	if t.IsZero() {
		return
	}
	w.timers[key] = w.clock.AfterFunc(t.Sub(w.clock.Now()), func() { w.enqueue(key) })
}

// stop cancels every pending wake-up.
func (w *wakeups) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, t := range w.timers {
		t.Stop()
		delete(w.timers, k)
	}
}
