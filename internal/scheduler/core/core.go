// Package core is the scheduling algorithm: given a snapshot of the
// cluster and a pod, run the framework's filters over the nodes (stopping
// after enough feasible ones, round-robin across cycles), score the
// feasible nodes and pick the best, or explain in a FitError why no node
// fits. It performs no I/O.
package core

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
)

// Kubernetes' defaults for how many feasible nodes to look for.
const (
	// MinFeasibleNodesToFind is the least number of feasible nodes to find
	// before scoring (all nodes in smaller clusters).
	MinFeasibleNodesToFind = 100
	// MinFeasibleNodesPercentageToFind is the floor of the adaptive
	// percentage.
	MinFeasibleNodesPercentageToFind = 5
)

// Algorithm schedules one pod at a time. It keeps the round-robin start
// index between calls, so it is not safe for concurrent use.
type Algorithm struct {
	fw         *framework.Framework
	percentage int32
	nextStart  int
	rng        *rand.Rand
	// scratch buffers reused across cycles
	feasible []*framework.NodeInfo
	statuses []*framework.Status
	slots    []*framework.NodeInfo
	totals   []framework.NodeScore
}

// New returns an algorithm over fw. percentageOfNodesToScore is
// Kubernetes' setting: 0 picks the adaptive default (50% minus 1% per 125
// nodes, at least 5%, at least 100 nodes); 100 evaluates every node. seed
// seeds tie-breaking between equally scored nodes.
func New(fw *framework.Framework, percentageOfNodesToScore int32, seed uint64) *Algorithm {
	return &Algorithm{fw: fw, percentage: percentageOfNodesToScore, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Framework is the framework the algorithm runs.
func (a *Algorithm) Framework() *framework.Framework { return a.fw }

// Result is a successful placement.
type Result struct {
	Node string
	// EvaluatedNodes were filtered; FeasibleNodes passed.
	EvaluatedNodes, FeasibleNodes int
}

// NumFeasibleNodesToFind is how many feasible nodes to find among
// numAllNodes before scoring.
func NumFeasibleNodesToFind(percentage int32, numAllNodes int) int {
	if numAllNodes < MinFeasibleNodesToFind || percentage >= 100 {
		return numAllNodes
	}
	adaptive := int(percentage)
	if adaptive <= 0 {
		adaptive = 50 - numAllNodes/125
		if adaptive < MinFeasibleNodesPercentageToFind {
			adaptive = MinFeasibleNodesPercentageToFind
		}
	}
	n := numAllNodes * adaptive / 100
	if n < MinFeasibleNodesToFind {
		return MinFeasibleNodesToFind
	}
	return n
}

// Schedule finds a node for pod in snap. It returns the cycle state (for
// preemption) and either a Result, a *framework.FitError,
// framework.ErrNoNodesAvailable or an internal error. nominated (may be
// nil) returns pods nominated to a node by earlier preemptions, whose room
// lower-priority pods must not take.
func (a *Algorithm) Schedule(ctx context.Context, snap *framework.Snapshot, pod *framework.PodInfo, nominated framework.NominatedPodsFunc) (Result, *framework.CycleState, error) {
	state := framework.NewCycleState(snap)
	state.Nominated = nominated
	if snap.NumNodes() == 0 {
		return Result{}, state, framework.ErrNoNodesAvailable
	}
	feasible, diag, err := a.findNodesThatFit(ctx, state, snap, pod)
	if err != nil {
		return Result{}, state, err
	}
	if len(feasible) == 0 {
		return Result{}, state, &framework.FitError{Pod: pod.Pod, NumAllNodes: snap.NumNodes(), Diagnosis: diag}
	}
	evaluated := len(feasible) + len(diag.NodeToStatus)
	if len(feasible) == 1 {
		return Result{Node: feasible[0].Name(), EvaluatedNodes: evaluated, FeasibleNodes: 1}, state, nil
	}
	if st := a.fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return Result{}, state, st.AsError()
	}
	scores, st := a.fw.RunScorePlugins(ctx, state, pod, feasible, a.totals)
	if !st.IsSuccess() {
		return Result{}, state, st.AsError()
	}
	a.totals = scores
	return Result{Node: a.selectHost(scores), EvaluatedNodes: evaluated, FeasibleNodes: len(feasible)}, state, nil
}

// selectHost picks a highest-scoring node, uniformly among ties.
func (a *Algorithm) selectHost(scores []framework.NodeScore) string {
	best, ties := 0, 1
	for i := 1; i < len(scores); i++ {
		switch {
		case scores[i].Score > scores[best].Score:
			best, ties = i, 1
		case scores[i].Score == scores[best].Score:
			ties++
			if a.rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return scores[best].Name
}

func (a *Algorithm) findNodesThatFit(ctx context.Context, state *framework.CycleState, snap *framework.Snapshot, pod *framework.PodInfo) ([]*framework.NodeInfo, framework.Diagnosis, error) {
	var diag framework.Diagnosis
	pre, st, narrowing := a.fw.RunPreFilterPlugins(ctx, state, pod)
	if !st.IsSuccess() {
		diag.NodeToStatus, diag.UnschedulablePlugins = map[string]*framework.Status{}, map[string]bool{}
		if !st.IsRejected() {
			return nil, diag, st.AsError()
		}
		diag.AbsentNodesStatus = st
		diag.PreFilterMsg = st.Message()
		if st.Plugin() != "" {
			diag.UnschedulablePlugins[st.Plugin()] = true
		}
		return nil, diag, nil
	}
	// A pod nominated by an earlier preemption tries its node first.
	if nn := pod.Pod.Status.NominatedNodeName; nn != "" {
		if ni := snap.Get(nn); ni != nil && ni.Node() != nil {
			if (pre == nil || has(pre, nn)) && a.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni).IsSuccess() {
				return []*framework.NodeInfo{ni}, diag, nil
			}
		}
	}
	nodes := snap.Nodes
	if pre != nil {
		nodes = make([]*framework.NodeInfo, 0, len(pre.NodeNames))
		for _, ni := range snap.Nodes {
			if has(pre, ni.Name()) {
				nodes = append(nodes, ni)
			}
		}
		diag.AbsentNodesStatus = framework.NewStatus(framework.UnschedulableAndUnresolvable,
			fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", narrowing))
	}
	feasible, statuses, processed, err := a.filterNodes(ctx, state, pod, nodes)
	if err != nil {
		return nil, diag, err
	}
	if len(snap.Nodes) > 0 {
		a.nextStart = (a.nextStart + processed) % len(snap.Nodes)
	}
	if len(feasible) == 0 {
		diag.NodeToStatus, diag.UnschedulablePlugins = map[string]*framework.Status{}, map[string]bool{}
		for i, s := range statuses {
			if s != nil {
				diag.NodeToStatus[nodes[i].Name()] = s
				if s.Plugin() != "" {
					diag.UnschedulablePlugins[s.Plugin()] = true
				}
			}
		}
	}
	return feasible, diag, nil
}

func has(r *framework.PreFilterResult, name string) bool {
	_, ok := r.NodeNames[name]
	return ok
}

// filterNodes runs the filters from the round-robin start until enough
// feasible nodes are found. statuses[i] is the rejection of nodes[i] (nil
// if it fits or was not evaluated).
func (a *Algorithm) filterNodes(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) ([]*framework.NodeInfo, []*framework.Status, int, error) {
	n := len(nodes)
	if n == 0 {
		return nil, nil, 0, nil
	}
	want := NumFeasibleNodesToFind(a.percentage, n)
	if cap(a.feasible) < want {
		a.feasible = make([]*framework.NodeInfo, 0, want)
		a.slots = make([]*framework.NodeInfo, want)
	}
	if cap(a.statuses) < n {
		a.statuses = make([]*framework.Status, n)
	}
	feasible := a.feasible[:0]
	statuses := a.statuses[:n]
	clear(statuses)
	start := a.nextStart % n
	workers := a.fw.Parallelism()
	if workers <= 1 || n < 64 {
		processed := 0
		for k := 0; k < n && len(feasible) < want; k++ {
			i := (start + k) % n
			processed++
			st := a.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, nodes[i])
			switch {
			case st.IsSuccess():
				feasible = append(feasible, nodes[i])
			case st.Code() == framework.Error:
				return nil, nil, processed, st.AsError()
			default:
				statuses[i] = st
			}
		}
		return feasible, statuses, processed, nil
	}
	slots := a.slots[:want]
	var found, processed atomic.Int32
	var firstErr atomic.Pointer[error]
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	framework.Until(cctx, workers, n, func(_, k int) {
		if cctx.Err() != nil {
			return
		}
		i := (start + k) % n
		st := a.fw.RunFilterPluginsWithNominatedPods(cctx, state, pod, nodes[i])
		switch {
		case st.IsSuccess():
			if f := found.Add(1); f > int32(want) {
				found.Add(-1)
				cancel()
				return
			} else {
				slots[f-1] = nodes[i]
			}
		case st.Code() == framework.Error:
			err := st.AsError()
			firstErr.CompareAndSwap(nil, &err)
			cancel()
		default:
			statuses[i] = st
		}
		processed.Add(1)
	})
	if e := firstErr.Load(); e != nil {
		return nil, nil, int(processed.Load()), *e
	}
	return append(feasible, slots[:found.Load()]...), statuses, int(processed.Load()), nil
}
