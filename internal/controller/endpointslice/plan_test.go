package endpointslice

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func svc(mut ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "svc-uid", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.10", IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}}},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

func pod(i int, mut ...func(*corev1.Pod)) *corev1.Pod {
	ip := fmt.Sprintf("10.42.%d.%d", i/200, i%200+1)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("web-%03d", i), UID: types.UID(fmt.Sprintf("pod-%d", i))},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func pods(n int) []*corev1.Pod {
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = pod(i)
	}
	return out
}

var nodes = map[string]*corev1.Node{
	"node-a": {ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{corev1.LabelTopologyZone: "z1"}}},
}

func nodeFn(name string) *corev1.Node { return nodes[name] }

// apply plays the API server: creations get names, the plan's writes
// replace the existing slices.
func apply(existing []*discoveryv1.EndpointSlice, p Plan) []*discoveryv1.EndpointSlice {
	byName := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		byName[s.Name] = s
	}
	for _, s := range p.Delete {
		delete(byName, s.Name)
	}
	for _, s := range p.Update {
		byName[s.Name] = s
	}
	for i, s := range p.Create {
		s = s.DeepCopy()
		s.Name = fmt.Sprintf("%s%d-%d", s.GenerateName, time.Now().UnixNano(), i)
		byName[s.Name] = s
	}
	out := make([]*discoveryv1.EndpointSlice, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sizes(slices []*discoveryv1.EndpointSlice) []int {
	out := []int{}
	for _, s := range slices {
		out = append(out, len(s.Endpoints))
	}
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

func run(t *testing.T, s *corev1.Service, ps []*corev1.Pod, existing []*discoveryv1.EndpointSlice) (Plan, []*discoveryv1.EndpointSlice) {
	t.Helper()
	p, _ := plan(planInput{svc: s, pods: ps, node: nodeFn, existing: existing, max: 100})
	return p, apply(existing, p)
}

func counts(p Plan) [3]int { return [3]int{len(p.Create), len(p.Update), len(p.Delete)} }

func TestPlanSplitsAndKeepsChurnLow(t *testing.T) {
	s := svc()
	p, slices := run(t, s, pods(250), nil)
	if counts(p) != [3]int{3, 0, 0} || !reflect.DeepEqual(sizes(slices), []int{100, 100, 50}) {
		t.Fatalf("new service: plan %v, sizes %v", counts(p), sizes(slices))
	}
	// Steady state: nothing to write.
	if p, _ := run(t, s, pods(250), slices); !p.Empty() {
		t.Fatalf("steady state: plan %v", counts(p))
	}
	// One pod turns unready: one slice rewritten.
	ps := pods(250)
	ps[7].Status.Conditions[0].Status = corev1.ConditionFalse
	p, slices = run(t, s, ps, slices)
	if counts(p) != [3]int{0, 1, 0} {
		t.Fatalf("one change: plan %v", counts(p))
	}
	// Ten pods go, five come: the new ones fill the changed slice.
	ps = append(ps[:10:10], ps[20:]...)
	for i := 250; i < 255; i++ {
		ps = append(ps, pod(i))
	}
	p, slices = run(t, s, ps, slices)
	if counts(p) != [3]int{0, 1, 0} || !reflect.DeepEqual(sizes(slices), []int{100, 95, 50}) {
		t.Fatalf("replace: plan %v sizes %v", counts(p), sizes(slices))
	}
	// New pods that fit go into the unchanged slice they fill most.
	for i := 255; i < 260; i++ {
		ps = append(ps, pod(i))
	}
	p, slices = run(t, s, ps, slices)
	if counts(p) != [3]int{0, 1, 0} || !reflect.DeepEqual(sizes(slices), []int{100, 100, 50}) {
		t.Fatalf("fill: plan %v sizes %v", counts(p), sizes(slices))
	}
	// Everything gone: one slice is kept as the empty placeholder.
	p, slices = run(t, s, nil, slices)
	if counts(p) != [3]int{0, 1, 2} || len(slices) != 1 || len(slices[0].Endpoints) != 0 || len(slices[0].Ports) != 0 {
		t.Fatalf("scale to zero: plan %v slices %d", counts(p), len(slices))
	}
	if p, _ := run(t, s, nil, slices); !p.Empty() {
		t.Fatalf("placeholder steady state: plan %v", counts(p))
	}
	// Pods come back: the placeholder is reused.
	p, slices = run(t, s, pods(3), slices)
	if counts(p) != [3]int{0, 1, 0} || !reflect.DeepEqual(sizes(slices), []int{3}) {
		t.Fatalf("back from zero: plan %v sizes %v", counts(p), sizes(slices))
	}
}

func TestPlanSliceContent(t *testing.T) {
	s := svc()
	term := pod(1, func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now })
	unready := pod(2, func(p *corev1.Pod) { p.Status.Conditions = nil })
	noNode := pod(3, func(p *corev1.Pod) { p.Spec.NodeName = "ghost" })
	host := pod(4, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "h4", "web" })
	p, missing := plan(planInput{svc: s, pods: []*corev1.Pod{pod(0), term, unready, noNode, host}, node: nodeFn, max: 100})
	if !reflect.DeepEqual(missing, []string{"web-003"}) {
		t.Fatalf("missing = %v", missing)
	}
	if len(p.Create) != 1 {
		t.Fatalf("plan %v", counts(p))
	}
	sl := p.Create[0]
	wantLabels := map[string]string{"tier": "front", discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: ControllerName}
	if sl.GenerateName != "web-" || !reflect.DeepEqual(sl.Labels, wantLabels) || sl.AddressType != discoveryv1.AddressTypeIPv4 {
		t.Fatalf("slice meta %+v", sl.ObjectMeta)
	}
	if o := sl.OwnerReferences; len(o) != 1 || o[0].UID != "svc-uid" || o[0].Kind != "Service" || !*o[0].Controller || !*o[0].BlockOwnerDeletion {
		t.Fatalf("owner %+v", o)
	}
	if len(sl.Ports) != 1 || *sl.Ports[0].Port != 8080 || *sl.Ports[0].Name != "http" || *sl.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Fatalf("ports %+v", sl.Ports)
	}
	got := map[string]discoveryv1.Endpoint{}
	for _, ep := range sl.Endpoints {
		got[ep.TargetRef.Name] = ep
	}
	cond := func(r, s, t bool) discoveryv1.EndpointConditions {
		return discoveryv1.EndpointConditions{Ready: &r, Serving: &s, Terminating: &t}
	}
	want := map[string]discoveryv1.Endpoint{
		"web-000": {Addresses: []string{"10.42.0.1"}, Conditions: cond(true, true, false), NodeName: ptr.To("node-a"), Zone: ptr.To("z1"),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web-000", UID: "pod-0"}},
		"web-001": {Addresses: []string{"10.42.0.2"}, Conditions: cond(false, true, true), NodeName: ptr.To("node-a"), Zone: ptr.To("z1"),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web-001", UID: "pod-1"}},
		"web-002": {Addresses: []string{"10.42.0.3"}, Conditions: cond(false, false, false), NodeName: ptr.To("node-a"), Zone: ptr.To("z1"),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web-002", UID: "pod-2"}},
		"web-004": {Addresses: []string{"10.42.0.5"}, Conditions: cond(true, true, false), NodeName: ptr.To("node-a"), Zone: ptr.To("z1"),
			Hostname:  ptr.To("h4"),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web-004", UID: "pod-4"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("endpoints\n got %+v\nwant %+v", got, want)
	}
}

func TestPlanPublishNotReady(t *testing.T) {
	s := svc(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true })
	noNode := pod(3, func(p *corev1.Pod) { p.Spec.NodeName = "ghost"; p.Status.Conditions = nil })
	p, missing := plan(planInput{svc: s, pods: []*corev1.Pod{noNode}, node: nodeFn, max: 100})
	if len(missing) != 0 || len(p.Create) != 1 || len(p.Create[0].Endpoints) != 1 {
		t.Fatalf("plan %v missing %v", counts(p), missing)
	}
	c := p.Create[0].Endpoints[0].Conditions
	if !*c.Ready || *c.Serving || p.Create[0].Endpoints[0].Zone != nil {
		t.Fatalf("endpoint %+v", p.Create[0].Endpoints[0])
	}
}

func TestPlanAddressTypes(t *testing.T) {
	dual := func(p *corev1.Pod) {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: "fd00::" + fmt.Sprint(len(p.Name))})
	}
	tests := []struct {
		name  string
		svc   *corev1.Service
		want  map[discoveryv1.AddressType]int // endpoints per type
		slice int
	}{
		{"IPv4", svc(), map[discoveryv1.AddressType]int{discoveryv1.AddressTypeIPv4: 2}, 1},
		{"IPv6", svc(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.IPFamilies = "fd00::a", []corev1.IPFamily{corev1.IPv6Protocol}
		}), map[discoveryv1.AddressType]int{discoveryv1.AddressTypeIPv6: 1}, 1},
		{"dual stack", svc(func(s *corev1.Service) {
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		}), map[discoveryv1.AddressType]int{discoveryv1.AddressTypeIPv4: 2, discoveryv1.AddressTypeIPv6: 1}, 2},
		{"headless without families: both", svc(func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.IPFamilies = corev1.ClusterIPNone, nil
		}), map[discoveryv1.AddressType]int{discoveryv1.AddressTypeIPv4: 2, discoveryv1.AddressTypeIPv6: 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := plan(planInput{svc: tt.svc, pods: []*corev1.Pod{pod(0, dual), pod(1)}, node: nodeFn, max: 100})
			got := map[discoveryv1.AddressType]int{}
			for _, s := range p.Create {
				got[s.AddressType] += len(s.Endpoints)
			}
			if !reflect.DeepEqual(got, tt.want) || len(p.Create) != tt.slice {
				t.Fatalf("endpoints per type %v in %d slices", got, len(p.Create))
			}
		})
	}
	// Slices of an address type the Service no longer has are deleted.
	old := newSlice(svc(), discoveryv1.AddressTypeIPv6, nil)
	old.Name = "web-v6"
	p, _ := plan(planInput{svc: svc(), pods: []*corev1.Pod{pod(0)}, node: nodeFn, max: 100, existing: []*discoveryv1.EndpointSlice{old}})
	if counts(p) != [3]int{1, 0, 1} || p.Delete[0].Name != "web-v6" {
		t.Fatalf("plan %v", counts(p))
	}
}

