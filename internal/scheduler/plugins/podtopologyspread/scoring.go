package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	v1 "k8s.io/api/core/v1"
)

const preScoreKey = "PreScore" + Name

type preScoreState struct {
	constraints []constraint
	ignored     map[string]bool
	// counts[i] maps a domain of constraint i (non-hostname keys) to its
	// matching pods.
	counts  []map[string]int64
	weights []float64
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore implements framework.PreScorePlugin for the pod's
// ScheduleAnyway constraints, or the default constraints if it has none.
// With its own constraints, feasible nodes missing a key are not scored
// (they get 0); default constraints tolerate missing keys.
func (pl *PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	var cs []constraint
	own := len(pod.Pod.Spec.TopologySpreadConstraints) > 0
	if own {
		var err error
		if cs, err = parseConstraints(pod.Pod, v1.ScheduleAnyway); err != nil {
			return framework.AsStatus(err)
		}
	} else {
		cs = pl.defaultConstraints(pod.Pod)
	}
	if len(cs) == 0 || len(state.Snapshot.Nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &preScoreState{constraints: cs, ignored: map[string]bool{}, counts: make([]map[string]int64, len(cs)), weights: make([]float64, len(cs))}
	sizes := make([]int, len(cs))
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range nodes {
		node := ni.Node()
		if own && !hasAllKeys(node, cs) {
			s.ignored[node.Name] = true
			continue
		}
		for i := range cs {
			if cs[i].TopologyKey == v1.LabelHostname {
				continue
			}
			// A node without the key (possible with default constraints)
			// counts as the domain "", as in Kubernetes.
			v := node.Labels[cs[i].TopologyKey]
			if _, seen := s.counts[i][v]; !seen {
				s.counts[i][v] = 0
				sizes[i]++
			}
		}
	}
	for i := range cs {
		n := sizes[i]
		if cs[i].TopologyKey == v1.LabelHostname {
			n = len(nodes) - len(s.ignored)
		}
		s.weights[i] = math.Log(float64(n + 2))
	}
	req := helper.GetRequiredNodeAffinity(pod.Pod)
	for _, ni := range state.Snapshot.Nodes {
		node := ni.Node()
		if node == nil || (own && !hasAllKeys(node, cs)) {
			continue
		}
		for i := range cs {
			c := &cs[i]
			if c.TopologyKey == v1.LabelHostname || !c.includes(pod.Pod, node, &req) {
				continue
			}
			v := node.Labels[c.TopologyKey]
			if _, tracked := s.counts[i][v]; tracked {
				s.counts[i][v] += int64(countMatching(ni.Pods, c.Selector, pod.Pod.Namespace))
			}
		}
	}
	state.Write(preScoreKey, s)
	return nil
}

// Score implements framework.ScorePlugin: for each constraint, the
// matching pods in the node's domain times the domain-count weight
// log(domains+2), plus maxSkew-1; fewer is better after normalisation.
func (pl *PodTopologySpread) Score(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, ok := state.Read(preScoreKey).(*preScoreState)
	if !ok {
		return 0, framework.AsStatus(fmt.Errorf("%s: missing PreScore state", Name))
	}
	node := ni.Node()
	if s.ignored[node.Name] {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.TopologyKey]
		if !ok {
			continue
		}
		var cnt int64
		if c.TopologyKey == v1.LabelHostname {
			cnt = int64(countMatching(ni.Pods, c.Selector, pod.Pod.Namespace))
		} else {
			cnt = s.counts[i][v]
		}
		score += float64(cnt)*s.weights[i] + float64(c.MaxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// NormalizeScore implements framework.ScoreNormalizer: ignored nodes get 0;
// the others 100*(max+min-score)/max (100 for all when max is 0).
func (pl *PodTopologySpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	s, ok := state.Read(preScoreKey).(*preScoreState)
	if !ok {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, sc := range scores {
		if s.ignored[sc.Name] {
			continue
		}
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored[scores[i].Name]:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
