package replicaset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationsTTL is how long unobserved creates and deletes hold back a
// sync. After it the controller trusts its informer again, as Kubernetes
// does, so that a lost watch event cannot wedge a ReplicaSet forever.
const expectationsTTL = 5 * time.Minute

// expectation is what one controller key is still waiting to observe.
type expectation struct {
	owner types.UID           // the object the expectation was set for
	adds  int                 // pod creations not yet seen in the informer
	dels  map[string]struct{} // keys of pods whose deletion is not yet seen
	at    time.Time           // when the expectation was set
}

// expectations tracks, per controller key, the pod creations and
// deletions a sync issued and the informer has not reported yet. While any
// are pending the controller must not act on its (stale) pod cache, or it
// would create or delete the same pods twice. It is safe for concurrent
// use by workers and informer handlers.
type expectations struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*expectation
}

func newExpectations(now func() time.Time) *expectations {
	if now == nil {
		now = time.Now
	}
	return &expectations{now: now, m: map[string]*expectation{}}
}

// satisfied reports whether the controller may act for key: nothing is
// pending, the record is older than expectationsTTL, or it was set for a
// different object (one deleted and re-created under the same name).
func (e *expectations) satisfied(key string, owner types.UID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	switch {
	case !ok, x.owner != owner:
		return true
	case x.adds <= 0 && len(x.dels) == 0:
		return true
	default:
		return e.now().Sub(x.at) > expectationsTTL
	}
}

// expectCreations records that n pods are about to be created for key.
func (e *expectations) expectCreations(key string, owner types.UID, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{owner: owner, adds: n, dels: map[string]struct{}{}, at: e.now()}
}

// expectDeletions records that the pods with podKeys are about to be
// deleted for key.
func (e *expectations) expectDeletions(key string, owner types.UID, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	dels := make(map[string]struct{}, len(podKeys))
	for _, k := range podKeys {
		dels[k] = struct{}{}
	}
	e.m[key] = &expectation{owner: owner, dels: dels, at: e.now()}
}

// creationObserved lowers the pending creations of key by one, when the
// informer reports a new pod or a create is known to have failed.
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// deletionObserved forgets a pending deletion of podKey for key; a pod
// reported twice (terminating, then gone) counts once.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.dels, podKey)
	}
}

// forget drops everything recorded for key.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
