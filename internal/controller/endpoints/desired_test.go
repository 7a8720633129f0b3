package endpoints

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

type podOpt func(*corev1.Pod)

func mkPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func ip(ips ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.PodIP = ips[0]
		for _, i := range ips {
			p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: i})
		}
	}
}

func ready(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
}

func terminating(p *corev1.Pod) {
	now := metav1.Now()
	p.DeletionTimestamp = &now
}

func httpPort(n int32) podOpt {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = n }
}

func mkSvc(mut ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.10", IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}}},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

// summary renders subsets as "ports: ready | notReady" lines.
func summary(subsets []corev1.EndpointSubset) []string {
	var out []string
	for _, s := range subsets {
		var ports, r, n []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
		for _, a := range s.Addresses {
			r = append(r, a.IP)
		}
		for _, a := range s.NotReadyAddresses {
			n = append(n, a.IP)
		}
		out = append(out, fmt.Sprintf("%s: %s | %s", strings.Join(ports, ","), strings.Join(r, ","), strings.Join(n, ",")))
	}
	sort.Strings(out)
	return out
}

func TestDesiredSubsets(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want []string
	}{
		{"ready and not ready", mkSvc(), []*corev1.Pod{
			mkPod("a", ip("10.0.0.1"), ready), mkPod("b", ip("10.0.0.2")),
		}, []string{"http=8080: 10.0.0.1 | 10.0.0.2"}},
		{"no IP, finished and terminating pods are left out", mkSvc(), []*corev1.Pod{
			mkPod("a", ip("10.0.0.1"), ready), mkPod("noip", ready),
			mkPod("done", ip("10.0.0.3"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			mkPod("bye", ip("10.0.0.4"), ready, terminating),
		}, []string{"http=8080: 10.0.0.1 | "}},
		{"publishNotReadyAddresses lists all as ready, terminating too",
			mkSvc(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }), []*corev1.Pod{
				mkPod("a", ip("10.0.0.1")), mkPod("bye", ip("10.0.0.4"), terminating),
			}, []string{"http=8080: 10.0.0.1,10.0.0.4 | "}},
		{"named ports resolve per pod", mkSvc(), []*corev1.Pod{
			mkPod("a", ip("10.0.0.1"), ready), mkPod("b", ip("10.0.0.2"), ready, httpPort(9090)),
		}, []string{"http=8080: 10.0.0.1 | ", "http=9090: 10.0.0.2 | "}},
		{"a pod without the named port is left out of that port",
			mkSvc(func(s *corev1.Service) {
				s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "admin", Port: 81, Protocol: corev1.ProtocolTCP,
					TargetPort: intstr.FromString("admin")})
			}), []*corev1.Pod{
				mkPod("a", ip("10.0.0.1"), ready),
				mkPod("b", ip("10.0.0.2"), ready, func(p *corev1.Pod) {
					p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "admin", ContainerPort: 7000})
				}),
			}, []string{"admin=7000: 10.0.0.2 | ", "http=8080: 10.0.0.1,10.0.0.2 | "}},
		{"numeric target ports, several ports in one subset",
			mkSvc(func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{
					{Name: "a", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8000)},
					{Name: "b", Port: 81, Protocol: corev1.ProtocolTCP}, // unset: the port itself
				}
			}), []*corev1.Pod{mkPod("a", ip("10.0.0.1"), ready), mkPod("b", ip("10.0.0.2"))},
			[]string{"a=8000,b=81: 10.0.0.1 | 10.0.0.2"}},
		{"headless without ports", mkSvc(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil
		}), []*corev1.Pod{mkPod("a", ip("10.0.0.1"), ready)}, []string{": 10.0.0.1 | "}},
		{"IPv6 Service picks the pod's IPv6 address", mkSvc(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.IPFamilies = "fd00::10", []corev1.IPFamily{corev1.IPv6Protocol}
		}), []*corev1.Pod{mkPod("a", ip("10.0.0.1", "fd00::1"), ready), mkPod("v4only", ip("10.0.0.2"), ready)},
			[]string{"http=8080: fd00::1 | "}},
		{"no pods", mkSvc(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(DesiredSubsets(tt.svc, tt.pods))
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("subsets\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDesiredSubsetsAddressDetails(t *testing.T) {
	svc := mkSvc(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone })
	pod := mkPod("db-0", ip("10.0.0.1"), ready, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", "web" })
	other := mkPod("x", ip("10.0.0.2"), ready, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain, p.Spec.NodeName = "x", "elsewhere", "" })
	subsets := DesiredSubsets(svc, []*corev1.Pod{pod, other})
	want := []corev1.EndpointAddress{
		{IP: "10.0.0.1", Hostname: "db-0", NodeName: ptr.To("node-1"),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "db-0", UID: "uid-db-0"}},
		{IP: "10.0.0.2", TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "x", UID: "uid-x"}},
	}
	if len(subsets) != 1 || !reflect.DeepEqual(subsets[0].Addresses, want) {
		t.Fatalf("addresses %+v", subsets)
	}
}

