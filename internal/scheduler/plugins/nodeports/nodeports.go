// Package nodeports implements the NodePorts filter: a pod's host ports
// must be free on the node.
package nodeports

import (
	"context"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
)

// Name is the plugin name.
const Name = "NodePorts"

// ErrReason is Kubernetes' reason for a port conflict.
const ErrReason = "node(s) didn't have free ports for the requested pod ports"

// NodePorts is the plugin.
type NodePorts struct{}

// Name implements framework.Plugin.
func (NodePorts) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (NodePorts) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.AssignedPodDelete}
}

// PreFilter implements framework.PreFilterPlugin: pods without host ports
// skip the filter.
func (NodePorts) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	if len(pod.HostPorts) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	return nil, nil
}

// Filter implements framework.FilterPlugin.
func (NodePorts) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	if Fits(pod, ni) {
		return nil
	}
	return framework.NewStatus(framework.Unschedulable, ErrReason)
}

// Fits reports whether none of the pod's host ports is taken on the node
// (and the pod does not claim one port twice).
func Fits(pod *framework.PodInfo, ni *framework.NodeInfo) bool {
	for i, hp := range pod.HostPorts {
		if ni.UsedPorts.Conflicts(hp) {
			return false
		}
		for _, prev := range pod.HostPorts[:i] {
			if prev.Port == hp.Port && prev.Protocol == hp.Protocol && (prev.IP == hp.IP || prev.IP == "0.0.0.0" || hp.IP == "0.0.0.0") {
				return false
			}
		}
	}
	return true
}
