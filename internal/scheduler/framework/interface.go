package framework

import (
	"context"

	v1 "k8s.io/api/core/v1"
)

// MaxNodeScore is the largest score a Score plugin returns after
// normalisation; MinNodeScore the smallest.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is anything the framework runs.
type Plugin interface {
	Name() string
}

// PreFilterResult narrows the nodes worth filtering; nil means all nodes.
type PreFilterResult struct {
	NodeNames map[string]struct{}
}

// PreFilterPlugin computes per-pod state before the node loop. Returning
// Skip disables the plugin's Filter for this pod; a rejecting status makes
// every node infeasible.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo) (*PreFilterResult, *Status)
}

// PreFilterExtensions update a plugin's PreFilter state when preemption
// (or a nominated pod) adds or removes a pod on nodeInfo.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, pod *PodInfo, add *PodInfo, nodeInfo *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, pod *PodInfo, remove *PodInfo, nodeInfo *NodeInfo) *Status
}

// FilterPlugin decides whether the pod may run on one node. It must be safe
// to call concurrently for different nodes.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, nodeInfo *NodeInfo) *Status
}

// PreScorePlugin computes per-pod state for scoring over the feasible
// nodes; Skip disables the plugin's Score for this pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// NodeScore is a node's score from one plugin or in total.
type NodeScore struct {
	Name  string
	Score int64
}

// ScorePlugin ranks a feasible node; it must be safe to call concurrently.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, nodeInfo *NodeInfo) (int64, *Status)
}

// ScoreNormalizer maps a Score plugin's raw scores onto
// [MinNodeScore, MaxNodeScore] once all nodes are scored.
type ScoreNormalizer interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// PreBindPlugin runs in the binding goroutine before the pod is bound,
// e.g. to prepare volumes. It may call the API.
type PreBindPlugin interface {
	Plugin
	PreBind(ctx context.Context, state *CycleState, pod *v1.Pod, nodeName string) *Status
}

// ClusterEvent names a kind of change that can make pods rejected by a
// plugin schedulable.
type ClusterEvent int

// Cluster events the queue reacts to.
const (
	NodeAdd ClusterEvent = iota
	NodeUpdate
	AssignedPodAdd
	AssignedPodUpdate
	AssignedPodDelete
	VolumeChange // PV, PVC or StorageClass added or updated
	ClusterEventCount
)

var clusterEventNames = [...]string{"NodeAdd", "NodeUpdate", "AssignedPodAdd", "AssignedPodUpdate", "AssignedPodDelete", "VolumeChange"}

func (e ClusterEvent) String() string {
	if int(e) < len(clusterEventNames) {
		return clusterEventNames[e]
	}
	return "Unknown"
}

// EnqueueExtensions lists the events after which pods the plugin rejected
// are worth retrying. Plugins without it are retried on every event.
type EnqueueExtensions interface {
	EventsToRegister() []ClusterEvent
}
