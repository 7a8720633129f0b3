package interpodaffinity

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const preScoreKey = "PreScore" + Name

type preScoreState struct {
	scores map[string]map[string]int64 // topology key -> value -> score
}

func (s *preScoreState) Clone() framework.StateData { return s }

func (s *preScoreState) add(node *v1.Node, key string, w int64) {
	v, ok := node.Labels[key]
	if !ok || w == 0 {
		return
	}
	m := s.scores[key]
	if m == nil {
		m = map[string]int64{}
		s.scores[key] = m
	}
	m[v] += w
}

// PreScore implements framework.PreScorePlugin: it sums, per topology
// domain, the weights of preferred terms linking the incoming pod with the
// pods in the domain (both directions; an existing pod's required affinity
// counts with weight HardPodAffinityWeight; anti-affinity subtracts).
func (pl *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	snap := state.Snapshot
	hasPreferred := len(pod.PreferredAffinityTerms)+len(pod.PreferredAntiAffinityTerms) > 0
	if !hasPreferred && len(snap.WithAffinity) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	aff := resolveWeighted(pl, pod.PreferredAffinityTerms)
	anti := resolveWeighted(pl, pod.PreferredAntiAffinityTerms)
	s := &preScoreState{scores: map[string]map[string]int64{}}
	nodes := snap.WithAffinity
	if hasPreferred {
		nodes = snap.Nodes
	}
	var incomingNS labels.Set
	for _, ni := range nodes {
		node := ni.Node()
		if node == nil {
			continue
		}
		pods := ni.PodsWithAffinity
		if hasPreferred {
			pods = ni.Pods
		}
		for _, p := range pods {
			for i := range aff {
				if aff[i].Matches(p.Pod, nil) {
					s.add(node, aff[i].TopologyKey, int64(aff[i].Weight))
				}
			}
			for i := range anti {
				if anti[i].Matches(p.Pod, nil) {
					s.add(node, anti[i].TopologyKey, -int64(anti[i].Weight))
				}
			}
			if !p.HasAffinity() {
				continue
			}
			if incomingNS == nil {
				incomingNS = pl.nsLabels(pod.Pod.Namespace)
			}
			for i := range p.RequiredAffinityTerms {
				if HardPodAffinityWeight > 0 && p.RequiredAffinityTerms[i].Matches(pod.Pod, incomingNS) {
					s.add(node, p.RequiredAffinityTerms[i].TopologyKey, HardPodAffinityWeight)
				}
			}
			for i := range p.PreferredAffinityTerms {
				if p.PreferredAffinityTerms[i].Matches(pod.Pod, incomingNS) {
					s.add(node, p.PreferredAffinityTerms[i].TopologyKey, int64(p.PreferredAffinityTerms[i].Weight))
				}
			}
			for i := range p.PreferredAntiAffinityTerms {
				if p.PreferredAntiAffinityTerms[i].Matches(pod.Pod, incomingNS) {
					s.add(node, p.PreferredAntiAffinityTerms[i].TopologyKey, -int64(p.PreferredAntiAffinityTerms[i].Weight))
				}
			}
		}
	}
	if len(s.scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreKey, s)
	return nil
}

// Score implements framework.ScorePlugin: the sum of the node's domains'
// scores.
func (pl *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, ok := state.Read(preScoreKey).(*preScoreState)
	if !ok {
		return 0, framework.AsStatus(fmt.Errorf("%s: missing PreScore state", Name))
	}
	var sum int64
	node := ni.Node()
	for key, vals := range s.scores {
		if v, ok := node.Labels[key]; ok {
			sum += vals[v]
		}
	}
	return sum, nil
}

// NormalizeScore implements framework.ScoreNormalizer: a linear map of
// [min(0, lowest), max(0, highest)] onto [0, 100].
func (pl *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	var lo, hi int64
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	diff := hi - lo
	for i := range scores {
		if diff > 0 {
			scores[i].Score = int64(float64(framework.MaxNodeScore) * float64(scores[i].Score-lo) / float64(diff))
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}
