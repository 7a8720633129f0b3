package tainttoleration_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/tainttoleration"
	v1 "k8s.io/api/core/v1"
)

func TestFilter(t *testing.T) {
	node := tu.Node("n", "1", "1Gi", tu.Taint("dedicated", "gpu", v1.TaintEffectNoSchedule), tu.Taint("soft", "x", v1.TaintEffectPreferNoSchedule))
	cases := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{"untolerated", tu.Pod("p", "", ""), "UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}"},
		{"tolerated by equal", tu.Pod("p", "", "", tu.Toleration("dedicated", v1.TolerationOpEqual, "gpu", v1.TaintEffectNoSchedule)), ""},
		{"tolerated by exists, any effect", tu.Pod("p", "", "", tu.Toleration("dedicated", v1.TolerationOpExists, "", "")), ""},
		{"wrong value", tu.Pod("p", "", "", tu.Toleration("dedicated", v1.TolerationOpEqual, "cpu", v1.TaintEffectNoSchedule)),
			"UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}"},
		{"wrong effect", tu.Pod("p", "", "", tu.Toleration("dedicated", v1.TolerationOpEqual, "gpu", v1.TaintEffectNoExecute)),
			"UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, tainttoleration.TaintToleration{}, []*v1.Node{node}, nil, c.pod)
			if s := tu.StatusString(got["n"]); s != c.want {
				t.Errorf("%q, want %q", s, c.want)
			}
		})
	}
	noexec := tu.Node("n", "1", "1Gi", tu.Taint(v1.TaintNodeNotReady, "", v1.TaintEffectNoExecute))
	if s := tu.StatusString(tu.Filter(t, tainttoleration.TaintToleration{}, []*v1.Node{noexec}, nil, tu.Pod("p", "", ""))["n"]); s == "" {
		t.Error("NoExecute taint not enforced")
	}
}

func TestScore(t *testing.T) {
	nodes := []*v1.Node{
		tu.Node("clean", "1", "1Gi"),
		tu.Node("one", "1", "1Gi", tu.Taint("a", "", v1.TaintEffectPreferNoSchedule)),
		tu.Node("two", "1", "1Gi", tu.Taint("a", "", v1.TaintEffectPreferNoSchedule), tu.Taint("b", "", v1.TaintEffectPreferNoSchedule)),
	}
	got := tu.Scores(t, tainttoleration.TaintToleration{}, nodes, nil, tu.Pod("p", "", ""))
	if got["clean"] != 100 || got["one"] != 50 || got["two"] != 0 {
		t.Errorf("scores %v", got)
	}
	got = tu.Scores(t, tainttoleration.TaintToleration{}, nodes, nil, tu.Pod("p", "", "", tu.Toleration("a", v1.TolerationOpExists, "", v1.TaintEffectPreferNoSchedule)))
	if got["clean"] != 100 || got["one"] != 100 || got["two"] != 0 {
		t.Errorf("scores with toleration %v", got)
	}
}
