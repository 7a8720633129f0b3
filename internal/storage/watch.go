package storage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// WatchOptions selects the events a watch delivers.
type WatchOptions struct {
	Namespace string
	Predicate Predicate
	// ResourceVersion: "" sends the current state (consistently read) as
	// ADDED events and then changes; "0" does the same from the cache
	// without waiting; a revision sends every change after it.
	ResourceVersion string
	// SendInitialEvents sends the state at ResourceVersion (or the current
	// one) as ADDED events, then a bookmark marking their end.
	SendInitialEvents bool
	// Bookmarks asks for BOOKMARK events: every BookmarkInterval while
	// the watch is idle, and once shortly before Deadline (when set), so
	// that a client can resume from a recent resourceVersion.
	Bookmarks bool
	Deadline  time.Time
}

// BookmarkInterval is how often an idle watch that allows bookmarks gets
// one.
const BookmarkInterval = 30 * time.Second

// bookmarkLead is how long before a watch's deadline its last bookmark is
// sent.
const bookmarkLead = 2 * time.Second

// Event is a watch event. Object is shared and must not be modified.
type Event struct {
	Type   watch.EventType
	Object runtime.Object
	// Revision is the event's revision. For the bookmark that ends initial
	// events Object is nil.
	Revision int64
	// InitialEventsEnd marks the bookmark that follows the initial events.
	InitialEventsEnd bool
	// Err is set on a single ERROR event (e.g. 410 Gone).
	Err error
}

// watchBuffer is how many events may wait for a slow watcher before it is
// dropped (the client then resumes from its last resourceVersion).
const watchBuffer = 1024

type watcher struct {
	r       *Resource
	pred    Predicate
	nsPref  string
	ch      chan *event
	once    sync.Once
	dropped chan struct{}
}

// offer queues e for the watcher. It returns false when the watcher has
// fallen too far behind and must be dropped. Called with r.mu held.
func (w *watcher) offer(e *event) bool {
	select {
	case w.ch <- e:
		return true
	default:
		w.once.Do(func() { close(w.dropped) })
		return false
	}
}

// Watch streams events until ctx ends or the watcher falls behind, after
// which the returned channel is closed.
func (r *Resource) Watch(ctx context.Context, opts WatchOptions) (<-chan Event, error) {
	rv, err := ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	initial := opts.SendInitialEvents || opts.ResourceVersion == "" || opts.ResourceVersion == "0"
	switch {
	case opts.ResourceVersion == "":
		if err := r.s.waitFresh(ctx); err != nil {
			return nil, waitError(err, rv)
		}
	case rv > 0:
		if err := r.s.waitFor(ctx, rv, tooLargeWait); err != nil {
			return nil, waitError(err, rv)
		}
	}
	w := &watcher{r: r, pred: opts.Predicate, nsPref: r.namespacePrefix(opts.Namespace),
		ch: make(chan *event, watchBuffer), dropped: make(chan struct{})}

	var (
		snapshot []runtime.Object
		replay   []*event
		startRev int64
	)
	r.mu.Lock()
	startRev = r.s.Revision()
	if initial {
		if err := r.unreadableUnder(w.nsPref); err != nil {
			r.mu.Unlock()
			return nil, err
		}
		snapshot = r.snapshot(w.nsPref, opts.Predicate)
	} else {
		var ok bool
		if replay, ok = r.eventsAfter(rv); !ok {
			minRev := r.minRev
			r.mu.Unlock()
			out := make(chan Event, 1)
			out <- Event{Type: watch.Error, Err: apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, minRev+1))}
			close(out)
			return out, nil
		}
	}
	r.watchers[w] = struct{}{}
	r.mu.Unlock()

	out := make(chan Event, 64)
	go w.run(ctx, out, snapshot, replay, startRev, opts)
	return out, nil
}

func (w *watcher) stop() {
	w.r.mu.Lock()
	delete(w.r.watchers, w)
	w.r.mu.Unlock()
}

