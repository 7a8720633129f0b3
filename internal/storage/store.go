// Package storage keeps API objects in etcd, one key per object, and serves
// reads and watches from an in-memory cache fed by a single etcd watch.
//
// Keys are <prefix>/<group or "core">/<resource>/[<namespace>/]<name>. An
// object's resourceVersion is the etcd revision that last wrote its key. One
// watch on the whole prefix feeds every resource's cache in revision order, so
// the store always knows the revision up to which all caches are complete;
// consistent reads wait for that revision instead of going to etcd.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Config configures a Store.
type Config struct {
	Client *clientv3.Client
	// Prefix of every key, e.g. "/registry".
	Prefix string
	// EventWindow is how many recent events each resource keeps so that
	// watches can resume from an older resourceVersion. Default 10000.
	EventWindow int
	// CompactInterval is how often etcd's history is compacted; each
	// compaction keeps one interval of history. Zero means 5 minutes;
	// negative disables compaction.
	CompactInterval time.Duration
	Logger          *slog.Logger
	// TransformerFor, when set, gives the Transformer of every registered
	// resource whose ResourceConfig has none (nil: stored as is). It lets
	// encryption at rest cover resources registered by other packages.
	TransformerFor func(schema.GroupResource) Transformer
}

// Store is the etcd-backed object store. Register every resource, then Run.
type Store struct {
	cfg       Config
	client    *clientv3.Client
	log       *slog.Logger
	resources map[string]*Resource // by "<group>/<resource>" path segment

	revMu      sync.Mutex
	rev        int64         // every cache is complete up to this revision
	revChanged chan struct{} // closed and replaced whenever rev grows

	ready chan struct{}
	// watchCtx is the context of the etcd watch; progress requests must use
	// the same context to reach the same watch stream.
	watchCtx context.Context
}

// New returns a Store that uses cfg.Client.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("storage: no etcd client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/registry"
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	if cfg.EventWindow <= 0 {
		cfg.EventWindow = 10000
	}
	if cfg.CompactInterval == 0 {
		cfg.CompactInterval = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Store{
		cfg:        cfg,
		client:     cfg.Client,
		log:        cfg.Logger,
		resources:  map[string]*Resource{},
		revChanged: make(chan struct{}),
		ready:      make(chan struct{}),
	}, nil
}

// ResourceConfig describes a resource's storage.
type ResourceConfig struct {
	GroupResource schema.GroupResource
	// Kind is the group/version/kind objects are stored as.
	Kind       schema.GroupVersionKind
	New        func() runtime.Object
	Namespaced bool
	// Transformer, when set, transforms every value written to and read
	// from etcd (encryption at rest); nil stores the JSON encoding as is.
	Transformer Transformer
}

// Register adds a resource. It must be called before Run; registering the
// same group/resource twice returns the first registration.
func (s *Store) Register(rc ResourceConfig) *Resource {
	seg := storageSegment(rc.GroupResource)
	if r, ok := s.resources[seg]; ok {
		return r
	}
	if rc.Transformer == nil && s.cfg.TransformerFor != nil {
		rc.Transformer = s.cfg.TransformerFor(rc.GroupResource)
	}
	r := newResource(s, rc, s.cfg.Prefix+"/"+seg+"/")
	s.resources[seg] = r
	return r
}

func storageSegment(gr schema.GroupResource) string {
	g := gr.Group
	if g == "" {
		g = "core"
	}
	return g + "/" + gr.Resource
}

