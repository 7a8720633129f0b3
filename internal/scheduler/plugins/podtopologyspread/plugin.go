// Package podtopologyspread implements the PodTopologySpread filter and
// score: pods' topologySpreadConstraints (DoNotSchedule ones filter,
// ScheduleAnyway ones score), and Kubernetes' default spreading of a
// workload's pods across hostnames (maxSkew 3) and zones (maxSkew 5) when a
// pod has no constraints of its own.
package podtopologyspread

import (
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Name is the plugin name.
const Name = "PodTopologySpread"

// Kubernetes' reasons.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// DefaultConstraints are Kubernetes' system default constraints, applied
// (as ScheduleAnyway) to pods without constraints that belong to a
// Service, ReplicaSet, StatefulSet or ReplicationController.
var DefaultConstraints = []v1.TopologySpreadConstraint{
	{MaxSkew: 3, TopologyKey: v1.LabelHostname, WhenUnsatisfiable: v1.ScheduleAnyway},
	{MaxSkew: 5, TopologyKey: v1.LabelTopologyZone, WhenUnsatisfiable: v1.ScheduleAnyway},
}

// PodTopologySpread is the plugin.
type PodTopologySpread struct {
	workloads helper.WorkloadListers
}

// New returns the plugin; workloads find the selector of a pod's workload
// for default spreading (nil listers: no default spreading).
func New(workloads helper.WorkloadListers) *PodTopologySpread {
	return &PodTopologySpread{workloads: workloads}
}

// Name implements framework.Plugin.
func (*PodTopologySpread) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (*PodTopologySpread) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.NodeUpdate,
		framework.AssignedPodAdd, framework.AssignedPodUpdate, framework.AssignedPodDelete}
}

// constraint is a parsed spread constraint.
type constraint struct {
	MaxSkew            int32
	TopologyKey        string
	Selector           labels.Selector
	MinDomains         int32
	NodeAffinityPolicy v1.NodeInclusionPolicy
	NodeTaintsPolicy   v1.NodeInclusionPolicy
}

// parseConstraints returns the pod's constraints with the given action,
// with matchLabelKeys folded into the selectors.
func parseConstraints(pod *v1.Pod, action v1.UnsatisfiableConstraintAction) ([]constraint, error) {
	var out []constraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("parsing topology spread selector: %w", err)
		}
		for _, k := range c.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				if r, err := labels.NewRequirement(k, "in", []string{v}); err == nil {
					sel = sel.Add(*r)
				}
			}
		}
		pc := constraint{MaxSkew: c.MaxSkew, TopologyKey: c.TopologyKey, Selector: sel, MinDomains: 1,
			NodeAffinityPolicy: v1.NodeInclusionPolicyHonor, NodeTaintsPolicy: v1.NodeInclusionPolicyIgnore}
		if c.MinDomains != nil {
			pc.MinDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil {
			pc.NodeAffinityPolicy = *c.NodeAffinityPolicy
		}
		if c.NodeTaintsPolicy != nil {
			pc.NodeTaintsPolicy = *c.NodeTaintsPolicy
		}
		out = append(out, pc)
	}
	return out, nil
}

// defaultConstraints are DefaultConstraints with the selector of the
// pod's workload; none if the pod belongs to no workload.
func (pl *PodTopologySpread) defaultConstraints(pod *v1.Pod) []constraint {
	sel := pl.workloads.DefaultSelector(pod)
	if sel.Empty() {
		return nil
	}
	out := make([]constraint, 0, len(DefaultConstraints))
	for _, c := range DefaultConstraints {
		out = append(out, constraint{MaxSkew: c.MaxSkew, TopologyKey: c.TopologyKey, Selector: sel, MinDomains: 1,
			NodeAffinityPolicy: v1.NodeInclusionPolicyHonor, NodeTaintsPolicy: v1.NodeInclusionPolicyIgnore})
	}
	return out
}

// includes reports whether node counts for constraint c given the pod's
// node affinity and tolerations (the constraint's inclusion policies).
func (c *constraint) includes(pod *v1.Pod, node *v1.Node, req *helper.RequiredNodeAffinity) bool {
	if c.NodeAffinityPolicy == v1.NodeInclusionPolicyHonor && !req.Match(node) {
		return false
	}
	if c.NodeTaintsPolicy == v1.NodeInclusionPolicyHonor {
		if _, bad := helper.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, v1.TaintEffectNoSchedule, v1.TaintEffectNoExecute); bad {
			return false
		}
	}
	return true
}

// hasAllKeys reports whether the node has every constraint's key.
func hasAllKeys(node *v1.Node, cs []constraint) bool {
	for i := range cs {
		if _, ok := node.Labels[cs[i].TopologyKey]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the non-terminating pods in ns that sel selects.
func countMatching(pods []*framework.PodInfo, sel labels.Selector, ns string) int {
	n := 0
	for _, p := range pods {
		if p.Pod.DeletionTimestamp != nil || p.Pod.Namespace != ns {
			continue
		}
		if sel.Matches(labels.Set(p.Pod.Labels)) {
			n++
		}
	}
	return n
}