func (w *watcher) run(ctx context.Context, out chan<- Event, snapshot []runtime.Object, replay []*event, startRev int64, opts WatchOptions) {
	bookmarkEnd := opts.SendInitialEvents
	defer close(out)
	defer w.stop()
	send := func(e Event) bool {
		select {
		case out <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, obj := range snapshot {
		if !send(Event{Type: watch.Added, Object: obj, Revision: startRev}) {
			return
		}
	}
	if bookmarkEnd && !send(Event{Type: watch.Bookmark, Revision: startRev, InitialEventsEnd: true}) {
		return
	}
	for _, e := range replay {
		if ev, ok := w.filter(e); ok && (!send(ev) || ev.Type == watch.Error) {
			return
		}
	}
	var tick, last <-chan time.Time
	if opts.Bookmarks {
		t := time.NewTicker(BookmarkInterval)
		defer t.Stop()
		tick = t.C
		if !opts.Deadline.IsZero() {
			lt := time.NewTimer(time.Until(opts.Deadline.Add(-bookmarkLead)))
			defer lt.Stop()
			last = lt.C
		}
	}
	for {
		select {
		case e := <-w.ch:
			if ev, ok := w.filter(e); ok && (!send(ev) || ev.Type == watch.Error) {
				return
			}
		case <-tick:
			if rev, ok := w.idleRevision(); ok && !send(Event{Type: watch.Bookmark, Revision: rev}) {
				return
			}
		case <-last:
			if rev, ok := w.idleRevision(); ok && !send(Event{Type: watch.Bookmark, Revision: rev}) {
				return
			}
		case <-w.dropped:
			// Drain what was queued before the drop, then end.
			for {
				select {
				case e := <-w.ch:
					if ev, ok := w.filter(e); ok && (!send(ev) || ev.Type == watch.Error) {
						return
					}
				default:
					return
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// idleRevision returns the revision up to which this watcher has been
// sent every event, when nothing is queued for it. The dispatcher queues
// under the resource lock before advancing the store revision, so an empty
// queue under the lock means every event up to that revision went out.
func (w *watcher) idleRevision() (int64, bool) {
	w.r.mu.RLock()
	defer w.r.mu.RUnlock()
	if len(w.ch) > 0 {
		return 0, false
	}
	return w.r.s.Revision(), true
}

// filter turns a cache event into what this watcher sees: objects entering
// or leaving the selection appear as additions and deletions.
func (w *watcher) filter(e *event) (Event, bool) {
	if e.typ == watch.Error {
		// An object became unreadable: the watch ends with the error
		// (clients relist) unless the object is outside its namespace.
		if w.nsPref != "" && !strings.HasPrefix(e.key, w.nsPref) {
			return Event{}, false
		}
		return Event{Type: watch.Error, Revision: e.rev, Err: e.err}, true
	}
	if w.nsPref != "" && !w.inNamespace(e.obj) {
		return Event{}, false
	}
	cur := e.typ != watch.Deleted && w.pred.Matches(e.obj)
	prev := e.prev != nil && w.pred.Matches(e.prev)
	switch {
	case e.typ == watch.Deleted && prev:
		return Event{Type: watch.Deleted, Object: e.obj, Revision: e.rev}, true
	case e.typ == watch.Deleted:
		return Event{}, false
	case cur && prev:
		return Event{Type: watch.Modified, Object: e.obj, Revision: e.rev}, true
	case cur:
		return Event{Type: watch.Added, Object: e.obj, Revision: e.rev}, true
	case prev:
		return Event{Type: watch.Deleted, Object: e.obj, Revision: e.rev}, true
	}
	return Event{}, false
}

func (w *watcher) inNamespace(obj runtime.Object) bool {
	ns := w.nsPref[:len(w.nsPref)-1]
	if m, ok := obj.(interface{ GetNamespace() string }); ok {
		return m.GetNamespace() == ns
	}
	return false
}
