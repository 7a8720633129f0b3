// Package noderesources implements NodeResourcesFit (a filter that the
// pod's requests fit in the node's allocatable minus what other pods
// request, and a LeastAllocated score) and NodeResourcesBalancedAllocation
// (a score favouring nodes whose CPU and memory use stay balanced).
package noderesources

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
)

// FitName is the NodeResourcesFit plugin name.
const FitName = "NodeResourcesFit"

// Fit is the NodeResourcesFit plugin.
type Fit struct{}

// Name implements framework.Plugin.
func (Fit) Name() string { return FitName }

// EventsToRegister implements framework.EnqueueExtensions.
func (Fit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.NodeUpdate, framework.AssignedPodDelete, framework.AssignedPodUpdate}
}

// Insufficient is one resource the node lacks for the pod.
type Insufficient struct {
	Resource v1.ResourceName
	Reason   string
	// Unresolvable means the pod requests more than the node's whole
	// allocatable: no preemption can help.
	Unresolvable bool
}

// Filter implements framework.FilterPlugin.
func (Fit) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	var buf [4]Insufficient
	ins := Fits(pod, ni, buf[:0])
	if len(ins) == 0 {
		return nil
	}
	code := framework.Unschedulable
	reasons := make([]string, len(ins))
	for i := range ins {
		reasons[i] = ins[i].Reason
		if ins[i].Unresolvable {
			code = framework.UnschedulableAndUnresolvable
		}
	}
	return framework.NewStatus(code, reasons...)
}

// Fits appends to out what the node lacks to run the pod: a pod slot
// ("Too many pods"), then CPU, memory, ephemeral storage and scalar
// resources ("Insufficient <name>").
func Fits(pod *framework.PodInfo, ni *framework.NodeInfo, out []Insufficient) []Insufficient {
	alloc, used, req := &ni.Allocatable, &ni.Requested, &pod.Requests
	if len(ni.Pods)+1 > alloc.AllowedPodNumber {
		out = append(out, Insufficient{Resource: v1.ResourcePods, Reason: "Too many pods"})
	}
	if req.MilliCPU > 0 && req.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		out = append(out, Insufficient{Resource: v1.ResourceCPU, Reason: "Insufficient cpu", Unresolvable: req.MilliCPU > alloc.MilliCPU})
	}
	if req.Memory > 0 && req.Memory > alloc.Memory-used.Memory {
		out = append(out, Insufficient{Resource: v1.ResourceMemory, Reason: "Insufficient memory", Unresolvable: req.Memory > alloc.Memory})
	}
	if req.EphemeralStorage > 0 && req.EphemeralStorage > alloc.EphemeralStorage-used.EphemeralStorage {
		out = append(out, Insufficient{Resource: v1.ResourceEphemeralStorage, Reason: "Insufficient ephemeral-storage",
			Unresolvable: req.EphemeralStorage > alloc.EphemeralStorage})
	}
	for name, q := range req.Scalar {
		if q > 0 && q > alloc.Scalar[name]-used.Scalar[name] {
			out = append(out, Insufficient{Resource: name, Reason: fmt.Sprintf("Insufficient %s", name), Unresolvable: q > alloc.Scalar[name]})
		}
	}
	return out
}

// Score implements framework.ScorePlugin with Kubernetes' default
// LeastAllocated strategy: for CPU and memory (weight 1 each), the share of
// allocatable left free after placing the pod, counting containers without
// requests at the default 100m / 200Mi.
func (Fit) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	return LeastAllocated(pod, ni), nil
}

// LeastAllocated is the LeastAllocated score of placing pod on ni.
func LeastAllocated(pod *framework.PodInfo, ni *framework.NodeInfo) int64 {
	var sum, weights int64
	add := func(requested, capacity int64) {
		if capacity == 0 {
			return
		}
		weights++
		if requested > capacity {
			return
		}
		sum += (capacity - requested) * framework.MaxNodeScore / capacity
	}
	add(ni.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU, ni.Allocatable.MilliCPU)
	add(ni.NonZeroRequested.Memory+pod.NonZeroRequests.Memory, ni.Allocatable.Memory)
	if weights == 0 {
		return 0
	}
	return sum / weights
}
