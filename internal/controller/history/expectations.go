package history

import (
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Expectations remembers, per owner key, the dependents a controller has
// created or deleted that its informer cache may not show yet, so that a
// sync working from a stale cache does not create or delete twice. It is
// safe for concurrent use.
type Expectations struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]*pending
}

type pending struct {
	creates map[string]bool
	deletes map[string]types.UID
	since   time.Time
}

// NewExpectations returns empty expectations; one not met within ttl is
// given up (a lost event must not block its owner forever).
func NewExpectations(ttl time.Duration) *Expectations {
	return &Expectations{ttl: ttl, now: time.Now, m: map[string]*pending{}}
}

func (e *Expectations) entry(key string) *pending {
	p := e.m[key]
	if p == nil {
		p = &pending{creates: map[string]bool{}, deletes: map[string]types.UID{}}
		e.m[key] = p
	}
	p.since = e.now()
	return p
}

// ExpectCreate records that owner key created the dependent name.
func (e *Expectations) ExpectCreate(key, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.entry(key).creates[name] = true
}

// ExpectDelete records that owner key deleted dependent name with uid.
func (e *Expectations) ExpectDelete(key, name string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.entry(key).deletes[name] = uid
}

// Lookup returns the cached dependent called name, or nil.
type Lookup func(name string) metav1.Object

// Satisfied reports whether the cache, read through lookup, shows every
// write recorded for key: each created dependent present, each deleted
// one gone, replaced or terminating. Met expectations are forgotten.
func (e *Expectations) Satisfied(key string, lookup Lookup) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.m[key]
	if p == nil {
		return true
	}
	for name := range p.creates {
		if lookup(name) != nil {
			delete(p.creates, name)
		}
	}
	for name, uid := range p.deletes {
		if o := lookup(name); o == nil || o.GetUID() != uid || o.GetDeletionTimestamp() != nil {
			delete(p.deletes, name)
		}
	}
	if len(p.creates) == 0 && len(p.deletes) == 0 || e.now().Sub(p.since) > e.ttl {
		delete(e.m, key)
		return true
	}
	return false
}

// Forget drops what was recorded for key (e.g. its owner is gone).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
