package job

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// expectationTTL bounds how long a job waits for the pod cache to show its
// own writes before it acts on the cache as it is.
const expectationTTL = 5 * time.Minute

// expectations remember, per job key, the pod creations and deletions this
// controller issued and the finalizer removals it made, until the pod
// informer shows them. Until then a sync must not act on pod counts (it
// would create pods twice) or count a pod whose finalizer it already
// removed (it would count it twice).
type expectations struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*expected
}

type expected struct {
	adds     int
	since    time.Time
	dels     sets.Set[types.UID]
	removing sets.Set[types.UID]
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, m: map[string]*expected{}}
}

func (e *expectations) get(key string) *expected {
	x, ok := e.m[key]
	if !ok {
		x = &expected{dels: sets.New[types.UID](), removing: sets.New[types.UID]()}
		e.m[key] = x
	}
	return x
}

// expectCreations records that n creations are about to be issued.
func (e *expectations) expectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.adds += n
	x.since = e.now()
}

// expectDeletion records that a pod is about to be deleted.
func (e *expectations) expectDeletion(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.dels.Insert(uid)
	x.since = e.now()
}

// created records an observed (or failed) creation.
func (e *expectations) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// deleted records an observed (or failed) deletion of a pod.
func (e *expectations) deleted(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.dels.Delete(uid)
	}
}

// satisfied reports whether every creation and deletion was observed, or
// the oldest is too old to wait for.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok || (x.adds <= 0 && x.dels.Len() == 0) {
		return true
	}
	if e.now().Sub(x.since) > expectationTTL {
		x.adds = 0
		x.dels.Clear()
		return true
	}
	return false
}

// removingFinalizer records that the finalizer of these pods is being
// removed.
func (e *expectations) removingFinalizer(key string, uids ...types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(key).removing.Insert(uids...)
}

// finalizerGone records that the cache shows the pod without the finalizer
// (or gone), or that the removal failed.
func (e *expectations) finalizerGone(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.removing.Delete(uid)
	}
}

// removing returns a copy of the pods whose finalizer removal is not
// observed yet.
func (e *expectations) removing(key string) sets.Set[types.UID] {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		return x.removing.Clone()
	}
	return sets.New[types.UID]()
}

// forget drops everything known about a job.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
