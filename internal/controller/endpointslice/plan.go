package endpointslice

import (
	"sort"

	"github.com/skiff-io/skiff/internal/controller/endpoints"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// Plan lists the writes that bring a Service's slices to the desired
// state. Update and Create hold complete new objects; Create ones have
// only a generateName.
type Plan struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
}

// Empty reports whether nothing needs writing.
func (p Plan) Empty() bool { return len(p.Create)+len(p.Update)+len(p.Delete) == 0 }

// planInput is what a sync knows.
type planInput struct {
	svc  *corev1.Service
	pods []*corev1.Pod
	// node returns a node by name, nil when it does not exist.
	node func(name string) *corev1.Node
	// existing are the slices this controller manages for the Service.
	existing []*discoveryv1.EndpointSlice
	// max is the number of endpoints per slice.
	max int
}

// plan computes the writes for a Service with as little churn as
// possible: endpoints stay in the slice they are in, changed slices are
// topped up first, leftovers go into the unchanged slice they fill best
// or into new slices, and a slice that would be deleted is reused for
// one that would be created. A Service without endpoints keeps one empty
// placeholder slice per address type. It also returns the names of pods
// left out because their node does not exist (yet).
func plan(in planInput) (Plan, []string) {
	var out Plan
	types := addressTypes(in.svc)
	wanted := map[discoveryv1.AddressType]bool{}
	for _, t := range types {
		wanted[t] = true
	}
	byType := map[discoveryv1.AddressType][]*discoveryv1.EndpointSlice{}
	for _, s := range sortedByName(in.existing) {
		if !wanted[s.AddressType] {
			out.Delete = append(out.Delete, s)
			continue
		}
		byType[s.AddressType] = append(byType[s.AddressType], s)
	}
	skipped := map[string]bool{}
	for _, t := range types {
		p := planType(in, t, byType[t], skipped)
		out.Create = append(out.Create, p.Create...)
		out.Update = append(out.Update, p.Update...)
		out.Delete = append(out.Delete, p.Delete...)
	}
	var missing []string
	for name := range skipped {
		missing = append(missing, name)
	}
	sort.Strings(missing)
	return out, missing
}

// group is the desired endpoints sharing one set of ports.
type group struct {
	ports     []discoveryv1.EndpointPort
	endpoints map[string]discoveryv1.Endpoint
}

func planType(in planInput, t discoveryv1.AddressType, existing []*discoveryv1.EndpointSlice, skipped map[string]bool) Plan {
	var out Plan
	current := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		if !ownedBy(s, in.svc) {
			// Left over from an earlier Service of the same name.
			out.Delete = append(out.Delete, s)
			continue
		}
		k := portsKey(s.Ports)
		current[k] = append(current[k], s)
	}
	desired := map[string]*group{}
	for _, pod := range in.pods {
		if !endpoints.PodIncluded(pod, true) {
			continue
		}
		node := in.node(pod.Spec.NodeName)
		if node == nil && !in.svc.Spec.PublishNotReadyAddresses {
			skipped[pod.Name] = true
			continue
		}
		ep := endpointFor(in.svc, pod, node, t)
		if len(ep.Addresses) == 0 {
			continue
		}
		ports := portsFor(in.svc, pod)
		k := portsKey(ports)
		g := desired[k]
		if g == nil {
			g = &group{ports: ports, endpoints: map[string]discoveryv1.Endpoint{}}
			desired[k] = g
		}
		g.endpoints[endpointKey(&ep)] = ep
	}
	labels := desiredLabels(in.svc)
	keys := make([]string, 0, len(desired))
	for k := range desired {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := planGroup(in.svc, t, current[k], desired[k], labels, in.max)
		out.Create = append(out.Create, p.Create...)
		out.Update = append(out.Update, p.Update...)
		out.Delete = append(out.Delete, p.Delete...)
	}
	for _, k := range sortedKeys(current) {
		if desired[k] == nil {
			out.Delete = append(out.Delete, current[k]...)
		}
	}
	if len(out.Delete) == len(existing) && len(out.Create) == 0 {
		// Nothing would be left: keep (or make) an empty placeholder.
		if len(out.Delete) == 1 && isPlaceholder(out.Delete[0], in.svc, labels) {
			out.Delete = nil
		} else {
			out.Create = append(out.Create, newSlice(in.svc, t, []discoveryv1.EndpointPort{}))
		}
	}
	reuseDeleted(&out, in.svc)
	return out
}

// planGroup reconciles the slices of one port set with its endpoints.
func planGroup(svc *corev1.Service, t discoveryv1.AddressType, existing []*discoveryv1.EndpointSlice, g *group, labels map[string]string, max int) Plan {
	var out Plan
	remaining := make(map[string]discoveryv1.Endpoint, len(g.endpoints))
	for k, ep := range g.endpoints {
		remaining[k] = ep
	}
	var changed, unchanged []*discoveryv1.EndpointSlice
	for _, s := range existing {
		kept := make([]discoveryv1.Endpoint, 0, len(s.Endpoints))
		dirty := false
		for i := range s.Endpoints {
			k := endpointKey(&s.Endpoints[i])
			want, ok := remaining[k]
			if !ok {
				dirty = true // gone, or a duplicate
				continue
			}
			delete(remaining, k)
			if !apiequality.Semantic.DeepEqual(want, s.Endpoints[i]) {
				dirty = true
			}
			kept = append(kept, want)
		}
		labelsChanged := !apiequality.Semantic.DeepEqual(s.Labels, labels)
		switch {
		case dirty && len(kept) == 0:
			out.Delete = append(out.Delete, s)
		case dirty || labelsChanged:
			c := s.DeepCopy()
			c.Endpoints, c.Labels = kept, labels
			changed = append(changed, c)
		default:
			unchanged = append(unchanged, s)
		}
	}
	rest := sortedKeys(remaining)
	take := func(s *discoveryv1.EndpointSlice) {
		for len(rest) > 0 && len(s.Endpoints) < max {
			s.Endpoints = append(s.Endpoints, remaining[rest[0]])
			rest = rest[1:]
		}
	}
	// Top up the slices that are written anyway, fullest first.
	sort.SliceStable(changed, func(i, j int) bool { return len(changed[i].Endpoints) > len(changed[j].Endpoints) })
	for _, s := range changed {
		take(s)
	}
	for len(rest) > 0 {
		var target *discoveryv1.EndpointSlice
		if len(rest) < max {
			if i := fullestFit(unchanged, len(rest), max); i >= 0 {
				target = unchanged[i].DeepCopy()
				unchanged = append(unchanged[:i], unchanged[i+1:]...)
				changed = append(changed, target)
			}
		}
		if target == nil {
			target = newSlice(svc, t, g.ports)
			out.Create = append(out.Create, target)
		}
		take(target)
	}
	out.Update = changed
	return out
}

// fullestFit returns the index of the slice that n more endpoints fill
// the most without overflowing, or -1.
func fullestFit(slices []*discoveryv1.EndpointSlice, n, max int) int {
	best, bestRoom := -1, max+1
	for i, s := range slices {
		room := max - len(s.Endpoints) - n
		if room >= 0 && room < bestRoom {
			best, bestRoom = i, room
		}
	}
	return best
}

// reuseDeleted turns creations into updates of slices of the same
// Service and address type that would otherwise be deleted.
func reuseDeleted(p *Plan, svc *corev1.Service) {
	var keep []*discoveryv1.EndpointSlice
	for _, old := range p.Delete {
		if len(p.Create) == 0 || !ownedBy(old, svc) || old.AddressType != p.Create[len(p.Create)-1].AddressType {
			keep = append(keep, old)
			continue
		}
		s := p.Create[len(p.Create)-1]
		p.Create = p.Create[:len(p.Create)-1]
		u := old.DeepCopy()
		u.Labels, u.Ports, u.Endpoints = s.Labels, s.Ports, s.Endpoints
		p.Update = append(p.Update, u)
	}
	p.Delete = keep
}

// isPlaceholder reports whether a slice is the empty placeholder a
// Service without endpoints keeps.
func isPlaceholder(s *discoveryv1.EndpointSlice, svc *corev1.Service, labels map[string]string) bool {
	return ownedBy(s, svc) && len(s.Endpoints) == 0 && len(s.Ports) == 0 &&
		apiequality.Semantic.DeepEqual(s.Labels, labels)
}

func sortedByName(in []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := append([]*discoveryv1.EndpointSlice(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