func TestPlanReplacesForeignAndChangedSlices(t *testing.T) {
	s := svc()
	_, slices := run(t, s, pods(3), nil)
	// A slice of an earlier Service of the same name is deleted, not reused.
	stale := slices[0].DeepCopy()
	stale.Name, stale.OwnerReferences[0].UID = "web-old", "old-uid"
	p, _ := run(t, s, pods(3), append(slices, stale))
	if counts(p) != [3]int{0, 0, 1} || p.Delete[0].Name != "web-old" {
		t.Fatalf("foreign slice: plan %v", counts(p))
	}
	// New target port: the slice is rewritten in place.
	s2 := svc(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt32(9000) })
	p, after := run(t, s2, pods(3), slices)
	if counts(p) != [3]int{0, 1, 0} || *after[0].Ports[0].Port != 9000 || after[0].Name != slices[0].Name {
		t.Fatalf("port change: plan %v", counts(p))
	}
	// New Service labels: the slice is updated.
	s3 := svc(func(s *corev1.Service) { s.Labels = map[string]string{"tier": "back"} })
	if p, _ := run(t, s3, pods(3), slices); counts(p) != [3]int{0, 1, 0} || p.Update[0].Labels["tier"] != "back" {
		t.Fatalf("label change: plan %v", counts(p))
	}
}

