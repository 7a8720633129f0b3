package server

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/skiff-io/skiff/internal/pki"
	"github.com/skiff-io/skiff/internal/registry/scheduling"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// systemNamespaces exist in every cluster.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// bootstrap creates the objects every Kubernetes cluster has: the system
// namespaces, the system priority classes and the `kubernetes` Service
// with its endpoints, then runs the extra steps (the default RBAC policy,
// the join token's Secret). It is idempotent, so a restart leaves existing
// objects alone.
func bootstrap(ctx context.Context, lb *loopback, serviceCIDR string, port int, steps ...func(context.Context, kubernetes.Interface) error) error {
	hc, err := rest.HTTPClientFor(lb.restConfig())
	if err != nil {
		return err
	}
	// An idle HTTP/2 connection would hold up graceful shutdown by a
	// second: close it once bootstrap is done.
	defer hc.CloseIdleConnections()
	cs, err := kubernetes.NewForConfigAndClient(lb.restConfig(), hc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, name := range systemNamespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{FieldManager: "skiff-server"})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	for _, step := range steps {
		if err := step(ctx, cs); err != nil {
			return err
		}
	}
	for _, pc := range scheduling.SystemPriorityClasses() {
		_, err := cs.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{FieldManager: "skiff-server"})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating priority class %s: %w", pc.Name, err)
		}
	}
	ip, err := pki.FirstServiceIP(serviceCIDR)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: ip.String(),
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(int32(port))}},
		},
	}
	// Look first: creating it again would fail on its already allocated
	// cluster IP rather than with AlreadyExists.
	if _, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{FieldManager: "skiff-server"}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the kubernetes service: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("reading the kubernetes service: %w", err)
	}
	addr := advertiseAddress()
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: addr}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: int32(port), Protocol: corev1.ProtocolTCP}},
		}},
	}
	if err := upsertEndpoints(ctx, cs, ep); err != nil {
		return err
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "skiff-server"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(port)), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	return upsertSlice(ctx, cs, slice)
}

func upsertEndpoints(ctx context.Context, cs kubernetes.Interface, ep *corev1.Endpoints) error {
	cur, err := cs.CoreV1().Endpoints(ep.Namespace).Get(ctx, ep.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cs.CoreV1().Endpoints(ep.Namespace).Create(ctx, ep, metav1.CreateOptions{FieldManager: "skiff-server"})
		return err
	}
	if err != nil {
		return err
	}
	cur.Subsets = ep.Subsets
	_, err = cs.CoreV1().Endpoints(ep.Namespace).Update(ctx, cur, metav1.UpdateOptions{FieldManager: "skiff-server"})
	return err
}

func upsertSlice(ctx context.Context, cs kubernetes.Interface, s *discoveryv1.EndpointSlice) error {
	cur, err := cs.DiscoveryV1().EndpointSlices(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cs.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: "skiff-server"})
		return err
	}
	if err != nil {
		return err
	}
	cur.Endpoints, cur.Ports = s.Endpoints, s.Ports
	_, err = cs.DiscoveryV1().EndpointSlices(s.Namespace).Update(ctx, cur, metav1.UpdateOptions{FieldManager: "skiff-server"})
	return err
}

// advertiseAddress is the host address other nodes and pods use to reach
// the API server: the first global unicast IPv4 address, else loopback.
func advertiseAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
