package endpointslice

import (
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller/endpoints"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// tracker remembers the slices this controller wrote, so that a sync
// running before the informer has caught up with those writes (and would
// otherwise create duplicates or undo its own work) waits instead.
// Expectations lapse after a while, so a missed event cannot wedge a
// Service.
type tracker struct {
	mu     sync.Mutex
	ttl    time.Duration
	now    func() time.Time
	expect map[string]map[string]expectation // service key -> slice name
}

type expectation struct {
	rv      string // resourceVersion written; "" when deleted
	deleted bool
	at      time.Time
}

func newTracker(ttl time.Duration) *tracker {
	return &tracker{ttl: ttl, now: time.Now, expect: map[string]map[string]expectation{}}
}

// wrote records a created or updated slice.
func (t *tracker) wrote(key string, s *discoveryv1.EndpointSlice) {
	t.set(key, s.Name, expectation{rv: s.ResourceVersion, at: t.now()})
}

// deleted records a deleted slice.
func (t *tracker) deleted(key, name string) {
	t.set(key, name, expectation{deleted: true, at: t.now()})
}

func (t *tracker) set(key, name string, e expectation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.expect[key] == nil {
		t.expect[key] = map[string]expectation{}
	}
	t.expect[key][name] = e
}

// forget drops a Service's expectations.
func (t *tracker) forget(key string) {
	t.mu.Lock()
	delete(t.expect, key)
	t.mu.Unlock()
}

// stale reports whether the cached slices of a Service miss some of our
// writes; satisfied and lapsed expectations are dropped.
func (t *tracker) stale(key string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp := t.expect[key]
	if len(exp) == 0 {
		return false
	}
	byName := make(map[string]*discoveryv1.EndpointSlice, len(cached))
	for _, s := range cached {
		byName[s.Name] = s
	}
	now := t.now()
	isStale := false
	for name, e := range exp {
		s, present := byName[name]
		waiting := false
		switch {
		case e.deleted:
			waiting = present
		case !present:
			waiting = true
		default:
			waiting = endpoints.OlderResourceVersion(s.ResourceVersion, e.rv)
		}
		if !waiting || now.Sub(e.at) > t.ttl {
			delete(exp, name)
			continue
		}
		isStale = true
	}
	if len(exp) == 0 {
		delete(t.expect, key)
	}
	return isStale
}

// observedDeletion drops the expectation of a slice the informer saw
// deleted: whatever we expected of it, it is gone now.
func (t *tracker) observedDeletion(key, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if exp := t.expect[key]; exp != nil {
		delete(exp, name)
		if len(exp) == 0 {
			delete(t.expect, key)
		}
	}
}
