package endpointslice

import (
	"fmt"
	"sort"
	"strings"

	"github.com/skiff-io/skiff/internal/controller/endpoints"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// addressTypes returns the address types a Service's slices use, in the
// order of its IP families: from spec.ipFamilies, else the cluster IP's
// family, else (a headless Service the API server did not default) both.
func addressTypes(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	seen := map[discoveryv1.AddressType]bool{}
	for _, f := range svc.Spec.IPFamilies {
		t := discoveryv1.AddressTypeIPv4
		if f == corev1.IPv6Protocol {
			t = discoveryv1.AddressTypeIPv6
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	if endpoints.ServiceIPSet(svc) {
		if endpoints.IsIPv6(svc.Spec.ClusterIP) {
			return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
		}
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
}

// addressesOf returns the pod's IPs of one address type.
func addressesOf(pod *corev1.Pod, t discoveryv1.AddressType) []string {
	var out []string
	for _, ip := range endpoints.PodIPs(pod) {
		if endpoints.IsIPv6(ip) == (t == discoveryv1.AddressTypeIPv6) {
			out = append(out, endpoints.NormalizeIP(ip))
		}
	}
	return out
}

// endpointFor is the slice endpoint of a pod: ready when serving and not
// terminating (or always, when the Service publishes not-ready
// addresses), serving when the pod is Ready, with the node's zone.
func endpointFor(svc *corev1.Service, pod *corev1.Pod, node *corev1.Node, t discoveryv1.AddressType) discoveryv1.Endpoint {
	serving := endpoints.PodReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses: addressesOf(pod, t),
		Conditions: discoveryv1.EndpointConditions{
			Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating),
		},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		ep.NodeName = ptr.To(pod.Spec.NodeName)
	}
	if node != nil && node.Labels[corev1.LabelTopologyZone] != "" {
		ep.Zone = ptr.To(node.Labels[corev1.LabelTopologyZone])
	}
	if h := endpoints.HostnameFor(pod, svc); h != "" {
		ep.Hostname = ptr.To(h)
	}
	return ep
}

// portsFor resolves the Service's ports on a pod, in the Service's order;
// ports whose named target the pod lacks are left out.
func portsFor(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		port, ok := endpoints.ResolvePort(pod, sp)
		if !ok {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{
			Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(sp.Protocol), AppProtocol: sp.AppProtocol,
		})
	}
	return out
}

// portsKey identifies a set of ports regardless of order.
func portsKey(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		parts = append(parts, fmt.Sprintf("%s/%d/%s/%s", ptr.Deref(p.Name, ""), ptr.Deref(p.Port, 0),
			ptr.Deref(p.Protocol, ""), ptr.Deref(p.AppProtocol, "")))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// endpointKey identifies an endpoint across syncs: its pod, else its
// addresses.
func endpointKey(ep *discoveryv1.Endpoint) string {
	if ep.TargetRef != nil && ep.TargetRef.Name != "" {
		return "pod:" + ep.TargetRef.Namespace + "/" + ep.TargetRef.Name
	}
	return "addr:" + strings.Join(ep.Addresses, ",")
}

// desiredLabels are a managed slice's labels: the Service's, without the
// reserved keys, plus the Service name, the manager and the headless mark.
func desiredLabels(svc *corev1.Service) map[string]string {
	out := make(map[string]string, len(svc.Labels)+3)
	for k, v := range svc.Labels {
		switch k {
		case discoveryv1.LabelServiceName, discoveryv1.LabelManagedBy, corev1.IsHeadlessService:
			continue
		}
		out[k] = v
	}
	if !endpoints.ServiceIPSet(svc) {
		out[corev1.IsHeadlessService] = ""
	}
	out[discoveryv1.LabelServiceName] = svc.Name
	out[discoveryv1.LabelManagedBy] = ControllerName
	return out
}

// namePrefix is the generateName of a Service's slices: "<service>-",
// or the bare name when the dash would make it too long.
func namePrefix(service string) string {
	prefix := service + "-"
	if len(validation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return service
	}
	return prefix
}

// newSlice returns an empty slice for a Service.
func newSlice(svc *corev1.Service, t discoveryv1.AddressType, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: namePrefix(svc.Name),
			Namespace:    svc.Namespace,
			Labels:       desiredLabels(svc),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		AddressType: t,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{},
	}
}

// ownedBy reports whether a slice belongs to this incarnation of the
// Service (not an earlier one of the same name).
func ownedBy(s *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	for _, o := range s.OwnerReferences {
		if o.UID == svc.UID && o.Kind == "Service" && o.APIVersion == "v1" {
			return true
		}
	}
	return false
}
