package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/core"
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins"
	v1 "k8s.io/api/core/v1"
)

func TestNumFeasibleNodesToFind(t *testing.T) {
	cases := []struct {
		pct   int32
		nodes int
		want  int
	}{
		{0, 10, 10},
		{0, 99, 99},
		{0, 100, 100},
		{0, 1000, 420},  // 50 - 1000/125 = 42%
		{0, 5000, 500},  // 50 - 40 = 10%
		{0, 6000, 300},  // floor of 5%
		{0, 150, 100},   // at least 100
		{30, 1000, 300}, // explicit
		{100, 1000, 1000},
	}
	for _, c := range cases {
		if got := core.NumFeasibleNodesToFind(c.pct, c.nodes); got != c.want {
			t.Errorf("pct %d, %d nodes: %d, want %d", c.pct, c.nodes, got, c.want)
		}
	}
}

func schedule(t *testing.T, nodes []*v1.Node, placed []*v1.Pod, pod *v1.Pod) (core.Result, error) {
	t.Helper()
	fw, err := plugins.NewDefaultFramework(plugins.Handle{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap := framework.NewSnapshot(placed, nodes, nil)
	res, _, err := core.New(fw, 0, 1).Schedule(context.Background(), snap, framework.NewPodInfo(pod, framework.PodPriority(pod)), nil)
	return res, err
}

func TestSchedule(t *testing.T) {
	cases := []struct {
		name    string
		nodes   []*v1.Node
		placed  []*v1.Pod
		pod     *v1.Pod
		want    string // node, or the FitError message
		wantErr bool
	}{
		{"least allocated wins", []*v1.Node{tu.Node("busy", "4", "8Gi"), tu.Node("idle", "4", "8Gi")},
			[]*v1.Pod{tu.Pod("a", "3", "6Gi", tu.On("busy"))}, tu.Pod("p", "500m", "1Gi"), "idle", false},
		{"only one fits", []*v1.Node{tu.Node("small", "1", "1Gi"), tu.Node("big", "8", "8Gi")}, nil, tu.Pod("p", "2", ""), "big", false},
		{"taint toleration score prefers untainted", []*v1.Node{tu.Node("soft", "4", "8Gi", tu.Taint("x", "", v1.TaintEffectPreferNoSchedule)),
			tu.Node("clean", "4", "8Gi")}, nil, tu.Pod("p", "", ""), "clean", false},
		{"no node fits", []*v1.Node{tu.Node("a", "1", "1Gi"), tu.Node("b", "1", "1Gi", tu.Taint("k", "v", v1.TaintEffectNoSchedule)),
			tu.Node("c", "4", "1Gi", func(n *v1.Node) { n.Spec.Unschedulable = true })}, nil, tu.Pod("p", "2", ""),
			"0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}, 1 node(s) were unschedulable.", true},
		{"prefilter narrowing", []*v1.Node{tu.Node("a", "1", "1Gi"), tu.Node("b", "1", "1Gi"), tu.Node("c", "1", "1Gi")},
			[]*v1.Pod{tu.Pod("x", "1", "", tu.On("a"))}, tu.Pod("p", "1", "", func(p *v1.Pod) {
				p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
					NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}}}}}}}
			}), "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := schedule(t, c.nodes, c.placed, c.pod)
			if c.wantErr {
				var fe *framework.FitError
				if !errors.As(err, &fe) {
					t.Fatalf("err %v, want a FitError", err)
				}
				if fe.Error() != c.want {
					t.Errorf("got  %q\nwant %q", fe.Error(), c.want)
				}
				return
			}
			if err != nil || res.Node != c.want {
				t.Errorf("got %q, %v; want %q", res.Node, err, c.want)
			}
		})
	}
	if _, err := schedule(t, nil, nil, tu.Pod("p", "", "")); !errors.Is(err, framework.ErrNoNodesAvailable) || err.Error() != "no nodes available to schedule pods" {
		t.Errorf("no nodes: %v", err)
	}
}

func TestRoundRobinAndNominated(t *testing.T) {
	nodes := tu.Nodes(200, "4", "8Gi")
	fw, _ := plugins.NewDefaultFramework(plugins.Handle{}, 1)
	snap := framework.NewSnapshot(nil, nodes, nil)
	algo := core.New(fw, 0, 1)
	ctx := context.Background()
	res, _, err := algo.Schedule(ctx, snap, framework.NewPodInfo(tu.Pod("p", "", ""), 0), nil)
	if err != nil || res.EvaluatedNodes != 100 || res.FeasibleNodes != 100 {
		t.Fatalf("first: %+v %v", res, err)
	}
	// The next cycle starts where the last stopped: nodes 100-199.
	res, _, _ = algo.Schedule(ctx, snap, framework.NewPodInfo(tu.Pod("q", "", ""), 0), nil)
	var idx int
	if _, err := fmt.Sscanf(res.Node, "node-%d", &idx); err != nil || idx < 100 {
		t.Errorf("second cycle picked %s from the first 100 nodes", res.Node)
	}
	// A nominated node is tried first and taken when it fits.
	nom := tu.Pod("n", "", "", func(p *v1.Pod) { p.Status.NominatedNodeName = "node-7" })
	res, _, _ = algo.Schedule(ctx, snap, framework.NewPodInfo(nom, 0), nil)
	if res.Node != "node-7" || res.EvaluatedNodes != 1 {
		t.Errorf("nominated: %+v", res)
	}
}

func TestNominatedPodsReserveRoom(t *testing.T) {
	nodes := []*v1.Node{tu.Node("a", "2", "8Gi"), tu.Node("b", "1", "8Gi")}
	fw, _ := plugins.NewDefaultFramework(plugins.Handle{}, 1)
	snap := framework.NewSnapshot(nil, nodes, nil)
	high := framework.NewPodInfo(tu.Pod("high", "2", "", tu.Priority(100)), 100)
	nominated := func(node string) []*framework.PodInfo {
		if node == "a" {
			return []*framework.PodInfo{high}
		}
		return nil
	}
	low := framework.NewPodInfo(tu.Pod("low", "1", "", tu.Priority(1)), 1)
	res, _, err := core.New(fw, 0, 1).Schedule(context.Background(), snap, low, nominated)
	if err != nil || res.Node != "b" {
		t.Errorf("low-priority pod took room promised to a nominated pod: %+v %v", res, err)
	}
	higher := framework.NewPodInfo(tu.Pod("higher", "2", "", tu.Priority(1000)), 1000)
	res, _, err = core.New(fw, 0, 1).Schedule(context.Background(), snap, higher, nominated)
	if err != nil || res.Node != "a" {
		t.Errorf("higher-priority pod: %+v %v", res, err)
	}
}
