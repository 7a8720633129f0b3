package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"sync"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
)

// StatusConfig configures the status writer.
type StatusConfig struct {
	// NodeIPs are the addresses published in status.loadBalancer.ingress;
	// empty: the InternalIP (else ExternalIP) of every Node.
	NodeIPs []string
	Client  kubernetes.Interface
	Logger  *slog.Logger
}

// Status writes the addresses the proxy answers on into the
// status.loadBalancer.ingress of every Ingress this controller serves.
// It runs on one server at a time (leader-elected), so servers never
// overwrite each other's view; each write is idempotent.
type Status struct {
	cfg       StatusConfig
	factory   informers.SharedInformerFactory
	ctrl      *controller.Controller
	ingresses networkinglisters.IngressLister
	classes   networkinglisters.IngressClassLister
	nodes     corelisters.NodeLister
	// published holds the Ingresses ("namespace/name") whose status this
	// process set, so that it clears the status of those that move to
	// another controller's class, and only of those.
	mu        sync.Mutex
	published map[string]bool
}

// NewStatus wires the status writer's informers.
func NewStatus(cfg StatusConfig) (*Status, error) {
	if cfg.Client == nil {
		return nil, errors.New("ingress status: Client is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Status{cfg: cfg, published: map[string]bool{}, factory: informers.NewSharedInformerFactory(cfg.Client, 0)}
	var err error
	if s.ctrl, err = controller.New(controller.Config{Name: "ingress-status", Reconciler: s, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("ingress status: %w", err)
	}
	ingInf := s.factory.Networking().V1().Ingresses()
	classInf := s.factory.Networking().V1().IngressClasses()
	s.ingresses, s.classes = ingInf.Lister(), classInf.Lister()
	all := func(interface{}) (string, bool) { return "", true } // "" = every Ingress
	if err := s.ctrl.Watch(ingInf.Informer(), nil); err != nil {
		return nil, fmt.Errorf("ingress status: %w", err)
	}
	if err := s.ctrl.Watch(classInf.Informer(), all); err != nil {
		return nil, fmt.Errorf("ingress status: %w", err)
	}
	if len(cfg.NodeIPs) > 0 {
		return s, nil // fixed addresses: Nodes are not needed
	}
	nodeInf := s.factory.Core().V1().Nodes()
	s.nodes = nodeInf.Lister()
	// Watch only for the sync; nodeChanged enqueues, so that heartbeats
	// do not re-check every Ingress.
	if err := s.ctrl.Watch(nodeInf.Informer(), func(interface{}) (string, bool) { return "", false }); err != nil {
		return nil, fmt.Errorf("ingress status: %w", err)
	}
	_, err = nodeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { s.ctrl.Enqueue("") },
		UpdateFunc: s.nodeChanged,
		DeleteFunc: func(interface{}) { s.ctrl.Enqueue("") },
	})
	if err != nil {
		return nil, fmt.Errorf("ingress status: %w", err)
	}
	return s, nil
}

// nodeChanged re-checks every Ingress when a Node's addresses or
// readiness change, not on heartbeats.
func (s *Status) nodeChanged(old, cur interface{}) {
	if nodeStatusChanged(old, cur) {
		s.ctrl.Enqueue("")
	}
}

// nodeStatusChanged reports whether a Node update can change the
// addresses published (anything but two Nodes with equal readiness and
// addresses).
func nodeStatusChanged(old, cur interface{}) bool {
	o, ok1 := old.(*corev1.Node)
	n, ok2 := cur.(*corev1.Node)
	return !ok1 || !ok2 || nodeNotReady(o) != nodeNotReady(n) ||
		!apiequality.Semantic.DeepEqual(o.Status.Addresses, n.Status.Addresses)
}

// Run writes statuses until ctx ends.
func (s *Status) Run(ctx context.Context) error {
	defer s.factory.Shutdown()
	s.factory.Start(ctx.Done())
	return s.ctrl.Run(ctx)
}

// Reconcile updates one Ingress ("namespace/name"), or all of them ("").
func (s *Status) Reconcile(ctx context.Context, key string) error {
	if key == "" {
		ings, err := s.ingresses.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("ingress status: %w", err)
		}
		for _, ing := range ings {
			s.ctrl.Enqueue(ing.Namespace + "/" + ing.Name)
		}
		return nil
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return fmt.Errorf("ingress status: %w", err)
	}
	ing, err := s.ingresses.Ingresses(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.mu.Lock()
		delete(s.published, key)
		s.mu.Unlock()
		return nil
	} else if err != nil {
		return fmt.Errorf("ingress status: %w", err)
	}
	classes, err := s.classes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("ingress status: %w", err)
	}
	ips := s.cfg.NodeIPs
	if len(ips) == 0 {
		nodes, err := s.nodes.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("ingress status: %w", err)
		}
		ips = NodeAddresses(nodes)
	}
	served := Serves(ing, classes)
	s.mu.Lock()
	ours := s.published[key]
	s.mu.Unlock()
	want, update := StatusUpdate(served, ours, ing.Status.LoadBalancer.Ingress, LoadBalancerStatus(ips))
	if update {
		upd := ing.DeepCopy()
		upd.Status.LoadBalancer.Ingress = want
		if _, err := s.cfg.Client.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("ingress status %s: %w", key, err)
		}
	}
	s.mu.Lock()
	if served {
		s.published[key] = true
	} else {
		delete(s.published, key)
	}
	s.mu.Unlock()
	return nil
}

// StatusUpdate decides an Ingress's status.loadBalancer.ingress: ours
// (the addresses in want) while this controller serves it; cleared once
// it no longer does (its class now names another controller, or none)
// when this controller published the status still there (ours) and it
// shows our addresses; otherwise left alone, as another controller's.
func StatusUpdate(served, ours bool, cur, want []networkingv1.IngressLoadBalancerIngress) ([]networkingv1.IngressLoadBalancerIngress, bool) {
	switch {
	case served:
		return want, !equalLB(cur, want)
	case ours && len(cur) > 0 && equalLB(cur, want):
		return nil, true
	}
	return cur, false
}

// NodeAddresses picks each Node's InternalIP (else ExternalIP), sorted,
// leaving out Nodes whose Ready condition is False or Unknown (their
// proxy may not answer).
func NodeAddresses(nodes []*corev1.Node) []string {
	var out []string
	for _, n := range nodes {
		if nodeNotReady(n) {
			continue
		}
		var ip string
		for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
			for _, a := range n.Status.Addresses {
				if a.Type == t && ip == "" {
					ip = a.Address
				}
			}
		}
		if ip != "" {
			out = append(out, ip)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// LoadBalancerStatus is the status.loadBalancer.ingress listing ips
// (IP addresses as ip, anything else as hostname), sorted.
func LoadBalancerStatus(ips []string) []networkingv1.IngressLoadBalancerIngress {
	sorted := slices.Clone(ips)
	sort.Strings(sorted)
	var out []networkingv1.IngressLoadBalancerIngress
	for _, a := range slices.Compact(sorted) {
		if net.ParseIP(a) != nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	return out
}

// nodeNotReady reports whether the Node's Ready condition is present and
// not True; a Node without the condition (not yet reported) counts as ready.
func nodeNotReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status != corev1.ConditionTrue
		}
	}
	return false
}

func equalLB(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IP != b[i].IP || a[i].Hostname != b[i].Hostname || len(a[i].Ports) != 0 {
			return false
		}
	}
	return true
}
