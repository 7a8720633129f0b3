package state

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func svc(name string, mut func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	if mut != nil {
		mut(s)
	}
	return s
}

func slice(name, svcName string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: ports, Endpoints: eps,
	}
}

func port(name string, p int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr(name), Port: ptr(p), Protocol: ptr(corev1.ProtocolTCP)}
}

func sliceEP(ip string, ready *bool, nodeName string) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	if nodeName != "" {
		e.NodeName = ptr(nodeName)
	}
	return e
}

func TestBuild(t *testing.T) {
	ready := Endpoint{Ready: true, Serving: true}
	at := func(e Endpoint, ip string, port int32, nodeName string) Endpoint {
		e.IP, e.Port, e.NodeName = ip, port, nodeName
		return e
	}
	tests := []struct {
		name   string
		svcs   []*corev1.Service
		slices []*discoveryv1.EndpointSlice
		want   []ServicePort
	}{{
		name: "ports resolve by name across slices; duplicates and other services ignored",
		svcs: []*corev1.Service{svc("web", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53})
		})},
		slices: []*discoveryv1.EndpointSlice{
			slice("web-a", "web", []discoveryv1.EndpointPort{port("http", 8080), {Name: ptr("dns"), Port: ptr(int32(5353)), Protocol: ptr(corev1.ProtocolUDP)}},
				sliceEP("10.42.0.9", nil, "n1"), sliceEP("10.42.0.2", ptr(false), "n2")),
			// During a rolling update the same pod may listen elsewhere
			// under the same port name, in another slice.
			slice("web-b", "web", []discoveryv1.EndpointPort{port("http", 9090)}, sliceEP("10.42.0.3", ptr(true), "n1"),
				sliceEP("10.42.0.9", ptr(true), "n1")),
			slice("other", "other", []discoveryv1.EndpointPort{port("http", 1)}, sliceEP("10.42.9.9", nil, "")),
		},
		want: []ServicePort{
			{Namespace: "ns", Name: "web", PortName: "dns", Protocol: UDP, ClusterIP: "10.96.0.10", Port: 53,
				Endpoints: []Endpoint{at(Endpoint{}, "10.42.0.2", 5353, "n2"), at(ready, "10.42.0.9", 5353, "n1")}},
			{Namespace: "ns", Name: "web", PortName: "http", Protocol: TCP, ClusterIP: "10.96.0.10", Port: 80,
				Endpoints: []Endpoint{at(Endpoint{}, "10.42.0.2", 8080, "n2"), at(ready, "10.42.0.3", 9090, "n1"), at(ready, "10.42.0.9", 8080, "n1"), at(ready, "10.42.0.9", 9090, "n1")}},
		},
	}, {
		name: "conditions: nil serving follows ready, terminating",
		svcs: []*corev1.Service{svc("web", nil)},
		slices: []*discoveryv1.EndpointSlice{slice("web-a", "web", []discoveryv1.EndpointPort{port("http", 80)},
			discoveryv1.Endpoint{Addresses: []string{"10.42.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}})},
		want: []ServicePort{{Namespace: "ns", Name: "web", PortName: "http", Protocol: TCP, ClusterIP: "10.96.0.10", Port: 80,
			Endpoints: []Endpoint{{IP: "10.42.0.1", Port: 80, Serving: true, Terminating: true}}}},
	}, {
		name: "headless, ExternalName and IPv6-only services are not proxied",
		svcs: []*corev1.Service{
			svc("headless", func(s *corev1.Service) { s.Spec.ClusterIP = "None"; s.Spec.ClusterIPs = []string{"None"} }),
			svc("ext", func(s *corev1.Service) {
				s.Spec.Type = corev1.ServiceTypeExternalName
				s.Spec.ExternalName = "example.com"
			}),
			svc("v6", func(s *corev1.Service) { s.Spec.ClusterIP = "fd00::1"; s.Spec.ClusterIPs = []string{"fd00::1"} }),
		},
	}, {
		name: "LoadBalancer with local policy, affinity, internal policy",
		svcs: []*corev1.Service{svc("lb", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.Ports[0].NodePort = 30001
			s.Spec.Ports[0].Name = ""
			s.Spec.ExternalIPs = []string{"192.0.2.9"}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {IP: "192.0.2.2", IPMode: ptr(corev1.LoadBalancerIPModeProxy)}, {Hostname: "lb.example.com"}}
		})},
		want: []ServicePort{{Namespace: "ns", Name: "lb", Protocol: TCP, ClusterIP: "10.96.0.10", Port: 80, NodePort: 30001,
			ExternalIPs: []string{"192.0.2.9"}, LoadBalancerIPs: []string{"192.0.2.1"}, ExternalPolicyLocal: true, InternalPolicyLocal: true,
			AffinitySeconds: 10800}},
	}, {
		name: "affinity timeout; ClusterIP services ignore externalTrafficPolicy and nodePort",
		svcs: []*corev1.Service{svc("web", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.Ports[0].NodePort = 30002
		})},
		want: []ServicePort{{Namespace: "ns", Name: "web", PortName: "http", Protocol: TCP, ClusterIP: "10.96.0.10", Port: 80, AffinitySeconds: 60}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Build(tc.svcs, tc.slices)); diff != "" {
				t.Errorf("Build (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCategorize(t *testing.T) {
	sp := &ServicePort{Endpoints: []Endpoint{
		{IP: "1.1.1.1", NodeName: "a", Ready: true, Serving: true},
		{IP: "1.1.1.2", NodeName: "b", Ready: true, Serving: true},
		{IP: "1.1.1.3", NodeName: "a", Serving: true, Terminating: true},
		{IP: "1.1.1.4", NodeName: "c", Serving: true, Terminating: true},
	}}
	ips := func(eps []Endpoint) []string {
		var out []string
		for _, e := range eps {
			out = append(out, e.IP)
		}
		return out
	}
	c := Categorize(sp, "a")
	if diff := cmp.Diff([]string{"1.1.1.1", "1.1.1.2"}, ips(c.Cluster)); diff != "" {
		t.Errorf("cluster: %s", diff)
	}
	if diff := cmp.Diff([]string{"1.1.1.1"}, ips(c.Local)); diff != "" {
		t.Errorf("local: %s", diff)
	}
	// Node c has only a terminating endpoint: it is the local fallback.
	if diff := cmp.Diff([]string{"1.1.1.4"}, ips(Categorize(sp, "c").Local)); diff != "" {
		t.Errorf("local fallback: %s", diff)
	}
	if got := Categorize(sp, "zzz").Local; len(got) != 0 {
		t.Errorf("no local endpoints on zzz, got %v", got)
	}
}

// TestBuildOrder checks that ports come sorted by String() (not by the
// namespace, name and port name one by one) and then by protocol.
func TestBuildOrder(t *testing.T) {
	svcs := []*corev1.Service{
		svc("b", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{
				{Name: "x", Protocol: corev1.ProtocolUDP, Port: 53},
				{Name: "x", Protocol: corev1.ProtocolTCP, Port: 53},
			}
		}),
		svc("b-c", nil),
		svc("a", nil),
	}
	var got []string
	for _, sp := range Build(svcs, nil) {
		got = append(got, sp.String()+"/"+string(sp.Protocol))
	}
	want := []string{"ns/a:http/TCP", "ns/b-c:http/TCP", "ns/b:x/TCP", "ns/b:x/UDP"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Build order (-want +got):\n%s", diff)
	}
}
