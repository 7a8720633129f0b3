package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const preFilterKey = "PreFilter" + Name

// criticalPaths keeps the two domains with the fewest matching pods; [0]
// always has the minimum.
type criticalPaths [2]struct {
	value string
	num   int
}

func newCriticalPaths() criticalPaths {
	return criticalPaths{{num: math.MaxInt32}, {num: math.MaxInt32}}
}

func (p *criticalPaths) update(value string, num int) {
	i := -1
	if value == p[0].value {
		i = 0
	} else if value == p[1].value {
		i = 1
	}
	if i >= 0 {
		p[i].num = num
		if p[0].num > p[1].num {
			p[0], p[1] = p[1], p[0]
		}
		return
	}
	if num < p[0].num {
		p[1] = p[0]
		p[0].value, p[0].num = value, num
	} else if num < p[1].num {
		p[1].value, p[1].num = value, num
	}
}

type preFilterState struct {
	constraints []constraint
	paths       []criticalPaths
	// counts[i] maps a domain of constraint i to its matching pods.
	counts   []map[string]int
	required helper.RequiredNodeAffinity
}

func (s *preFilterState) Clone() framework.StateData {
	c := &preFilterState{constraints: s.constraints, required: s.required,
		paths: append([]criticalPaths(nil), s.paths...), counts: make([]map[string]int, len(s.counts))}
	for i, m := range s.counts {
		c.counts[i] = make(map[string]int, len(m))
		for k, v := range m {
			c.counts[i][k] = v
		}
	}
	return c
}

func (s *preFilterState) minMatch(i int) int {
	if len(s.counts[i]) < int(s.constraints[i].MinDomains) {
		return 0
	}
	return s.paths[i][0].num
}

// PreFilter implements framework.PreFilterPlugin: it counts, for each
// DoNotSchedule constraint, the matching pods per domain over the nodes
// that have every constraint key and pass the inclusion policies.
func (pl *PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	cs, err := parseConstraints(pod.Pod, v1.DoNotSchedule)
	if err != nil {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, err.Error())
	}
	if len(cs) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{constraints: cs, paths: make([]criticalPaths, len(cs)), counts: make([]map[string]int, len(cs)),
		required: helper.GetRequiredNodeAffinity(pod.Pod)}
	for i := range cs {
		s.counts[i] = map[string]int{}
	}
	for _, ni := range state.Snapshot.Nodes {
		node := ni.Node()
		if node == nil || !hasAllKeys(node, cs) {
			continue
		}
		for i := range cs {
			if !cs[i].includes(pod.Pod, node, &s.required) {
				continue
			}
			s.counts[i][node.Labels[cs[i].TopologyKey]] += countMatching(ni.Pods, cs[i].Selector, pod.Pod.Namespace)
		}
	}
	for i := range cs {
		s.paths[i] = newCriticalPaths()
		for v, n := range s.counts[i] {
			s.paths[i].update(v, n)
		}
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

func (pl *PodTopologySpread) updateWithPod(state *framework.CycleState, pod, other *framework.PodInfo, ni *framework.NodeInfo, delta int) {
	s, ok := state.Read(preFilterKey).(*preFilterState)
	node := ni.Node()
	if !ok || node == nil || other.Pod.Namespace != pod.Pod.Namespace || !hasAllKeys(node, s.constraints) {
		return
	}
	set := labels.Set(other.Pod.Labels)
	for i := range s.constraints {
		c := &s.constraints[i]
		if !c.Selector.Matches(set) || !c.includes(pod.Pod, node, &s.required) {
			continue
		}
		v := node.Labels[c.TopologyKey]
		s.counts[i][v] += delta
		s.paths[i].update(v, s.counts[i][v])
	}
}

// AddPod implements framework.PreFilterExtensions.
func (pl *PodTopologySpread) AddPod(_ context.Context, state *framework.CycleState, pod, add *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	pl.updateWithPod(state, pod, add, ni, 1)
	return nil
}

// RemovePod implements framework.PreFilterExtensions.
func (pl *PodTopologySpread) RemovePod(_ context.Context, state *framework.CycleState, pod, remove *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	pl.updateWithPod(state, pod, remove, ni, -1)
	return nil
}

// Filter implements framework.FilterPlugin: the node needs every key, and
// placing the pod must keep each constraint's skew (matching pods in the
// node's domain, plus one if the pod matches itself, minus the global
// minimum) within maxSkew.
func (pl *PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, ok := state.Read(preFilterKey).(*preFilterState)
	if !ok {
		return framework.AsStatus(fmt.Errorf("%s: missing PreFilter state", Name))
	}
	node := ni.Node()
	self := labels.Set(pod.Pod.Labels)
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.TopologyKey]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		selfMatch := 0
		if c.Selector.Matches(self) {
			selfMatch = 1
		}
		if skew := s.counts[i][v] + selfMatch - s.minMatch(i); skew > int(c.MaxSkew) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}