func TestNamePrefix(t *testing.T) {
	if got := namePrefix("web"); got != "web-" {
		t.Fatalf("namePrefix = %q", got)
	}
}

func TestTracker(t *testing.T) {
	mk := func(name, rv string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}}
	}
	list := func(s ...*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice { return s }
	tests := []struct {
		name   string
		cached []*discoveryv1.EndpointSlice
		later  time.Duration
		want   bool
	}{
		{"created slice not cached yet", list(mk("b", "5")), 0, true},
		{"older version cached", list(mk("a", "9")), 0, true},
		{"deleted slice still cached", list(mk("a", "10"), mk("b", "5")), 0, true},
		{"caught up", list(mk("a", "11")), 0, false},
		{"expectations lapse", list(mk("b", "5")), 10 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			tr := newTracker(5 * time.Second)
			tr.now = func() time.Time { return now }
			tr.wrote("ns/web", mk("a", "10"))
			tr.deleted("ns/web", "b")
			now = now.Add(tt.later)
			if got := tr.stale("ns/web", tt.cached); got != tt.want {
				t.Fatalf("stale = %v", got)
			}
			if tr.stale("ns/other", nil) {
				t.Fatal("another Service is never stale")
			}
		})
	}
	tr := newTracker(time.Minute)
	tr.wrote("ns/web", mk("d", "30"))
	tr.observedDeletion("ns/web", "d")
	if tr.stale("ns/web", nil) {
		t.Fatal("an observed deletion clears the expectation")
	}
	tr.wrote("ns/web", mk("d", "30"))
	if tr.stale("ns/web", list(mk("d", "30"))) || tr.stale("ns/web", nil) {
		t.Fatal("a satisfied expectation is dropped")
	}
}
