package nodeaffinity_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodeaffinity"
	v1 "k8s.io/api/core/v1"
)

func required(terms ...v1.NodeSelectorTerm) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: terms}}}
	}
}

func expr(key string, op v1.NodeSelectorOperator, vals ...string) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: key, Operator: op, Values: vals}}}
}

func TestFilter(t *testing.T) {
	nodes := []*v1.Node{
		tu.Node("ssd", "1", "1Gi", tu.Labels("disk", "ssd", "gen", "5")),
		tu.Node("hdd", "1", "1Gi", tu.Labels("disk", "hdd", "gen", "3")),
		tu.Node("bare", "1", "1Gi"),
	}
	const no = "UnschedulableAndUnresolvable: " + nodeaffinity.ErrReason
	cases := []struct {
		name string
		pod  *v1.Pod
		want map[string]string
	}{
		{"nothing required", tu.Pod("p", "", ""), map[string]string{"ssd": "", "hdd": "", "bare": ""}},
		{"node selector", tu.Pod("p", "", "", func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
			map[string]string{"ssd": "", "hdd": no, "bare": no}},
		{"In", tu.Pod("p", "", "", required(expr("disk", v1.NodeSelectorOpIn, "ssd", "hdd"))), map[string]string{"ssd": "", "hdd": "", "bare": no}},
		{"NotIn matches nodes without the label", tu.Pod("p", "", "", required(expr("disk", v1.NodeSelectorOpNotIn, "ssd"))),
			map[string]string{"ssd": no, "hdd": "", "bare": ""}},
		{"DoesNotExist", tu.Pod("p", "", "", required(expr("disk", v1.NodeSelectorOpDoesNotExist))), map[string]string{"ssd": no, "hdd": no, "bare": ""}},
		{"Gt", tu.Pod("p", "", "", required(expr("gen", v1.NodeSelectorOpGt, "4"))), map[string]string{"ssd": "", "hdd": no, "bare": no}},
		{"terms are ORed", tu.Pod("p", "", "", required(expr("disk", v1.NodeSelectorOpIn, "ssd"), expr("disk", v1.NodeSelectorOpDoesNotExist))),
			map[string]string{"ssd": "", "hdd": no, "bare": ""}},
		{"selector and affinity both apply", tu.Pod("p", "", "", required(expr("disk", v1.NodeSelectorOpExists)),
			func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"gen": "3"} }), map[string]string{"ssd": no, "hdd": "", "bare": no}},
		{"metadata.name narrows the nodes", tu.Pod("p", "", "", required(v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"hdd"}}}})),
			map[string]string{"ssd": "UnschedulableAndUnresolvable: excluded", "hdd": "", "bare": "UnschedulableAndUnresolvable: excluded"}},
		{"empty term matches nothing", tu.Pod("p", "", "", required(v1.NodeSelectorTerm{})), map[string]string{"ssd": no, "hdd": no, "bare": no}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, nodeaffinity.NodeAffinity{}, nodes, nil, c.pod)
			for n, w := range c.want {
				if s := tu.StatusString(got[n]); s != w {
					t.Errorf("%s: %q, want %q", n, s, w)
				}
			}
		})
	}
}

func TestScore(t *testing.T) {
	nodes := []*v1.Node{
		tu.Node("both", "1", "1Gi", tu.Labels("disk", "ssd", "zone", "a")),
		tu.Node("disk", "1", "1Gi", tu.Labels("disk", "ssd")),
		tu.Node("none", "1", "1Gi"),
	}
	pod := tu.Pod("p", "", "", func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{
			{Weight: 3, Preference: expr("disk", v1.NodeSelectorOpIn, "ssd")},
			{Weight: 1, Preference: expr("zone", v1.NodeSelectorOpIn, "a")},
		}}}
	})
	got := tu.Scores(t, nodeaffinity.NodeAffinity{}, nodes, nil, pod)
	if got["both"] != 100 || got["disk"] != 75 || got["none"] != 0 {
		t.Errorf("scores %v", got)
	}
}
