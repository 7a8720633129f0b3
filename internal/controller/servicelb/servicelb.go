// Package servicelb is the built-in service load balancer (k3s's ServiceLB
// idea): a Service of type LoadBalancer without a loadBalancerClass gets
// the addresses of the cluster's Ready nodes in status.loadBalancer.ingress,
// and the Service proxy on every node answers on those addresses at the
// Service's port. With it turned off (--disable-servicelb) such Services
// stay pending, as on a cluster without a cloud provider.
package servicelb

import (
	"context"
	"log/slog"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiff-io/skiff/internal/controller"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
}

// Controller writes LoadBalancer Services' ingress addresses.
type Controller struct {
	cfg      Config
	services corelisters.ServiceLister
	nodes    corelisters.NodeLister
	ctrl     *controller.Controller
}

// New returns the controller, registered with cfg.Informers (services,
// nodes). It does no I/O.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	svcInf, nodeInf := cfg.Informers.Core().V1().Services(), cfg.Informers.Core().V1().Nodes()
	c := &Controller{cfg: cfg, services: svcInf.Lister(), nodes: nodeInf.Lister()}
	ctrl, err := controller.New(controller.Config{Name: "servicelb", Reconciler: c, Workers: 2, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(svcInf.Informer(), nil); err != nil {
		return nil, err
	}
	// A node coming, going or changing readiness changes every balanced
	// Service's addresses.
	_, err = nodeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAll() },
		UpdateFunc: func(old, cur any) { c.nodeChanged(old, cur) },
		DeleteFunc: func(any) { c.enqueueAll() },
	})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

func (c *Controller) nodeChanged(old, cur any) {
	o, ok1 := old.(*corev1.Node)
	n, ok2 := cur.(*corev1.Node)
	if ok1 && ok2 && nodeReady(o) == nodeReady(n) && equality.Semantic.DeepEqual(o.Status.Addresses, n.Status.Addresses) {
		return // heartbeats
	}
	c.enqueueAll()
}

func (c *Controller) enqueueAll() {
	svcs, _ := c.services.List(labels.Everything())
	for _, s := range svcs {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			c.ctrl.Enqueue(s.Namespace + "/" + s.Name)
		}
	}
}

// Reconcile sets (or clears) one Service's load balancer status.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	want, ours := Desired(svc, nodes)
	if !ours || equality.Semantic.DeepEqual(svc.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	upd := svc.DeepCopy()
	upd.Status.LoadBalancer.Ingress = want
	if _, err := c.cfg.Client.CoreV1().Services(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// Desired is the ingress list a Service should have, and whether this
// controller manages it: LoadBalancer Services without a
// loadBalancerClass get the InternalIP (else ExternalIP) of every Ready
// node, IPv4 first, sorted; a Service that stopped being a LoadBalancer
// gets an empty list.
func Desired(svc *corev1.Service, nodes []*corev1.Node) ([]corev1.LoadBalancerIngress, bool) {
	if svc.Spec.LoadBalancerClass != nil {
		return nil, false
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil, len(svc.Status.LoadBalancer.Ingress) > 0
	}
	var addrs []netip.Addr
	for _, n := range nodes {
		if !nodeReady(n) {
			continue
		}
		if a, ok := nodeAddress(n); ok {
			addrs = append(addrs, a)
		}
	}
	sort.Slice(addrs, func(i, j int) bool {
		if addrs[i].Is4() != addrs[j].Is4() {
			return addrs[i].Is4()
		}
		return addrs[i].Less(addrs[j])
	})
	var out []corev1.LoadBalancerIngress
	for i, a := range addrs {
		if i > 0 && a == addrs[i-1] {
			continue
		}
		mode := corev1.LoadBalancerIPModeVIP
		out = append(out, corev1.LoadBalancerIngress{IP: a.String(), IPMode: &mode})
	}
	return out, true
}

func nodeAddress(n *corev1.Node) (netip.Addr, bool) {
	for _, typ := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, a := range n.Status.Addresses {
			if a.Type != typ {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
