// Package nodeipam implements node IPAM: every Node gets spec.podCIDR (and
// spec.podCIDRs, one per IP family) carved out of the cluster CIDR. The
// allocation map is rebuilt from the nodes themselves, so it survives
// restarts, and a deleted node's CIDRs become free again.
package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
)

// Defaults, as in Kubernetes (except the cluster CIDR, which is Skiff's).
const (
	DefaultClusterCIDR  = "10.42.0.0/16"
	DefaultNodeMaskIPv4 = 24
	DefaultNodeMaskIPv6 = 64
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder, if set, receives the CIDRNotAvailable events Kubernetes
	// emits when the cluster CIDR is exhausted.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// ClusterCIDR is --cluster-cidr: one CIDR, or an IPv4 and an IPv6 one
	// separated by a comma (default DefaultClusterCIDR).
	ClusterCIDR string
	// NodeMaskIPv4 and NodeMaskIPv6 are the node CIDR sizes (default /24
	// and /64).
	NodeMaskIPv4, NodeMaskIPv6 int
	// RetryInterval is how soon a node that could not get a CIDR (range
	// full) is tried again (default 30s).
	RetryInterval time.Duration
}

// Controller assigns pod CIDRs to nodes.
type Controller struct {
	cfg   Config
	nodes corelisters.NodeLister
	ctrl  *controller.Controller

	mu      sync.Mutex
	seeded  bool
	sets    []*cidrSet
	byNode  map[string][]netip.Prefix // what each node holds, as far as we know
	pending map[string]bool           // allocated here, not yet seen on the node
}

// New returns the controller, registered with cfg.Informers. It fails on
// an invalid cluster CIDR or mask size.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClusterCIDR == "" {
		cfg.ClusterCIDR = DefaultClusterCIDR
	}
	if cfg.NodeMaskIPv4 == 0 {
		cfg.NodeMaskIPv4 = DefaultNodeMaskIPv4
	}
	if cfg.NodeMaskIPv6 == 0 {
		cfg.NodeMaskIPv6 = DefaultNodeMaskIPv6
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 30 * time.Second
	}
	cidrs, err := ParseClusterCIDRs(cfg.ClusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("nodeipam: %w", err)
	}
	c := &Controller{cfg: cfg, byNode: map[string][]netip.Prefix{}, pending: map[string]bool{}}
	for _, p := range cidrs {
		mask := cfg.NodeMaskIPv4
		if !p.Addr().Is4() {
			mask = cfg.NodeMaskIPv6
		}
		set, err := newCIDRSet(p, mask)
		if err != nil {
			return nil, fmt.Errorf("nodeipam: %w", err)
		}
		c.sets = append(c.sets, set)
	}
	inf := cfg.Informers.Core().V1().Nodes()
	c.nodes = inf.Lister()
	ctrl, err := controller.New(controller.Config{Name: "nodeipam", Reconciler: c, Workers: 8, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(inf.Informer(), nil); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for a node name.
func (c *Controller) Reconcile(ctx context.Context, name string) error {
	if err := c.seed(); err != nil {
		return err
	}
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		c.releaseLocked(name)
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	if len(node.Spec.PodCIDRs) > 0 || node.Spec.PodCIDR != "" {
		c.mu.Lock()
		c.observeLocked(name, nodeCIDRs(node))
		c.mu.Unlock()
		return nil
	}
	cidrs, err := c.assign(name)
	if errors.Is(err, ErrCIDRRangeFull) {
		c.cfg.Logger.Warn("no pod CIDR available for node", "node", name, "err", err)
		if c.cfg.Recorder != nil {
			c.cfg.Recorder.Eventf(node, corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", name)
		}
		return controller.RequeueAfter(c.cfg.RetryInterval)
	}
	if err != nil {
		return err
	}
	strs := make([]string, len(cidrs))
	for i, p := range cidrs {
		strs[i] = p.String()
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"podCIDR": strs[0], "podCIDRs": strs}})
	if err != nil {
		return err
	}
	_, err = c.cfg.Client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	switch {
	case apierrors.IsNotFound(err):
		// Deleted meanwhile: the informer's delete event frees the CIDRs.
		return nil
	case err != nil:
		if c.cfg.Recorder != nil {
			c.cfg.Recorder.Eventf(node, corev1.EventTypeNormal, "CIDRAssignmentFailed", "Node %s status is now: CIDRAssignmentFailed", name)
		}
		return fmt.Errorf("assigning pod CIDRs %v to node %s: %w", strs, name, err)
	}
	c.cfg.Logger.Debug("assigned pod CIDRs", "node", name, "cidrs", strs)
	return nil
}

// seed marks the CIDRs of the nodes that exist as used, once, before the
// first allocation; it runs after the informer has synced.
func (c *Controller) seed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seeded {
		return nil
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if cidrs := nodeCIDRs(n); len(cidrs) > 0 {
			c.observeLocked(n.Name, cidrs)
		}
	}
	c.seeded = true
	return nil
}

// assign returns the CIDRs a node without any should get: the ones
// allocated to it before (a patch that failed) or fresh ones.
func (c *Controller) assign(name string) ([]netip.Prefix, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := c.byNode[name]; len(got) > 0 && c.pending[name] {
		return got, nil
	}
	c.releaseLocked(name)
	var out []netip.Prefix
	for _, s := range c.sets {
		p, err := s.allocate()
		if err != nil {
			for i, q := range out {
				c.sets[i].release(q)
			}
			return nil, err
		}
		out = append(out, p)
	}
	c.byNode[name] = out
	c.pending[name] = true
	return out, nil
}

// observeLocked records the CIDRs a node carries, freeing what we had
// recorded for it before if that differs.
func (c *Controller) observeLocked(name string, cidrs []netip.Prefix) {
	delete(c.pending, name)
	if slices.Equal(c.byNode[name], cidrs) {
		return
	}
	c.releaseLocked(name)
	for _, p := range cidrs {
		for _, s := range c.sets {
			if s.occupy(p) {
				break
			}
		}
	}
	c.byNode[name] = cidrs
}

func (c *Controller) releaseLocked(name string) {
	for _, p := range c.byNode[name] {
		for _, s := range c.sets {
			s.release(p)
		}
	}
	delete(c.byNode, name)
	delete(c.pending, name)
}

// nodeCIDRs returns the parseable pod CIDRs of a node.
func nodeCIDRs(n *corev1.Node) []netip.Prefix {
	strs := n.Spec.PodCIDRs
	if len(strs) == 0 && n.Spec.PodCIDR != "" {
		strs = []string{n.Spec.PodCIDR}
	}
	var out []netip.Prefix
	for _, s := range strs {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
