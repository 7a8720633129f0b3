// Package tainttoleration implements the TaintToleration filter and score:
// a node's NoSchedule and NoExecute taints must be tolerated; nodes with
// fewer untolerated PreferNoSchedule taints score higher.
package tainttoleration

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	v1 "k8s.io/api/core/v1"
)

// Name is the plugin name.
const Name = "TaintToleration"

const preScoreKey = "PreScore" + Name

// TaintToleration is the plugin.
type TaintToleration struct{}

// Name implements framework.Plugin.
func (TaintToleration) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (TaintToleration) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.NodeUpdate}
}

// Filter implements framework.FilterPlugin.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	taints := ni.Node().Spec.Taints
	if len(taints) == 0 {
		return nil
	}
	t, found := helper.FindUntoleratedTaint(taints, pod.Pod.Spec.Tolerations, v1.TaintEffectNoSchedule, v1.TaintEffectNoExecute)
	if !found {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
}

type preScoreState struct {
	tolerations []v1.Toleration
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore implements framework.PreScorePlugin: only tolerations with an
// empty or PreferNoSchedule effect count when scoring.
func (TaintToleration) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	var tols []v1.Toleration
	for _, t := range pod.Pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == v1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(preScoreKey, &preScoreState{tolerations: tols})
	return nil
}

// Score implements framework.ScorePlugin: the number of untolerated
// PreferNoSchedule taints (normalised in reverse).
func (TaintToleration) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, _ := state.Read(preScoreKey).(*preScoreState)
	if s == nil {
		return 0, framework.AsStatus(fmt.Errorf("%s: missing PreScore state", Name))
	}
	var n int64
	taints := ni.Node().Spec.Taints
	for i := range taints {
		if taints[i].Effect == v1.TaintEffectPreferNoSchedule && !helper.Tolerated(s.tolerations, &taints[i]) {
			n++
		}
	}
	return n, nil
}

// NormalizeScore implements framework.ScoreNormalizer.
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}
