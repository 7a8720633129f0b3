package dns

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// Names of the DNS Service and its EndpointSlices.
const (
	ServiceNamespace = "kube-system"
	ServiceName      = "kube-dns"
	// ManagedBy marks the EndpointSlices Skiff keeps for kube-dns, which
	// the EndpointSlice controller leaves alone.
	ManagedBy = "skiff"
)

// ServiceIP is the tenth address of the service CIDR, the kube-dns
// ClusterIP (10.43.0.10 for 10.43.0.0/16).
func ServiceIP(serviceCIDR string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("dns: service CIDR: %w", err)
	}
	ip := p.Masked().Addr()
	for i := 0; i < 10; i++ {
		ip = ip.Next()
	}
	if !p.Contains(ip) {
		return netip.Addr{}, fmt.Errorf("dns: service CIDR %s has no tenth address", serviceCIDR)
	}
	return ip, nil
}

// DesiredService is the kube-dns Service: no selector, ClusterIP the tenth
// address of serviceCIDR, port 53 over UDP ("dns") and TCP ("dns-tcp") to
// targetPort port.
func DesiredService(serviceCIDR string, port int) (*corev1.Service, error) {
	ip, err := ServiceIP(serviceCIDR)
	if err != nil {
		return nil, err
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ServiceNamespace, Labels: map[string]string{
			"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "KubeDNS"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip.String(), ClusterIPs: []string{ip.String()},
			Ports: []corev1.ServicePort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(int32(port))},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(int32(port))},
			}},
	}, nil
}

// DesiredEndpointSlices are kube-dns's EndpointSlices: one per address
// family present in nodeIPs, every node IP a ready endpoint on port.
func DesiredEndpointSlices(nodeIPs []string, port int) ([]*discoveryv1.EndpointSlice, error) {
	byFamily := map[discoveryv1.AddressType][]string{}
	for _, s := range nodeIPs {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("dns: node IP %q: %w", s, err)
		}
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsUnspecified() {
			return nil, fmt.Errorf("dns: node IP %s cannot be an endpoint: pods cannot reach it", ip)
		}
		t := discoveryv1.AddressTypeIPv4
		if ip.Is6() {
			t = discoveryv1.AddressTypeIPv6
		}
		byFamily[t] = append(byFamily[t], ip.String())
	}
	var out []*discoveryv1.EndpointSlice
	for _, t := range []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6} {
		ips := dedupe(byFamily[t])
		if len(ips) == 0 {
			continue
		}
		sort.Strings(ips)
		name := ServiceName + "-skiff"
		if t == discoveryv1.AddressTypeIPv6 {
			name += "-v6"
		}
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ServiceNamespace, Labels: map[string]string{
				discoveryv1.LabelServiceName: ServiceName, discoveryv1.LabelManagedBy: ManagedBy}},
			AddressType: t,
			Ports: []discoveryv1.EndpointPort{
				{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(int32(port))},
				{Name: ptr.To("dns-tcp"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(port))},
			},
		}
		for _, ip := range ips {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)}})
		}
		out = append(out, s)
	}
	return out, nil
}

// EnsureService creates or corrects the kube-dns Service in kube-system
// (ClusterIP the tenth address of serviceCIDR, port 53 UDP and TCP to
// targetPort port) and its manually managed EndpointSlices, which list
// exactly nodeIPs; slices of an address family nodeIPs no longer has are
// deleted. A kube-dns Service with another ClusterIP is an error (the
// ClusterIP cannot change).
func EnsureService(ctx context.Context, client kubernetes.Interface, serviceCIDR string, nodeIPs []string, port int) error {
	want, err := DesiredService(serviceCIDR, port)
	if err != nil {
		return err
	}
	slices, err := DesiredEndpointSlices(nodeIPs, port)
	if err != nil {
		return err
	}
	svcs := client.CoreV1().Services(ServiceNamespace)
	cur, err := svcs.Get(ctx, ServiceName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := svcs.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("dns: create service %s: %w", ServiceName, err)
		}
	case err != nil:
		return fmt.Errorf("dns: get service %s: %w", ServiceName, err)
	default:
		if cur.Spec.ClusterIP != want.Spec.ClusterIP {
			return fmt.Errorf("dns: service %s/%s has ClusterIP %s, want %s: delete it to move it",
				ServiceNamespace, ServiceName, cur.Spec.ClusterIP, want.Spec.ClusterIP)
		}
		if !apiequality.Semantic.DeepEqual(cur.Spec.Ports, want.Spec.Ports) || len(cur.Spec.Selector) > 0 {
			upd := cur.DeepCopy()
			upd.Spec.Ports = want.Spec.Ports
			upd.Spec.Selector = nil
			if _, err := svcs.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("dns: update service %s: %w", ServiceName, err)
			}
		}
	}
	return ensureSlices(ctx, client, slices)
}

func ensureSlices(ctx context.Context, client kubernetes.Interface, want []*discoveryv1.EndpointSlice) error {
	api := client.DiscoveryV1().EndpointSlices(ServiceNamespace)
	existing, err := api.List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + ServiceName + "," +
		discoveryv1.LabelManagedBy + "=" + ManagedBy})
	if err != nil {
		return fmt.Errorf("dns: list endpointslices: %w", err)
	}
	cur := map[string]*discoveryv1.EndpointSlice{}
	for i := range existing.Items {
		cur[existing.Items[i].Name] = &existing.Items[i]
	}
	for _, w := range want {
		c, ok := cur[w.Name]
		delete(cur, w.Name)
		if !ok {
			if _, err := api.Create(ctx, w, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("dns: create endpointslice %s: %w", w.Name, err)
			}
			continue
		}
		if c.AddressType == w.AddressType && apiequality.Semantic.DeepEqual(c.Endpoints, w.Endpoints) &&
			apiequality.Semantic.DeepEqual(c.Ports, w.Ports) {
			continue
		}
		if c.AddressType != w.AddressType {
			if err := api.Delete(ctx, c.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("dns: delete endpointslice %s: %w", c.Name, err)
			}
			if _, err := api.Create(ctx, w, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("dns: create endpointslice %s: %w", w.Name, err)
			}
			continue
		}
		upd := c.DeepCopy()
		upd.Endpoints, upd.Ports, upd.Labels = w.Endpoints, w.Ports, w.Labels
		if _, err := api.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("dns: update endpointslice %s: %w", w.Name, err)
		}
	}
	for name := range cur {
		if err := api.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("dns: delete endpointslice %s: %w", name, err)
		}
	}
	return nil
}
