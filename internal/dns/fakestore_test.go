package dns

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// fakeStore is a Store over plain lists, for pure resolution tests.
type fakeStore struct {
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
	pods     []*corev1.Pod
}

func (f *fakeStore) Service(ns, name string) *corev1.Service {
	for _, s := range f.services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func (f *fakeStore) EndpointSlices(ns, name string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range f.slices {
		if s.Namespace == ns && s.Labels[labelSvcName] == name {
			out = append(out, s)
		}
	}
	return out
}

func (f *fakeStore) ServicesByIP(ip string) []*corev1.Service {
	var out []*corev1.Service
	for _, s := range f.services {
		for _, c := range serviceIPs(s) {
			if c == ip {
				out = append(out, s)
			}
		}
	}
	return out
}

func (f *fakeStore) EndpointSlicesByIP(ip string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range f.slices {
		for _, ep := range s.Endpoints {
			for _, a := range ep.Addresses {
				if a == ip {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func (f *fakeStore) HasNamespace(ns string) bool {
	for _, s := range f.services {
		if s.Namespace == ns {
			return true
		}
	}
	return false
}

func (f *fakeStore) PodsByIP(ip string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range f.pods {
		if p.Status.PodIP == ip {
			out = append(out, p)
		}
	}
	return out
}

func svc(ns, name string, clusterIPs []string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: clusterIPs, Ports: ports}}
	if len(clusterIPs) > 0 {
		s.Spec.ClusterIP = clusterIPs[0]
	}
	return s
}

func headless(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	return svc(ns, name, []string{corev1.ClusterIPNone}, ports...)
}

func externalName(ns, name, target string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: target}}
}

func port(name string, proto corev1.Protocol, n int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: proto, Port: n}
}

type ep struct {
	ip, hostname string
	notReady     bool
}

func slice(ns, svcName, name string, at discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Labels: map[string]string{labelSvcName: svcName}}, AddressType: at, Ports: ports}
	for _, e := range eps {
		x := discoveryv1.Endpoint{Addresses: []string{e.ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(!e.notReady)}}
		if e.hostname != "" {
			x.Hostname = ptr.To(e.hostname)
		}
		s.Endpoints = append(s.Endpoints, x)
	}
	return s
}

func slicePort(name string, proto corev1.Protocol, n int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(name), Protocol: ptr.To(proto), Port: ptr.To(n)}
}
