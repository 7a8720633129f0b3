package nodeunschedulable_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodeunschedulable"
	v1 "k8s.io/api/core/v1"
)

func TestFilter(t *testing.T) {
	cordoned := tu.Node("n", "1", "1Gi", func(n *v1.Node) { n.Spec.Unschedulable = true })
	cases := []struct {
		name string
		node *v1.Node
		pod  *v1.Pod
		want string
	}{
		{"schedulable node", tu.Node("n", "1", "1Gi"), tu.Pod("p", "", ""), ""},
		{"cordoned node", cordoned, tu.Pod("p", "", ""), "UnschedulableAndUnresolvable: node(s) were unschedulable"},
		{"cordoned node, tolerated", cordoned, tu.Pod("p", "", "", tu.Toleration(v1.TaintNodeUnschedulable, v1.TolerationOpExists, "", v1.TaintEffectNoSchedule)), ""},
		{"cordoned node, wildcard toleration", cordoned, tu.Pod("p", "", "", tu.Toleration("", v1.TolerationOpExists, "", "")), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, nodeunschedulable.NodeUnschedulable{}, []*v1.Node{c.node}, nil, c.pod)
			if s := tu.StatusString(got["n"]); s != c.want {
				t.Errorf("%q, want %q", s, c.want)
			}
		})
	}
}
