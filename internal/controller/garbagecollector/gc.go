// Package garbagecollector implements the garbage collector: it watches
// the metadata of every deletable resource (found through discovery and
// refreshed periodically), keeps a graph of owner references, and
//   - deletes objects whose owners are all gone (background deletion);
//   - deletes the dependents of an owner being deleted in the foreground
//     (finalizer foregroundDeletion) and removes the finalizer once the
//     dependents that block it (blockOwnerDeletion) are gone;
//   - orphans the dependents of an owner deleted with the "orphan"
//     finalizer (removes their references to it), then the finalizer.
//
// An owner counts as gone when no object of its name and UID exists where
// the reference may point: in the dependent's namespace for a namespaced
// owner, at cluster scope for a cluster-scoped one.
package garbagecollector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/record"
)

// Config configures the collector.
type Config struct {
	// Client is used for discovery.
	Client kubernetes.Interface
	// Metadata reads, watches, patches and deletes objects of any
	// resource.
	Metadata metadata.Interface
	// Recorder receives OwnerRefInvalidNamespace warnings (optional).
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of objects processed at once (default 10).
	Workers int
	// DiscoveryInterval is how often new and removed resources are
	// picked up (default 30s).
	DiscoveryInterval time.Duration
	// SyncTimeout bounds the wait for a new resource's cache (default
	// 30s).
	SyncTimeout time.Duration
	// Ignored resources are never watched or collected (default: core
	// and events.k8s.io events, as in Kubernetes).
	Ignored []schema.GroupResource
}

// Controller is the garbage collector.
type Controller struct {
	cfg     Config
	ctrl    *controller.Controller
	graph   *graph
	ignored map[string]bool // GroupResource strings
	absent  *absentCache

	// pause is held for reading by every Reconcile and for writing while
	// new monitors sync.
	pause sync.RWMutex

	mu       sync.RWMutex
	kinds    map[schema.GroupKind]kindInfo
	monitors map[schema.GroupResource]*monitor
}

