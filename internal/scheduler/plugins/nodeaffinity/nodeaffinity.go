// Package nodeaffinity implements the NodeAffinity filter and score: a node
// must match the pod's spec.nodeSelector and required node affinity; nodes
// matching more (by weight) preferred terms score higher.
package nodeaffinity

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	v1 "k8s.io/api/core/v1"
)

// Name is the plugin name.
const Name = "NodeAffinity"

// ErrReason is Kubernetes' reason for a node that does not match.
const ErrReason = "node(s) didn't match Pod's node affinity/selector"

const (
	preFilterKey = "PreFilter" + Name
	preScoreKey  = "PreScore" + Name
)

// NodeAffinity is the plugin.
type NodeAffinity struct{}

// Name implements framework.Plugin.
func (NodeAffinity) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (NodeAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.NodeUpdate}
}

type preFilterState struct {
	required helper.RequiredNodeAffinity
}

func (s *preFilterState) Clone() framework.StateData { return s }

// PreFilter implements framework.PreFilterPlugin. Pods without a node
// selector or required affinity skip the filter; a required affinity whose
// every term pins metadata.name narrows the nodes to those names.
func (NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	req := helper.GetRequiredNodeAffinity(pod.Pod)
	if req.IsEmpty() {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterKey, &preFilterState{required: req})
	a := pod.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil, nil
	}
	names := map[string]struct{}{}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		vals, ok := helper.MetadataNameValues(&t)
		if !ok {
			return nil, nil // some term is not pinned to names: all nodes
		}
		for _, v := range vals {
			names[v] = struct{}{}
		}
	}
	if len(names) == 0 {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return &framework.PreFilterResult{NodeNames: names}, nil
}

// Filter implements framework.FilterPlugin.
func (NodeAffinity) Filter(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, _ := state.Read(preFilterKey).(*preFilterState)
	if s == nil {
		return framework.AsStatus(fmt.Errorf("%s: missing PreFilter state", Name))
	}
	if !s.required.Match(ni.Node()) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return nil
}

type preferredTerm struct {
	term   helper.NodeSelectorTerm
	weight int64
}

type preScoreState struct {
	terms []preferredTerm
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore implements framework.PreScorePlugin; pods without preferred
// terms skip scoring.
func (NodeAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	a := pod.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	var s preScoreState
	for _, p := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if p.Weight == 0 {
			continue
		}
		s.terms = append(s.terms, preferredTerm{term: helper.ParseNodeSelectorTerm(&p.Preference), weight: int64(p.Weight)})
	}
	state.Write(preScoreKey, &s)
	return nil
}

// Score implements framework.ScorePlugin: the sum of the weights of the
// preferred terms the node matches.
func (NodeAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, _ := state.Read(preScoreKey).(*preScoreState)
	if s == nil {
		return 0, framework.AsStatus(fmt.Errorf("%s: missing PreScore state", Name))
	}
	return MatchWeight(s.terms, ni.Node()), nil
}

// MatchWeight sums the weights of the terms node matches.
func MatchWeight(terms []preferredTerm, node *v1.Node) int64 {
	var sum int64
	for i := range terms {
		if terms[i].term.Match(node) {
			sum += terms[i].weight
		}
	}
	return sum
}

// NormalizeScore implements framework.ScoreNormalizer.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}
