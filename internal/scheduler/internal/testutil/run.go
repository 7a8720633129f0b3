package testutil

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
)

// Filter runs one plugin's PreFilter and Filter for pod against a cluster
// of nodes and (placed) pods, and returns each node's status (nil: fits). A
// PreFilter rejection is returned for every node; nodes a PreFilterResult
// excludes get an UnschedulableAndUnresolvable "excluded" status.
func Filter(t *testing.T, pl framework.Plugin, nodes []*v1.Node, placed []*v1.Pod, pod *v1.Pod) map[string]*framework.Status {
	t.Helper()
	fw, err := framework.NewFramework([]framework.PluginSpec{{Plugin: pl}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap := framework.NewSnapshot(placed, nodes, nil)
	ctx := context.Background()
	state := framework.NewCycleState(snap)
	pi := framework.NewPodInfo(pod, framework.PodPriority(pod))
	out := map[string]*framework.Status{}
	res, st, _ := fw.RunPreFilterPlugins(ctx, state, pi)
	for _, ni := range snap.Nodes {
		switch {
		case !st.IsSuccess():
			out[ni.Name()] = st
		case res != nil && !has(res, ni.Name()):
			out[ni.Name()] = framework.NewStatus(framework.UnschedulableAndUnresolvable, "excluded")
		default:
			out[ni.Name()] = fw.RunFilterPlugins(ctx, state, pi, ni)
		}
	}
	return out
}

func has(r *framework.PreFilterResult, n string) bool {
	_, ok := r.NodeNames[n]
	return ok
}

// Scores runs one plugin's PreScore, Score and NormalizeScore for pod over
// all nodes (weight 1); a plugin skipping returns nil.
func Scores(t *testing.T, pl framework.Plugin, nodes []*v1.Node, placed []*v1.Pod, pod *v1.Pod) map[string]int64 {
	t.Helper()
	fw, err := framework.NewFramework([]framework.PluginSpec{{Plugin: pl}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap := framework.NewSnapshot(placed, nodes, nil)
	ctx := context.Background()
	state := framework.NewCycleState(snap)
	pi := framework.NewPodInfo(pod, framework.PodPriority(pod))
	if _, st, _ := fw.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		t.Fatalf("PreFilter: %v", st)
	}
	if st := fw.RunPreScorePlugins(ctx, state, pi, snap.Nodes); !st.IsSuccess() {
		t.Fatalf("PreScore: %v", st)
	}
	scores, st := fw.RunScorePlugins(ctx, state, pi, snap.Nodes, nil)
	if !st.IsSuccess() {
		t.Fatalf("Score: %v", st)
	}
	out := map[string]int64{}
	for _, s := range scores {
		out[s.Name] = s.Score
	}
	return out
}

// StatusString renders a status for comparisons: "" for success, else
// "Code: reasons".
func StatusString(s *framework.Status) string {
	if s.IsSuccess() {
		return ""
	}
	return s.String()
}
