package noderesources_test

import (
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/noderesources"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestFitFilter(t *testing.T) {
	node := tu.Node("n", "4", "8Gi", tu.MaxPods(3), func(n *v1.Node) {
		n.Status.Allocatable["example.com/gpu"] = resource.MustParse("2")
	})
	placed := []*v1.Pod{tu.Pod("a", "2", "4Gi", tu.On("n")), tu.Pod("b", "1", "2Gi", tu.On("n"))}
	gpu := func(n string) func(*v1.Pod) {
		return func(p *v1.Pod) {
			if p.Spec.Containers[0].Resources.Requests == nil {
				p.Spec.Containers[0].Resources.Requests = v1.ResourceList{}
			}
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse(n)
		}
	}
	cases := []struct {
		name   string
		placed []*v1.Pod
		pod    *v1.Pod
		want   string
	}{
		{"fits", placed, tu.Pod("p", "1", "2Gi"), ""},
		{"insufficient cpu", placed, tu.Pod("p", "1500m", "1Gi"), "Unschedulable: Insufficient cpu"},
		{"insufficient cpu and memory", placed, tu.Pod("p", "2", "3Gi"), "Unschedulable: Insufficient cpu, Insufficient memory"},
		{"larger than the node: unresolvable", nil, tu.Pod("p", "5", "1Gi"), "UnschedulableAndUnresolvable: Insufficient cpu"},
		{"too many pods", append(placed, tu.Pod("c", "", "", tu.On("n"))), tu.Pod("p", "", ""), "Unschedulable: Too many pods"},
		{"zero request fits a full node", []*v1.Pod{tu.Pod("a", "4", "8Gi", tu.On("n"))}, tu.Pod("p", "", ""), ""},
		{"extended resource", nil, tu.Pod("p", "", "", gpu("2")), ""},
		{"extended resource short", []*v1.Pod{tu.Pod("a", "", "", tu.On("n"), gpu("1"))}, tu.Pod("p", "", "", gpu("2")),
			"Unschedulable: Insufficient example.com/gpu"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, noderesources.Fit{}, []*v1.Node{node}, c.placed, c.pod)
			if s := tu.StatusString(got["n"]); s != c.want {
				t.Errorf("%q, want %q", s, c.want)
			}
		})
	}
}

func TestScores(t *testing.T) {
	nodes := []*v1.Node{tu.Node("busy", "4", "8Gi"), tu.Node("empty", "4", "8Gi"), tu.Node("skewed", "4", "8Gi")}
	placed := []*v1.Pod{tu.Pod("a", "2", "4Gi", tu.On("busy")), tu.Pod("b", "2", "", tu.On("skewed"))}
	pod := tu.Pod("p", "1", "2Gi")
	least := tu.Scores(t, noderesources.Fit{}, nodes, placed, pod)
	// busy: cpu (4-3)/4, memory (8-6)/8 -> 25; empty: 75; skewed: cpu
	// (4-3)/4=25, memory counts the 200Mi default: (8192-2248)/8192=72.
	if least["busy"] != 25 || least["empty"] != 75 || least["skewed"] != 48 {
		t.Errorf("LeastAllocated %v", least)
	}
	balanced := tu.Scores(t, noderesources.BalancedAllocation{}, nodes, placed, pod)
	// empty: |1/4 - 2/8|/2 = 0 -> 100; skewed: |3/4 - 2/8|/2 = .25 -> 75.
	if balanced["empty"] != 100 || balanced["busy"] != 100 || balanced["skewed"] != 75 {
		t.Errorf("BalancedAllocation %v", balanced)
	}
	ni := framework.NewNodeInfo()
	ni.SetNode(nodes[1])
	if s := noderesources.LeastAllocated(framework.NewPodInfo(tu.Pod("big", "8", "16Gi"), 0), ni); s != 0 {
		t.Errorf("over-requested node scored %d", s)
	}
}
