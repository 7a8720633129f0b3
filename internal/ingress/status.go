package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
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
}

// NewStatus wires the status writer's informers.
func NewStatus(cfg StatusConfig) (*Status, error) {
	if cfg.Client == nil {
		return nil, errors.New("ingress status: Client is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Status{cfg: cfg, factory: informers.NewSharedInformerFactory(cfg.Client, 0)}
	var err error
	if s.ctrl, err = controller.New(controller.Config{Name: "ingress-status", Reconciler: s, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("ingress status: %w", err)
	}
	ingInf := s.factory.Networking().V1().Ingresses()
	classInf := s.factory.Networking().V1().IngressClasses()
	nodeInf := s.factory.Core().V1().Nodes()
	s.ingresses, s.classes, s.nodes = ingInf.Lister(), classInf.Lister(), nodeInf.Lister()
	all := func(interface{}) (string, bool) { return "", true } // "" = every Ingress
	for inf, keyOf := range map[cache.SharedIndexInformer]func(interface{}) (string, bool){
		ingInf.Informer(): nil, classInf.Informer(): all, nodeInf.Informer(): all,
	} {
		if err := s.ctrl.Watch(inf, keyOf); err != nil {
			return nil, fmt.Errorf("ingress status: %w", err)
		}
	}
	return s, nil
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
		return nil
	} else if err != nil {
		return fmt.Errorf("ingress status: %w", err)
	}
	classes, err := s.classes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("ingress status: %w", err)
	}
	if !Serves(ing, classes) {
		return nil
	}
	ips := s.cfg.NodeIPs
	if len(ips) == 0 {
		nodes, err := s.nodes.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("ingress status: %w", err)
		}
		ips = NodeAddresses(nodes)
	}
	want := LoadBalancerStatus(ips)
	if equalLB(ing.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	upd := ing.DeepCopy()
	upd.Status.LoadBalancer.Ingress = want
	if _, err := s.cfg.Client.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("ingress status %s: %w", key, err)
	}
	return nil
}

// NodeAddresses picks each Node's InternalIP (else ExternalIP), sorted.
func NodeAddresses(nodes []*corev1.Node) []string {
	var out []string
	for _, n := range nodes {
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