// Ready is closed once every cache holds the initial state of etcd.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// Run loads every registered resource from etcd, then follows changes until
// ctx ends.
func (s *Store) Run(ctx context.Context) error {
	rev, err := s.load(ctx)
	if err != nil {
		return err
	}
	s.watchCtx = ctx
	close(s.ready)
	if s.cfg.CompactInterval > 0 {
		go s.compactLoop(ctx)
	}
	for ctx.Err() == nil {
		rev, err = s.follow(ctx, rev)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			// We fell behind the compaction: reload and diff so that
			// watchers still see every change as an event.
			s.log.Warn("storage watch compacted; resynchronising", "rev", rev)
			if rev, err = s.resync(ctx); err == nil {
				continue
			}
		}
		s.log.Error("storage watch failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// load reads every key under the prefix at one revision into the caches.
func (s *Store) load(ctx context.Context) (int64, error) {
	state, rev, err := s.readAll(ctx)
	if err != nil {
		return 0, err
	}
	for seg, kvs := range state {
		if r := s.resources[seg]; r != nil {
			r.load(kvs, rev)
		}
	}
	for _, r := range s.resources {
		r.setLoadedRev(rev)
	}
	s.advance(rev)
	return rev, nil
}

// readAll returns every key under the prefix grouped by resource segment.
func (s *Store) readAll(ctx context.Context) (map[string][]*mvccpb.KeyValue, int64, error) {
	const page = 5000
	prefix := s.cfg.Prefix + "/"
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := prefix
	var rev int64
	state := map[string][]*mvccpb.KeyValue{}
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.client.Get(ctx, key, opts...)
		if err != nil {
			return nil, 0, fmt.Errorf("reading %s from etcd: %w", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if seg, _, ok := s.splitKey(string(kv.Key)); ok {
				state[seg] = append(state[seg], kv)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return state, rev, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// splitKey splits a full key into its resource segment and the object part
// ("ns/name" or "name").
func (s *Store) splitKey(key string) (seg, rest string, ok bool) {
	k, ok := strings.CutPrefix(key, s.cfg.Prefix+"/")
	if !ok {
		return "", "", false
	}
	parts := strings.SplitN(k, "/", 3)
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0] + "/" + parts[1], parts[2], true
}

// follow streams etcd events from rev+1 into the caches and returns the last
// revision seen when the stream ends.
func (s *Store) follow(ctx context.Context, rev int64) (int64, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := s.client.Watch(wctx, s.cfg.Prefix+"/", clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithProgressNotify())
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return rev, err
		}
		for _, ev := range resp.Events {
			s.dispatch(ev)
			rev = ev.Kv.ModRevision
		}
		if resp.IsProgressNotify() && resp.Header.Revision > rev {
			rev = resp.Header.Revision
			s.advance(rev)
		}
	}
	return rev, ctx.Err()
}

func (s *Store) dispatch(ev *clientv3.Event) {
	key := string(ev.Kv.Key)
	seg, _, ok := s.splitKey(key)
	r := s.resources[seg]
	if !ok || r == nil {
		s.advance(ev.Kv.ModRevision)
		return
	}
	r.apply(ev, s.advance)
}

// resync reloads everything after a compacted watch and turns the
// differences into events.
func (s *Store) resync(ctx context.Context) (int64, error) {
	state, rev, err := s.readAll(ctx)
	if err != nil {
		return 0, err
	}
	for seg, r := range s.resources {
		r.resync(state[seg], rev, s.advance)
	}
	s.advance(rev)
	return rev, nil
}

// advance records that every cache is complete up to rev.
func (s *Store) advance(rev int64) {
	s.revMu.Lock()
	if rev > s.rev {
		s.rev = rev
		close(s.revChanged)
		s.revChanged = make(chan struct{})
	}
	s.revMu.Unlock()
}

// Revision returns the revision up to which the caches are complete.
func (s *Store) Revision() int64 {
	s.revMu.Lock()
	defer s.revMu.Unlock()
	return s.rev
}

// currentRevision asks etcd for its current revision (a linearizable read).
func (s *Store) currentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, s.cfg.Prefix+"/", clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if err != nil {
		return 0, fmt.Errorf("reading etcd revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// errTooLarge is returned by waitFor when the caches do not reach a
// revision in time.
var errTooLarge = errors.New("revision not reached")

// waitFor blocks until the caches are complete up to rev or timeout passes.
func (s *Store) waitFor(ctx context.Context, rev int64, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	progress := time.NewTimer(5 * time.Millisecond)
	defer progress.Stop()
	for {
		s.revMu.Lock()
		cur, changed := s.rev, s.revChanged
		s.revMu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-changed:
		case <-progress.C:
			// Nothing arrived: the newest writes may be under other
			// prefixes. A progress notification moves us forward.
			if s.watchCtx != nil {
				_ = s.client.RequestProgress(s.watchCtx)
			}
			progress.Reset(50 * time.Millisecond)
		case <-deadline.C:
			return errTooLarge
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitFresh waits until the caches reflect every write etcd acknowledged
// before the call.
func (s *Store) waitFresh(ctx context.Context) error {
	rev, err := s.currentRevision(ctx)
	if err != nil {
		return err
	}
	return s.waitFor(ctx, rev, 10*time.Second)
}

// compactLoop compacts etcd's history to the revision seen one interval ago.
func (s *Store) compactLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.CompactInterval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if last > 0 {
			if _, err := s.client.Compact(ctx, last); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
				s.log.Warn("etcd compaction failed", "rev", last, "err", err)
			}
		}
		last = s.Revision()
	}
}
