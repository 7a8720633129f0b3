// Package nodename implements the NodeName filter: a pod that names a node
// in spec.nodeName fits only there.
package nodename

import (
	"context"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
)

// Name is the plugin name.
const Name = "NodeName"

// ErrReason is Kubernetes' reason for a node that is not the requested one.
const ErrReason = "node(s) didn't match the requested node name"

// NodeName is the plugin.
type NodeName struct{}

// Name implements framework.Plugin.
func (NodeName) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (NodeName) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd}
}

// Filter implements framework.FilterPlugin.
func (NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	if n := pod.Pod.Spec.NodeName; n != "" && n != ni.Name() {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return nil
}
