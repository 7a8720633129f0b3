package storage

import (
	"bytes"
	"sort"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// entry is one cached object. Cached objects are shared and never modified;
// callers that want to change one take a DeepCopy.
type entry struct {
	obj runtime.Object
	rev int64
}

// event is one change to a resource, kept for resuming watches.
type event struct {
	typ  watch.EventType
	obj  runtime.Object // new state; for deletions the last state
	prev runtime.Object // state before the change; nil for additions
	rev  int64
	// For watch.Error events (an object became unreadable), key is the
	// object's key below the resource prefix and err the API error; obj
	// and prev are nil.
	key string
	err error
}

// Resource stores one resource's objects. All methods are safe for
// concurrent use.
type Resource struct {
	s      *Store
	cfg    ResourceConfig
	prefix string // full key prefix ending in "/"

	mu    sync.RWMutex
	items map[string]*entry // by key below prefix
	// unreadable holds the keys whose stored value cannot be decrypted or
	// decoded, with the API error reads of them return.
	unreadable map[string]error
	events     []*event // ring buffer of recent events
	head       int      // index of the oldest event when full
	minRev     int64    // events after minRev are all in the buffer
	watchers   map[*watcher]struct{}
}

func newResource(s *Store, rc ResourceConfig, prefix string) *Resource {
	return &Resource{
		s:          s,
		cfg:        rc,
		prefix:     prefix,
		items:      map[string]*entry{},
		unreadable: map[string]error{},
		watchers:   map[*watcher]struct{}{},
	}
}

func (r *Resource) load(kvs []*mvccpb.KeyValue, rev int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, kv := range kvs {
		key := string(kv.Key[len(r.prefix):])
		obj, err := r.decode(kv)
		if err != nil {
			r.markUnreadable(key, err)
			continue
		}
		r.items[key] = &entry{obj: obj, rev: kv.ModRevision}
	}
}

func (r *Resource) setLoadedRev(rev int64) {
	r.mu.Lock()
	r.minRev = rev
	r.mu.Unlock()
}

// apply records one etcd event and forwards it to watchers. advance is
// called with the event's revision while the lock is held, so that a reader
// holding the lock never sees a store revision older than the cache.
func (r *Resource) apply(ev *clientv3.Event, advance func(int64)) {
	key := string(ev.Kv.Key[len(r.prefix):])
	rev := ev.Kv.ModRevision
	r.mu.Lock()
	defer r.mu.Unlock()
	defer advance(rev)
	old := r.items[key]
	switch ev.Type {
	case clientv3.EventTypePut:
		obj, err := r.decode(ev.Kv)
		if err != nil {
			r.becameUnreadable(key, rev, err)
			return
		}
		delete(r.unreadable, key)
		r.items[key] = &entry{obj: obj, rev: rev}
		e := &event{typ: watch.Added, obj: obj, rev: rev}
		if old != nil {
			e.typ, e.prev = watch.Modified, old.obj
		}
		r.record(e)
	case clientv3.EventTypeDelete:
		delete(r.unreadable, key)
		if old == nil {
			return
		}
		delete(r.items, key)
		last := old.obj.DeepCopyObject()
		_ = setRV(last, rev)
		r.record(&event{typ: watch.Deleted, obj: last, prev: old.obj, rev: rev})
	}
}

// resync replaces the cache with kvs read at rev, recording the differences
// as events.
func (r *Resource) resync(kvs []*mvccpb.KeyValue, rev int64, advance func(int64)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer advance(rev)
	seen := map[string]bool{}
	for _, kv := range kvs {
		key := string(kv.Key[len(r.prefix):])
		seen[key] = true
		old := r.items[key]
		if old != nil && old.rev == kv.ModRevision {
			continue
		}
		obj, err := r.decode(kv)
		if err != nil {
			if _, known := r.unreadable[key]; !known {
				r.becameUnreadable(key, rev, err)
			}
			continue
		}
		delete(r.unreadable, key)
		r.items[key] = &entry{obj: obj, rev: kv.ModRevision}
		e := &event{typ: watch.Added, obj: obj, rev: rev}
		if old != nil {
			e.typ, e.prev = watch.Modified, old.obj
		}
		r.record(e)
	}
	for key := range r.unreadable {
		if !seen[key] {
			delete(r.unreadable, key)
		}
	}
	for key, old := range r.items {
		if seen[key] {
			continue
		}
		delete(r.items, key)
		last := old.obj.DeepCopyObject()
		_ = setRV(last, rev)
		r.record(&event{typ: watch.Deleted, obj: last, prev: old.obj, rev: rev})
	}
}

// markUnreadable records that the value at key (below the prefix) cannot
// be read. Called with r.mu held.
func (r *Resource) markUnreadable(key string, err error) {
	r.s.log.Error("stored object cannot be decrypted or decoded; reads of it fail until it is rewritten or deleted",
		"key", r.prefix+key, "err", err)
	r.unreadable[key] = err
}

// becameUnreadable handles a write at rev that cannot be read: the object
// leaves the cache and watchers get an ERROR event, so that clients relist
// and see the failure rather than silently keeping the previous state.
// Called with r.mu held.
func (r *Resource) becameUnreadable(key string, rev int64, err error) {
	r.markUnreadable(key, err)
	delete(r.items, key)
	r.record(&event{typ: watch.Error, key: key, err: err, rev: rev})
}

// unreadableUnder returns the error of the first unreadable object whose
// key (below the resource prefix) starts with keyPrefix, or nil. Lists
// covering such an object fail as in Kubernetes, rather than omit it.
// Called with r.mu held.
func (r *Resource) unreadableUnder(keyPrefix string) error {
	first := ""
	for k := range r.unreadable {
		if strings.HasPrefix(k, keyPrefix) && (first == "" || k < first) {
			first = k
		}
	}
	if first == "" {
		return nil
	}
	return r.unreadable[first]
}

// record appends e to the ring buffer and hands it to watchers. Called with
// r.mu held.
func (r *Resource) record(e *event) {
	window := r.s.cfg.EventWindow
	if len(r.events) < window {
		r.events = append(r.events, e)
	} else {
		r.minRev = r.events[r.head].rev
		r.events[r.head] = e
		r.head = (r.head + 1) % window
	}
	for w := range r.watchers {
		if !w.offer(e) {
			delete(r.watchers, w)
		}
	}
}

// eventsAfter returns the buffered events with a revision above rev, oldest
// first, and false when some of them are no longer buffered. Called with
// r.mu held.
func (r *Resource) eventsAfter(rev int64) ([]*event, bool) {
	if rev < r.minRev {
		return nil, false
	}
	n := len(r.events)
	// Events are in revision order starting at head; find the first one
	// after rev by binary search over the ring.
	at := func(i int) *event { return r.events[(r.head+i)%n] }
	i := sort.Search(n, func(i int) bool { return at(i).rev > rev })
	out := make([]*event, 0, n-i)
	for ; i < n; i++ {
		out = append(out, at(i))
	}
	return out, true
}

// snapshot returns the cached entries under keyPrefix (relative to the
// resource prefix) that match pred, sorted by key. Called with r.mu held.
func (r *Resource) snapshot(keyPrefix string, pred Predicate) []runtime.Object {
	keys := make([]string, 0, len(r.items))
	for k := range r.items {
		if len(keyPrefix) == 0 || (len(k) >= len(keyPrefix) && k[:len(keyPrefix)] == keyPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		obj := r.items[k].obj
		if pred.Matches(obj) {
			out = append(out, obj)
		}
	}
	return out
}

// cached returns the cached object at key (relative), or nil.
func (r *Resource) cached(key string) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.items[key]
}

// cachedOrError returns the cached object at key (relative); nil and the
// read error when the stored value is unreadable; nil, nil when absent.
func (r *Resource) cachedOrError(key string) (*entry, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := r.unreadable[key]; err != nil {
		return nil, err
	}
	return r.items[key], nil
}

// sameBytes reports whether two encodings are equal; used to skip no-op
// updates.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }
