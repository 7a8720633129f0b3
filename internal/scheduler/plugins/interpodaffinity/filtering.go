package interpodaffinity

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const preFilterKey = "PreFilter" + Name

// pairCounts counts matching pods per topology domain.
type pairCounts map[topologyPair]int64

func (m pairCounts) update(node *v1.Node, key string, delta int64) {
	if v, ok := node.Labels[key]; ok {
		p := topologyPair{key, v}
		m[p] += delta
		if m[p] == 0 {
			delete(m, p)
		}
	}
}

func (m pairCounts) clone() pairCounts {
	c := make(pairCounts, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

type preFilterState struct {
	// existingAnti counts, per domain, existing pods whose required
	// anti-affinity selects the incoming pod.
	existingAnti pairCounts
	// affinity counts pods matching all of the pod's affinity terms.
	affinity pairCounts
	// anti counts pods matching each of the pod's anti-affinity terms.
	anti          pairCounts
	affinityTerms []framework.AffinityTerm
	antiTerms     []framework.AffinityTerm
	nsLabels      labels.Set
}

func (s *preFilterState) Clone() framework.StateData {
	c := *s
	c.existingAnti, c.affinity, c.anti = s.existingAnti.clone(), s.affinity.clone(), s.anti.clone()
	return &c
}

// updateWithPod adds (delta 1) or removes (-1) an existing pod's
// contribution on node.
func (s *preFilterState) updateWithPod(p *framework.PodInfo, node *v1.Node, incoming *v1.Pod, delta int64) {
	if node == nil {
		return
	}
	for i := range p.RequiredAntiAffinityTerms {
		t := &p.RequiredAntiAffinityTerms[i]
		if t.Matches(incoming, s.nsLabels) {
			s.existingAnti.update(node, t.TopologyKey, delta)
		}
	}
	if matchesAll(s.affinityTerms, p.Pod) {
		for _, t := range s.affinityTerms {
			s.affinity.update(node, t.TopologyKey, delta)
		}
	}
	for i := range s.antiTerms {
		if s.antiTerms[i].Matches(p.Pod, nil) {
			s.anti.update(node, s.antiTerms[i].TopologyKey, delta)
		}
	}
}

// PreFilter implements framework.PreFilterPlugin. It counts, per topology
// domain, the pods relevant to the incoming pod's required terms and the
// existing pods whose required anti-affinity rejects it. Pods without
// required terms in a cluster without required anti-affinity skip.
func (pl *InterPodAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	if pod.ParseError != nil {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("invalid pod affinity: %v", pod.ParseError))
	}
	snap := state.Snapshot
	hasTerms := len(pod.RequiredAffinityTerms)+len(pod.RequiredAntiAffinityTerms) > 0
	if !hasTerms && len(snap.WithRequiredAntiAffinity) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{existingAnti: pairCounts{}, affinity: pairCounts{}, anti: pairCounts{},
		affinityTerms: pl.resolveNamespaces(pod.RequiredAffinityTerms),
		antiTerms:     pl.resolveNamespaces(pod.RequiredAntiAffinityTerms),
		nsLabels:      pl.nsLabels(pod.Pod.Namespace)}
	for _, ni := range snap.WithRequiredAntiAffinity {
		for _, p := range ni.PodsWithRequiredAntiAffinity {
			for i := range p.RequiredAntiAffinityTerms {
				t := &p.RequiredAntiAffinityTerms[i]
				if t.Matches(pod.Pod, s.nsLabels) {
					s.existingAnti.update(ni.Node(), t.TopologyKey, 1)
				}
			}
		}
	}
	if hasTerms {
		for _, ni := range snap.Nodes {
			node := ni.Node()
			for _, p := range ni.Pods {
				if matchesAll(s.affinityTerms, p.Pod) {
					for _, t := range s.affinityTerms {
						s.affinity.update(node, t.TopologyKey, 1)
					}
				}
				for i := range s.antiTerms {
					if s.antiTerms[i].Matches(p.Pod, nil) {
						s.anti.update(node, s.antiTerms[i].TopologyKey, 1)
					}
				}
			}
		}
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

// AddPod implements framework.PreFilterExtensions.
func (pl *InterPodAffinity) AddPod(_ context.Context, state *framework.CycleState, pod, add *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	if s, ok := state.Read(preFilterKey).(*preFilterState); ok {
		s.updateWithPod(add, ni.Node(), pod.Pod, 1)
	}
	return nil
}

// RemovePod implements framework.PreFilterExtensions.
func (pl *InterPodAffinity) RemovePod(_ context.Context, state *framework.CycleState, pod, remove *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	if s, ok := state.Read(preFilterKey).(*preFilterState); ok {
		s.updateWithPod(remove, ni.Node(), pod.Pod, -1)
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (pl *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, ok := state.Read(preFilterKey).(*preFilterState)
	if !ok {
		return framework.AsStatus(fmt.Errorf("%s: missing PreFilter state", Name))
	}
	node := ni.Node()
	if !satisfiesAffinity(s, node, pod.Pod) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	for _, t := range s.antiTerms {
		if v, ok := node.Labels[t.TopologyKey]; ok && s.anti[topologyPair{t.TopologyKey, v}] > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
		}
	}
	for p, n := range s.existingAnti {
		if v, ok := node.Labels[p.key]; ok && n > 0 && v == p.value {
			return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
		}
	}
	return nil
}

// satisfiesAffinity: every affinity term's domain on this node must hold a
// matching pod; as an exception, when no matching pod exists anywhere and
// the pod matches its own terms, it may start the group on any node that
// has the topology keys.
func satisfiesAffinity(s *preFilterState, node *v1.Node, pod *v1.Pod) bool {
	if len(s.affinityTerms) == 0 {
		return true
	}
	podsExist := true
	for _, t := range s.affinityTerms {
		v, ok := node.Labels[t.TopologyKey]
		if !ok {
			return false
		}
		if s.affinity[topologyPair{t.TopologyKey, v}] <= 0 {
			podsExist = false
		}
	}
	if podsExist {
		return true
	}
	return len(s.affinity) == 0 && matchesAll(s.affinityTerms, pod)
}
