// Package nodelifecycle implements the node lifecycle controller and the
// taint eviction controller of Kubernetes.
//
// Nodes heartbeat through their Lease in kube-node-lease (and their Ready
// condition). A node whose heartbeat stops for GracePeriod has its
// conditions set to Unknown ("Kubelet stopped posting node status."), its
// pods marked not Ready, and gets the node.kubernetes.io/unreachable
// NoExecute taint (not-ready when Ready is False), at a rate limited per
// zone and never when every zone is down. Node conditions and
// spec.unschedulable are also mirrored as NoSchedule taints. The taints
// go when the node recovers.
//
// The eviction half deletes the pods of NoExecute-tainted nodes once
// their tolerations of the taints run out: at once without a matching
// toleration, after tolerationSeconds (counted from the taint's
// timeAdded) with one.
package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Defaults, as in Kubernetes 1.37's kube-controller-manager.
const (
	DefaultMonitorPeriod          = 5 * time.Second
	DefaultGracePeriod            = 50 * time.Second
	DefaultStartupGracePeriod     = time.Minute
	DefaultEvictionRate           = 0.1
	DefaultSecondaryEvictionRate  = 0.01
	DefaultLargeClusterThreshold  = 50
	DefaultUnhealthyZoneThreshold = 0.55
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder, if set, receives Kubernetes' events: NodeNotReady,
	// RegisteredNode, RemovingNode, TaintManagerEviction.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// MonitorPeriod is how often zone health is assessed (default 5s).
	MonitorPeriod time.Duration
	// GracePeriod is --node-monitor-grace-period: how long a node may go
	// without a heartbeat before it is Unknown (default 50s).
	GracePeriod time.Duration
	// StartupGracePeriod applies instead to a node that never posted a
	// status (default 1m).
	StartupGracePeriod time.Duration
	// EvictionRate and SecondaryEvictionRate are nodes per second per
	// zone that may be tainted for eviction, normally and in a partially
	// disrupted large zone (defaults 0.1 and 0.01).
	EvictionRate, SecondaryEvictionRate float32
	// LargeClusterSizeThreshold: a partially disrupted zone of at most
	// this many nodes gets no evictions (default 50).
	LargeClusterSizeThreshold int
	// UnhealthyZoneThreshold is the fraction of not Ready nodes (when
	// more than two) that makes a zone partially disrupted (default 0.55).
	UnhealthyZoneThreshold float32
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Controller runs node health monitoring and taint-based eviction.
type Controller struct {
	cfg    Config
	nodes  corelisters.NodeLister
	leases coordlisters.LeaseLister
	pods   corelisters.PodLister
	podIdx cache.Indexer
	synced []cache.InformerSynced

	health  *controller.Controller
	evictor *controller.Controller
	limits  limiters

	mu           sync.Mutex
	healths      map[string]nodeHealth
	allDisrupted bool
	seenDown     map[string]bool                 // nodes the last zone pass counted as not Ready
	taintSeen    map[string]map[string]time.Time // node -> NoExecute taint without timeAdded -> first seen
	scheduled    map[string]bool                 // pods with an eviction pending
}

// podNodeIndex indexes pods by spec.nodeName.
const podNodeIndex = "spec.nodeName"

// New returns the controller, registered with cfg.Informers (nodes,
// leases, pods); it adds a spec.nodeName index to the pod informer.
func New(cfg Config) (*Controller, error) {
	cfg.defaults()
	core := cfg.Informers.Core().V1()
	leaseInf := cfg.Informers.Coordination().V1().Leases()
	c := &Controller{
		cfg: cfg, nodes: core.Nodes().Lister(), leases: leaseInf.Lister(), pods: core.Pods().Lister(),
		podIdx: core.Pods().Informer().GetIndexer(), healths: map[string]nodeHealth{},
		taintSeen: map[string]map[string]time.Time{}, scheduled: map[string]bool{}, seenDown: map[string]bool{},
		limits: limiters{rate: cfg.EvictionRate, zones: map[string]*zoneLimiter{}},
	}
	if err := ensureNodeIndex(core.Pods().Informer()); err != nil {
		return nil, fmt.Errorf("nodelifecycle: %w", err)
	}
	var err error
	if c.health, err = controller.New(controller.Config{Name: "node-lifecycle", Reconciler: healthLoop{c}, Workers: 4, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	if c.evictor, err = controller.New(controller.Config{Name: "taint-eviction", Reconciler: evictionLoop{c}, Workers: 4, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	for _, w := range []struct {
		ctrl  *controller.Controller
		inf   cache.SharedIndexInformer
		keyOf func(interface{}) (string, bool)
	}{
		{c.health, core.Nodes().Informer(), nil},
		{c.health, leaseInf.Informer(), nodeLeaseKey},
		{c.health, core.Pods().Informer(), c.podOnUnhealthyNode},
		{c.evictor, core.Pods().Informer(), boundPodKey},
		{c.evictor, core.Nodes().Informer(), c.enqueueTaintedNodePods},
	} {
		if err := w.ctrl.Watch(w.inf, w.keyOf); err != nil {
			return nil, err
		}
	}
	c.synced = []cache.InformerSynced{core.Nodes().Informer().HasSynced, leaseInf.Informer().HasSynced, core.Pods().Informer().HasSynced}
	return c, nil
}

func (cfg *Config) defaults() {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MonitorPeriod == 0 {
		cfg.MonitorPeriod = DefaultMonitorPeriod
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.StartupGracePeriod == 0 {
		cfg.StartupGracePeriod = DefaultStartupGracePeriod
	}
	if cfg.EvictionRate == 0 {
		cfg.EvictionRate = DefaultEvictionRate
	}
	if cfg.SecondaryEvictionRate == 0 {
		cfg.SecondaryEvictionRate = DefaultSecondaryEvictionRate
	}
	if cfg.LargeClusterSizeThreshold == 0 {
		cfg.LargeClusterSizeThreshold = DefaultLargeClusterThreshold
	}
	if cfg.UnhealthyZoneThreshold == 0 {
		cfg.UnhealthyZoneThreshold = DefaultUnhealthyZoneThreshold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

// ensureNodeIndex adds the spec.nodeName pod index unless another
// controller sharing the informer already did.
func ensureNodeIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[podNodeIndex]; ok {
		return nil
	}
	return inf.AddIndexers(cache.Indexers{podNodeIndex: func(obj interface{}) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}})
}

// Run monitors nodes and evicts pods until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.health.Run(ctx) })
	g.Go(func() error { return c.evictor.Run(ctx) })
	g.Go(func() error { c.monitorZones(ctx); return nil })
	return g.Wait()
}

// monitorZones re-assesses zone health every MonitorPeriod, setting the
// tainting rates and entering or leaving master disruption mode.
func (c *Controller) monitorZones(ctx context.Context) {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	t := time.NewTicker(c.cfg.MonitorPeriod)
	defer t.Stop()
	for {
		c.zonePass()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Controller) zonePass() {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		c.cfg.Logger.Warn("listing nodes", "err", err)
		return
	}
	zones := computeZoneStates(nodes, c.cfg.UnhealthyZoneThreshold)
	all := allFullyDisrupted(zones)
	down := map[string]bool{}
	for _, n := range nodes {
		if !isReady(n) {
			down[n.Name] = true
		}
	}
	c.mu.Lock()
	was := c.allDisrupted
	c.allDisrupted = all
	var newlyDown []string
	for name := range down {
		if !c.seenDown[name] {
			newlyDown = append(newlyDown, name)
		}
	}
	c.seenDown = down
	if was && !all {
		// Leaving master disruption: give every node a fresh grace period.
		now := c.cfg.Now()
		for name, h := range c.healths {
			h.probe = now
			c.healths[name] = h
		}
	}
	c.mu.Unlock()
	for z, st := range zones {
		c.limits.set(z, zoneRate(st, &c.cfg))
	}
	for _, name := range newlyDown {
		c.health.Enqueue(name) // now it may be tainted for eviction
	}
	if was != all {
		if all {
			c.cfg.Logger.Info("every node is not Ready: entering master disruption mode, no evictions")
		} else {
			c.cfg.Logger.Info("some nodes are Ready: leaving master disruption mode")
		}
		for _, n := range nodes {
			c.health.Enqueue(n.Name)
		}
	}
}

// healthLoop and evictionLoop adapt the two halves to controller.Reconciler.
type healthLoop struct{ c *Controller }

func (h healthLoop) Reconcile(ctx context.Context, key string) error {
	return h.c.reconcileNode(ctx, key)
}

type evictionLoop struct{ c *Controller }

func (e evictionLoop) Reconcile(ctx context.Context, key string) error {
	return e.c.reconcilePod(ctx, key)
}

// nodeLeaseKey maps a node lease to its node.
func nodeLeaseKey(obj interface{}) (string, bool) {
	key, ok := controller.ObjectKey(obj)
	if !ok {
		return "", false
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || ns != corev1.NamespaceNodeLease {
		return "", false
	}
	return name, true
}

// podOnUnhealthyNode maps a pod to its node when that node is not Ready,
// so that pods arriving on a dead node are marked not Ready too.
func (c *Controller) podOnUnhealthyNode(obj interface{}) (string, bool) {
	pod := podOf(obj)
	if pod == nil || pod.Spec.NodeName == "" {
		return "", false
	}
	n, err := c.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		return "", false
	}
	if r := nodeCondition(n.Status.Conditions, corev1.NodeReady); r == nil || r.Status == corev1.ConditionTrue {
		return "", false
	}
	return n.Name, true
}

func boundPodKey(obj interface{}) (string, bool) {
	if pod := podOf(obj); pod == nil || pod.Spec.NodeName == "" {
		return "", false
	}
	return controller.ObjectKey(obj)
}

// enqueueTaintedNodePods queues the pods of a node carrying NoExecute
// taints for the evictor; it returns no key of its own.
func (c *Controller) enqueueTaintedNodePods(obj interface{}) (string, bool) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return "", false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			objs, _ := c.podIdx.ByIndex(podNodeIndex, n.Name)
			for _, o := range objs {
				if k, ok := controller.ObjectKey(o); ok {
					c.evictor.Enqueue(k)
				}
			}
			break
		}
	}
	return "", false
}

func podOf(obj interface{}) *corev1.Pod {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, _ := obj.(*corev1.Pod)
	return p
}