// New returns the collector. It does no I/O; Run discovers resources.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Metadata == nil {
		return nil, fmt.Errorf("garbagecollector: Client and Metadata are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.DiscoveryInterval <= 0 {
		cfg.DiscoveryInterval = 30 * time.Second
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = 30 * time.Second
	}
	if cfg.Ignored == nil {
		cfg.Ignored = []schema.GroupResource{{Group: "", Resource: "events"}, {Group: "events.k8s.io", Resource: "events"}}
	}
	c := &Controller{cfg: cfg, graph: newGraph(), ignored: map[string]bool{},
		absent: newAbsentCache(10000), kinds: map[schema.GroupKind]kindInfo{}, monitors: map[schema.GroupResource]*monitor{}}
	for _, gr := range cfg.Ignored {
		c.ignored[gr.String()] = true
	}
	ctrl, err := controller.New(controller.Config{Name: "garbagecollector", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// Run discovers the resources, waits for their caches, then collects
// until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	for {
		err := c.resync(ctx)
		if err == nil {
			break
		}
		c.cfg.Logger.Warn("discovering resources to collect", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	go c.runDiscovery(ctx)
	return c.ctrl.Run(ctx)
}

// Reconcile implements controller.Reconciler; the key is an object UID.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	c.pause.RLock()
	defer c.pause.RUnlock()
	n, ok := c.graph.get(types.UID(key))
	if !ok {
		return nil // deleted: its dependents were queued then
	}
	switch {
	case n.orphaning():
		return c.orphanDependents(ctx, n)
	case n.deletingDependents():
		return c.deleteDependents(ctx, n)
	case n.deleting || len(n.owners) == 0:
		return nil
	}
	return c.collect(ctx, n)
}

// orphanDependents removes references to an owner deleted with the
// orphan finalizer from all its dependents, then the finalizer.
func (c *Controller) orphanDependents(ctx context.Context, owner *node) error {
	for _, d := range c.graph.dependentsOf(owner.uid) {
		if err := c.removeRefs(ctx, d, []types.UID{owner.uid}); err != nil {
			return fmt.Errorf("orphaning %s: %w", describe(d), err)
		}
	}
	return c.removeFinalizer(ctx, owner, metav1.FinalizerOrphanDependents)
}

// deleteDependents drives a foreground deletion: every dependent is
// queued (it sees its owner waiting and is deleted), and once no
// dependent blocks the owner its finalizer is removed.
func (c *Controller) deleteDependents(ctx context.Context, owner *node) error {
	deps := c.graph.dependentsOf(owner.uid)
	for _, d := range deps {
		if !d.deleting {
			c.ctrl.Enqueue(string(d.uid))
		}
	}
	if len(blocking(owner.uid, deps)) > 0 {
		// Their deletions (or changed references) queue the owner again.
		return nil
	}
	return c.removeFinalizer(ctx, owner, metav1.FinalizerDeleteDependents)
}

// collect decides on a dependent: first from the caches, then, when
// something is to be done, again from the live object and live owner
// look-ups, so that a lagging cache never gets anything deleted.
func (c *Controller) collect(ctx context.Context, n *node) error {
	verdicts, err := c.classify(ctx, n, false)
	if err != nil {
		return err
	}
	act := decide(c.dependentInfo(n), verdicts)
	if act.kind == actNone {
		return c.retryUnresolved(verdicts)
	}
	live, err := c.getLive(ctx, n)
	if err != nil || live == nil {
		return err
	}
	if live.deleting {
		return nil // someone is deleting it already
	}
	verdicts, err = c.classify(ctx, live, true)
	if err != nil {
		return err
	}
	act = decide(c.dependentInfo(live), verdicts)
	switch act.kind {
	case actRemoveRefs:
		c.cfg.Logger.Debug("removing references to deleted owners", "object", describe(live), "owners", act.remove)
		return c.removeRefs(ctx, live, act.remove)
	case actDelete:
		if act.unblock {
			if err := c.unblock(ctx, live); err != nil {
				return err
			}
		}
		c.cfg.Logger.Debug("deleting object whose owners are gone", "object", describe(live), "propagation", act.policy)
		return c.deleteObject(ctx, live, act.policy)
	}
	return c.retryUnresolved(verdicts)
}

// retryUnresolved asks for an object with owners of unknown kinds to be
// looked at again after the next discovery refresh.
func (c *Controller) retryUnresolved(verdicts []verdict) error {
	for _, v := range verdicts {
		if v.state == ownerUnresolvable {
			if _, known := c.lookupKind(v.ref.APIVersion, v.ref.Kind); !known {
				return controller.RequeueAfter(c.cfg.DiscoveryInterval)
			}
		}
	}
	return nil
}

func (c *Controller) dependentInfo(n *node) dependentInfo {
	deps := c.graph.dependentsOf(n.uid)
	info := dependentInfo{finalizers: n.finalizers, hasDependents: len(deps) > 0}
	for _, d := range deps {
		if d.deletingDependents() {
			info.dependentWaits = true
		}
	}
	return info
}

// classify finds the state of each owner of n. With verify false it
// trusts the caches; with verify true an owner the cache misses is looked
// up on the server before being called dangling.
func (c *Controller) classify(ctx context.Context, n *node, verify bool) ([]verdict, error) {
	out := make([]verdict, 0, len(n.owners))
	for _, ref := range n.owners {
		state, err := c.ownerState(ctx, n, ref, verify)
		if err != nil {
			return nil, err
		}
		out = append(out, verdict{ref: ref, state: state})
	}
	return out, nil
}

func (c *Controller) ownerState(ctx context.Context, n *node, ref metav1.OwnerReference, verify bool) (ownerState, error) {
	kind, ok := c.lookupKind(ref.APIVersion, ref.Kind)
	if !ok {
		return ownerUnresolvable, nil
	}
	if kind.namespaced && n.namespace == "" {
		c.reportInvalidNamespace(n, ref)
		return ownerUnresolvable, nil
	}
	namespace := ""
	if kind.namespaced {
		namespace = n.namespace
	}
	if c.absent.has(ref.UID, namespace) {
		return ownerDangling, nil
	}
	obj, monitored := c.cached(kind.gvr.GroupResource(), namespace, ref.Name)
	if obj != nil && obj.UID == ref.UID {
		return ownerStateOf(obj.DeletionTimestamp != nil, obj.Finalizers), nil
	}
	if kind.namespaced {
		if other, ok := c.graph.get(ref.UID); ok && other.namespace != namespace {
			// The owner exists, but in another namespace: the
			// reference is invalid and counts as dangling.
			c.reportInvalidNamespace(n, ref)
			return ownerDangling, nil
		}
	}
	if monitored && !verify {
		return ownerDangling, nil
	}
	live, err := c.cfg.Metadata.Resource(kind.gvr).Namespace(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case isNotFound(err):
		c.absent.add(ref.UID, namespace)
		return ownerDangling, nil
	case err != nil:
		return 0, fmt.Errorf("looking up owner %s %s of %s: %w", ref.Kind, ref.Name, describe(n), err)
	case live.UID != ref.UID:
		c.absent.add(ref.UID, namespace)
		return ownerDangling, nil
	}
	return ownerStateOf(live.DeletionTimestamp != nil, live.Finalizers), nil
}

// reportInvalidNamespace emits Kubernetes' OwnerRefInvalidNamespace
// warning about a dependent.
func (c *Controller) reportInvalidNamespace(n *node, ref metav1.OwnerReference) {
	c.cfg.Logger.Info("owner reference does not resolve in the dependent's namespace", "object", describe(n), "owner", ref.Name)
	if c.cfg.Recorder == nil {
		return
	}
	obj := &corev1.ObjectReference{Kind: n.kind, APIVersion: n.apiVersion, Namespace: n.namespace, Name: n.name, UID: n.uid}
	c.cfg.Recorder.Eventf(obj, corev1.EventTypeWarning, "OwnerRefInvalidNamespace",
		"ownerRef [%s/%s, namespace: %s, name: %s, uid: %s] does not exist in namespace %q",
		ref.APIVersion, ref.Kind, n.namespace, ref.Name, ref.UID, n.namespace)
}

func describe(n *node) string {
	if n.namespace == "" {
		return fmt.Sprintf("%s %s", n.gvr.Resource, n.name)
	}
	return fmt.Sprintf("%s %s/%s", n.gvr.Resource, n.namespace, n.name)
}
