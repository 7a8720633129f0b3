package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiff-io/skiff/internal/agent/overlay"
)

// Timing of the overlay loop: a full resync every 30 s (as flannel's
// periodic reconciliation, it repairs what someone else changed in the
// kernel), and failed syncs retried with exponential back-off.
const (
	overlayResync     = 30 * time.Second
	overlayBackoffMin = time.Second
	overlayBackoffMax = 30 * time.Second
)

// overlayApplier reconciles the kernel to a plan; *overlay.Applier in the
// agent.
type overlayApplier interface {
	Apply(overlay.Desired) (overlay.Status, error)
}

// overlayLoop keeps this node's annotations published and the kernel's
// routes to the other nodes' pod CIDRs in line with the Node list. It is
// level-triggered: every sync reads the whole list from the informer's
// cache and applies the full plan, whatever event woke it.
type overlayLoop struct {
	client  kubernetes.Interface
	self    overlay.NodeInfo
	mode    overlay.Mode
	applier overlayApplier
	// resync is the period of the unconditional sync (0: overlayResync).
	resync time.Duration
	log    *slog.Logger
	// patchedAt is the resourceVersion of the Node this loop last
	// patched: until the cache has a newer one, the patch is not repeated.
	patchedAt string
}

// run syncs until ctx ends; it returns nil then. In none mode it does
// nothing at all.
func (l *overlayLoop) run(ctx context.Context) error {
	if l.mode == overlay.ModeNone {
		return nil
	}
	resync := l.resync
	if resync <= 0 {
		resync = overlayResync
	}
	factory := informers.NewSharedInformerFactory(l.client, 0)
	nodes := factory.Core().V1().Nodes()
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { poke() },
		UpdateFunc: func(old, cur any) {
			o, _ := old.(*corev1.Node)
			c, _ := cur.(*corev1.Node)
			if overlayNodeChanged(o, c) {
				poke()
			}
		},
		DeleteFunc: func(any) { poke() },
	}); err != nil {
		return fmt.Errorf("overlay: node informer: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), nodes.Informer().HasSynced) {
		return nil // ctx ended
	}
	lister := nodes.Lister()
	ticker := time.NewTicker(resync)
	defer ticker.Stop()
	backoff := overlayBackoffMin
	for {
		var retry <-chan time.Time
		if err := l.sync(ctx, lister); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.log.Warn("overlay: sync failed, retrying", "err", err, "in", backoff)
			retry = time.After(backoff)
			backoff = min(2*backoff, overlayBackoffMax)
		} else {
			backoff = overlayBackoffMin
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-ticker.C:
		case <-retry:
		}
	}
}

// sync publishes this node's annotations when its Node lacks them and
// applies the plan for the current Node list.
func (l *overlayLoop) sync(ctx context.Context, lister corelisters.NodeLister) error {
	list, err := lister.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("overlay: listing nodes: %w", err)
	}
	var errs []error
	if err := l.publish(ctx, list); err != nil {
		errs = append(errs, err)
	}
	d := planOverlay(l.self, list, l.mode)
	st, err := l.applier.Apply(d)
	if err != nil {
		errs = append(errs, fmt.Errorf("overlay: applying plan: %w", err))
	}
	if st.Changes > 0 {
		l.log.Info("overlay: kernel state updated", "mode", l.mode, "peers", len(d.Routes), "device", d.Device != nil, "changes", st.Changes)
	}
	return errors.Join(errs...)
}

// publish patches this node's annotations when the cached Node differs
// from what it should carry. A Node not in the cache (being registered
// again) is left to the Add event that follows.
func (l *overlayLoop) publish(ctx context.Context, list []*corev1.Node) error {
	var self *corev1.Node
	for _, n := range list {
		if n.Name == l.self.Name {
			self = n
			break
		}
	}
	if self == nil || (l.patchedAt != "" && self.ResourceVersion == l.patchedAt) {
		return nil
	}
	patch, needed, err := overlayAnnotationPatch(self.Annotations, overlayAnnotations(l.self, l.mode), l.mode)
	if err != nil || !needed {
		return err
	}
	if _, err := l.client.CoreV1().Nodes().Patch(ctx, l.self.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("overlay: publishing annotations on node %s: %w", l.self.Name, err)
	}
	l.patchedAt = self.ResourceVersion
	l.log.Info("overlay: published node annotations", "node", l.self.Name, "patch", string(patch))
	return nil
}
