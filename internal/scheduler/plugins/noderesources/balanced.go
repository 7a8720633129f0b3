package noderesources

import (
	"context"
	"math"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
)

// BalancedAllocationName is the NodeResourcesBalancedAllocation plugin name.
const BalancedAllocationName = "NodeResourcesBalancedAllocation"

// BalancedAllocation is the plugin.
type BalancedAllocation struct{}

// Name implements framework.Plugin.
func (BalancedAllocation) Name() string { return BalancedAllocationName }

// PreScore implements framework.PreScorePlugin: pods requesting neither
// CPU nor memory are not scored (every node would score the same).
func (BalancedAllocation) PreScore(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	if pod.Requests.MilliCPU == 0 && pod.Requests.Memory == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Score implements framework.ScorePlugin: (1 - standard deviation of the
// CPU and memory fractions requested after placing the pod) * 100, using
// actual requests.
func (BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	return Balanced(pod, ni), nil
}

// Balanced is the BalancedAllocation score of placing pod on ni.
func Balanced(pod *framework.PodInfo, ni *framework.NodeInfo) int64 {
	var fractions [2]float64
	n := 0
	add := func(requested, capacity int64) {
		if capacity == 0 {
			return
		}
		f := float64(requested) / float64(capacity)
		if f > 1 {
			f = 1
		}
		fractions[n] = f
		n++
	}
	add(ni.Requested.MilliCPU+pod.Requests.MilliCPU, ni.Allocatable.MilliCPU)
	add(ni.Requested.Memory+pod.Requests.Memory, ni.Allocatable.Memory)
	std := 0.0
	if n == 2 {
		std = math.Abs(fractions[0]-fractions[1]) / 2
	}
	return int64((1 - std) * float64(framework.MaxNodeScore))
}
