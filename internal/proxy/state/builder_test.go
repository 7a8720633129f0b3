package state

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// objects is a random cluster of Services and EndpointSlices whose
// changes bump resourceVersions, as the API server does.
type objects struct {
	rng    *rand.Rand
	rv     int
	svcs   []*corev1.Service
	slices []*discoveryv1.EndpointSlice
	n      int
}

func (o *objects) bump() string { o.rv++; return strconv.Itoa(o.rv) }

func (o *objects) addService() {
	o.n++
	name := fmt.Sprintf("s%d", o.n)
	s := svc(name, func(s *corev1.Service) {
		ip := fmt.Sprintf("10.96.%d.%d", o.n/250, o.n%250+1)
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, []string{ip}
		s.UID = types.UID("uid-" + name)
		if o.rng.IntN(3) == 0 {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53})
		}
	})
	s.ResourceVersion = o.bump()
	o.svcs = append(o.svcs, s)
	for i := range 1 + o.rng.IntN(2) {
		o.addSlice(fmt.Sprintf("%s-%d", name, i), name)
	}
}

func (o *objects) addSlice(name, svcName string) {
	sl := slice(name, svcName, []discoveryv1.EndpointPort{port("http", 8080), {Name: ptr("dns"), Port: ptr(int32(5353)), Protocol: ptr(corev1.ProtocolUDP)}})
	for range o.rng.IntN(4) {
		sl.Endpoints = append(sl.Endpoints, o.endpoint())
	}
	sl.ResourceVersion = o.bump()
	o.slices = append(o.slices, sl)
}

func (o *objects) endpoint() discoveryv1.Endpoint {
	return sliceEP(fmt.Sprintf("10.42.0.%d", 1+o.rng.IntN(30)), ptr(o.rng.IntN(3) != 0), fmt.Sprintf("n%d", o.rng.IntN(3)))
}

// step changes one object (or none) and returns what it did.
func (o *objects) step() string {
	switch o.rng.IntN(9) {
	case 0:
		o.addService()
		return "add service"
	case 1:
		if len(o.svcs) > 0 {
			i := o.rng.IntN(len(o.svcs))
			o.svcs = append(o.svcs[:i], o.svcs[i+1:]...)
		}
		return "remove service (slices stay, as until garbage collection)"
	case 2:
		if len(o.svcs) > 0 {
			s := o.svcs[o.rng.IntN(len(o.svcs))].DeepCopy()
			s.Spec.Ports[0].Port = int32(1 + o.rng.IntN(1000))
			s.ResourceVersion = o.bump()
			o.replaceService(s)
		}
		return "change port"
	case 3:
		if len(o.svcs) > 0 {
			s := o.svcs[o.rng.IntN(len(o.svcs))].DeepCopy()
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
			s.ResourceVersion = o.bump()
			o.replaceService(s)
		}
		return "change service policy"
	case 4, 5:
		if len(o.slices) > 0 {
			i := o.rng.IntN(len(o.slices))
			sl := o.slices[i].DeepCopy()
			if len(sl.Endpoints) > 0 {
				e := &sl.Endpoints[o.rng.IntN(len(sl.Endpoints))]
				e.Conditions.Ready = ptr(e.Conditions.Ready != nil && !*e.Conditions.Ready)
			} else {
				sl.Endpoints = append(sl.Endpoints, o.endpoint())
			}
			sl.ResourceVersion = o.bump()
			o.slices[i] = sl
		}
		return "toggle endpoint ready"
	case 6:
		if len(o.slices) > 0 {
			i := o.rng.IntN(len(o.slices))
			o.slices = append(o.slices[:i], o.slices[i+1:]...)
		}
		return "remove slice"
	case 7:
		if len(o.svcs) > 0 {
			s := o.svcs[o.rng.IntN(len(o.svcs))]
			o.addSlice(fmt.Sprintf("%s-x%d", s.Name, o.rv), s.Name)
		}
		return "add slice"
	}
	return "nothing"
}

func (o *objects) replaceService(s *corev1.Service) {
	for i := range o.svcs {
		if o.svcs[i].Name == s.Name {
			o.svcs[i] = s
		}
	}
}

// TestBuilderEqualsBuild walks random object changes and checks after
// each that the caching Builder's result equals Build's, whatever the
// order the objects are listed in.
func TestBuilderEqualsBuild(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		o := &objects{rng: rand.New(rand.NewPCG(seed, 7))}
		for range 10 {
			o.addService()
		}
		var b Builder
		for step := range 300 {
			what := o.step()
			svcs, slices := append([]*corev1.Service(nil), o.svcs...), append([]*discoveryv1.EndpointSlice(nil), o.slices...)
			o.rng.Shuffle(len(svcs), func(i, j int) { svcs[i], svcs[j] = svcs[j], svcs[i] })
			o.rng.Shuffle(len(slices), func(i, j int) { slices[i], slices[j] = slices[j], slices[i] })
			if diff := cmp.Diff(Build(o.svcs, o.slices), b.Build(svcs, slices)); diff != "" {
				t.Fatalf("seed %d step %d (%s): Builder differs from Build (-Build +Builder):\n%s", seed, step, what, diff)
			}
		}
	}
}

// TestBuilderReuses checks that an unchanged Service's ports are not
// recomputed and that objects without a resourceVersion never hit the
// cache.
func TestBuilderReuses(t *testing.T) {
	a, c := svc("a", nil), svc("c", nil)
	a.ResourceVersion, c.ResourceVersion = "1", ""
	sa := slice("a-1", "a", []discoveryv1.EndpointPort{port("http", 80)}, sliceEP("10.42.0.1", nil, ""))
	sa.ResourceVersion = "2"
	var b Builder
	first := b.Build([]*corev1.Service{a, c}, []*discoveryv1.EndpointSlice{sa})
	// Changed without a new resourceVersion: invisible to the cache for
	// a, seen for c (never cached).
	sa.Endpoints[0].Addresses = []string{"10.42.0.2"}
	c.Spec.Ports[0].Port = 81
	second := b.Build([]*corev1.Service{a, c}, []*discoveryv1.EndpointSlice{sa})
	if &first[0].Endpoints[0] != &second[0].Endpoints[0] {
		t.Errorf("unchanged Service a was recomputed")
	}
	if second[1].Port != 81 {
		t.Errorf("Service c without resourceVersion was cached: port %d", second[1].Port)
	}
	sa.ResourceVersion = "3"
	if third := b.Build([]*corev1.Service{a, c}, []*discoveryv1.EndpointSlice{sa}); third[0].Endpoints[0].IP != "10.42.0.2" {
		t.Errorf("new slice version not seen: %v", third[0].Endpoints)
	}
}