func TestTruncate(t *testing.T) {
	addrs := func(n int) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, n)
		for i := range out {
			out[i].IP = fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		}
		return out
	}
	tests := []struct {
		name            string
		ready, notReady []int // per subset
		max             int
		truncated       bool
		wantR, wantN    []int
	}{
		{"under capacity", []int{3, 2}, []int{1, 0}, 10, false, []int{3, 2}, []int{1, 0}},
		{"exactly at capacity", []int{5}, []int{5}, 10, false, []int{5}, []int{5}},
		{"not-ready addresses share what is left", []int{4, 2}, []int{6, 2}, 10, true, []int{4, 2}, []int{3, 1}},
		{"too many ready: ready shared, not-ready dropped", []int{15, 5}, []int{3, 3}, 10, true, []int{8, 2}, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var subsets []corev1.EndpointSubset
			for i := range tt.ready {
				subsets = append(subsets, corev1.EndpointSubset{Addresses: addrs(tt.ready[i]), NotReadyAddresses: addrs(tt.notReady[i])})
			}
			if got := Truncate(subsets, tt.max); got != tt.truncated {
				t.Fatalf("Truncate = %v", got)
			}
			for i, s := range subsets {
				if len(s.Addresses) != tt.wantR[i] || len(s.NotReadyAddresses) != tt.wantN[i] {
					t.Fatalf("subset %d: %d ready %d not ready, want %d and %d", i, len(s.Addresses), len(s.NotReadyAddresses), tt.wantR[i], tt.wantN[i])
				}
			}
		})
	}
}

func TestResolvePort(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	pod := mkPod("a", func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP})
		p.Spec.InitContainers = []corev1.Container{
			{Name: "sidecar", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001}}},
			{Name: "init", Ports: []corev1.ContainerPort{{Name: "setup", ContainerPort: 9999}}},
		}
	})
	tests := []struct {
		name string
		sp   corev1.ServicePort
		want int32
		ok   bool
	}{
		{"number", corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8000)}, 8000, true},
		{"unset", corev1.ServicePort{Port: 80}, 80, true},
		{"name", corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}, 8080, true},
		{"name needs the protocol", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns")}, 0, false},
		{"udp name", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}, 53, true},
		{"sidecar port", corev1.ServicePort{Port: 1, TargetPort: intstr.FromString("proxy")}, 15001, true},
		{"plain init container port", corev1.ServicePort{Port: 1, TargetPort: intstr.FromString("setup")}, 0, false},
		{"missing", corev1.ServicePort{Port: 1, TargetPort: intstr.FromString("nope")}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ResolvePort(pod, &tt.sp)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ResolvePort = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTriggerTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := mkSvc(func(s *corev1.Service) { s.CreationTimestamp = metav1.NewTime(t0) })
	at := func(name string, ts time.Time) *corev1.Pod {
		return mkPod(name, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(ts)}}
		})
	}
	tt := NewTriggerTimes()
	if got := tt.Compute("ns/web", svc, []*corev1.Pod{at("a", t0.Add(time.Minute))}); !got.Equal(t0) {
		t.Fatalf("first sync = %v, want the Service's creation", got)
	}
	if got := tt.Compute("ns/web", svc, []*corev1.Pod{at("a", t0.Add(time.Minute))}); !got.IsZero() {
		t.Fatalf("no change = %v, want zero", got)
	}
	got := tt.Compute("ns/web", svc, []*corev1.Pod{at("a", t0.Add(3*time.Minute)), at("b", t0.Add(2*time.Minute))})
	if !got.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("two changes = %v, want the earliest", got)
	}
	tt.Forget("ns/web")
	if got := tt.Compute("ns/web", svc, nil); !got.Equal(t0) {
		t.Fatalf("after Forget = %v", got)
	}
}

func TestDesiredLabels(t *testing.T) {
	svc := mkSvc(func(s *corev1.Service) { s.Labels = map[string]string{"a": "b"} })
	if got := DesiredLabels(svc); !reflect.DeepEqual(got, map[string]string{"a": "b"}) {
		t.Fatalf("labels %v", got)
	}
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	if got := DesiredLabels(svc); !reflect.DeepEqual(got, map[string]string{"a": "b", corev1.IsHeadlessService: ""}) {
		t.Fatalf("headless labels %v", got)
	}
}

func TestPodEndpointChanged(t *testing.T) {
	base := mkPod("a", ip("10.0.0.1"))
	tests := []struct {
		name string
		mut  func(*corev1.Pod)
		want bool
	}{
		{"annotation only", func(p *corev1.Pod) { p.Annotations = map[string]string{"x": "y"} }, false},
		{"labels", func(p *corev1.Pod) { p.Labels = map[string]string{"x": "y"} }, true},
		{"ip", func(p *corev1.Pod) { p.Status.PodIP, p.Status.PodIPs = "10.0.0.2", []corev1.PodIP{{IP: "10.0.0.2"}} }, true},
		{"ready", ready, true},
		{"terminating", terminating, true},
		{"phase", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, true},
		{"ports", httpPort(1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := base.DeepCopy()
			tt.mut(cur)
			if got := PodEndpointChanged(base, cur); got != tt.want {
				t.Fatalf("PodEndpointChanged = %v", got)
			}
		})
	}
}

func TestOlderResourceVersion(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"9", "10", true}, {"10", "10", false}, {"11", "10", false}, {"x", "10", false}, {"", "1", false}} {
		if got := OlderResourceVersion(tt.a, tt.b); got != tt.want {
			t.Errorf("OlderResourceVersion(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
