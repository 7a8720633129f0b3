package podtopologyspread_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	pts "github.com/skiff-io/skiff/internal/scheduler/plugins/podtopologyspread"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func spread(key string, skew int32, when v1.UnsatisfiableConstraintAction, mutate ...func(*v1.TopologySpreadConstraint)) func(*v1.Pod) {
	return func(p *v1.Pod) {
		c := v1.TopologySpreadConstraint{MaxSkew: skew, TopologyKey: key, WhenUnsatisfiable: when, LabelSelector: tu.Selector("app", "web")}
		for _, m := range mutate {
			m(&c)
		}
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, c)
	}
}

var nodes = []*v1.Node{
	tu.Node("a1", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "a")),
	tu.Node("a2", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "a")),
	tu.Node("b1", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "b")),
	tu.Node("nozone", "1", "1Gi"),
}

func web(name, node string) *v1.Pod {
	return tu.Pod(name, "", "", tu.On(node), tu.PodLabels("app", "web"))
}

func TestFilter(t *testing.T) {
	const (
		skew    = "Unschedulable: " + pts.ErrReasonConstraintsNotMatch
		missing = "UnschedulableAndUnresolvable: " + pts.ErrReasonNodeLabelNotMatch
	)
	two := []*v1.Pod{web("w1", "a1"), web("w2", "a2")}
	cases := []struct {
		name   string
		placed []*v1.Pod
		pod    *v1.Pod
		want   map[string]string
	}{
		{"no constraints", two, tu.Pod("p", "", "", tu.PodLabels("app", "web")), map[string]string{"a1": "", "b1": "", "nozone": ""}},
		{"zone skew", two, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 1, v1.DoNotSchedule)),
			map[string]string{"a1": skew, "a2": skew, "b1": "", "nozone": missing}},
		{"skew 2 allows one more", two, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 2, v1.DoNotSchedule)),
			map[string]string{"a1": skew, "b1": ""}},
		{"pod not matching its own selector", two, tu.Pod("p", "", "", spread(v1.LabelTopologyZone, 2, v1.DoNotSchedule)),
			map[string]string{"a1": "", "b1": ""}},
		{"hostname skew", []*v1.Pod{web("w1", "a1")}, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelHostname, 1, v1.DoNotSchedule)),
			map[string]string{"a1": skew, "a2": "", "b1": "", "nozone": ""}},
		{"minDomains above the domain count makes the minimum 0", []*v1.Pod{web("w1", "b1")},
			tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 1, v1.DoNotSchedule, func(c *v1.TopologySpreadConstraint) {
				three := int32(3)
				c.MinDomains = &three
			})), map[string]string{"a1": "", "b1": skew}},
		{"ScheduleAnyway does not filter", two, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 1, v1.ScheduleAnyway)),
			map[string]string{"a1": "", "b1": ""}},
		{"other namespaces do not count", []*v1.Pod{web("w1", "a1"), web("w2", "a2")},
			tu.Pod("p", "", "", func(p *v1.Pod) { p.Namespace = "other" }, tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 1, v1.DoNotSchedule)),
			map[string]string{"a1": "", "b1": ""}},
		{"node affinity excludes nodes from the count", two, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 1, v1.DoNotSchedule),
			func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{v1.LabelTopologyZone: "a"} }),
			map[string]string{"a1": "", "a2": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, pts.New(helper.WorkloadListers{}), nodes, c.placed, c.pod)
			for n, w := range c.want {
				if s := tu.StatusString(got[n]); s != w {
					t.Errorf("%s: %q, want %q", n, s, w)
				}
			}
		})
	}
}

func TestScore(t *testing.T) {
	placed := []*v1.Pod{web("w1", "a1"), web("w2", "a1"), web("w3", "a2")}
	got := tu.Scores(t, pts.New(helper.WorkloadListers{}), nodes, placed, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelHostname, 1, v1.ScheduleAnyway)))
	if !(got["b1"] > got["a2"] && got["a2"] > got["a1"]) || got["b1"] != 100 {
		t.Errorf("hostname spreading scores %v", got)
	}
	got = tu.Scores(t, pts.New(helper.WorkloadListers{}), nodes, placed, tu.Pod("p", "", "", tu.PodLabels("app", "web"), spread(v1.LabelTopologyZone, 1, v1.ScheduleAnyway)))
	if got["nozone"] != 0 || got["b1"] != 100 || got["a1"] != got["a2"] || got["a1"] >= got["b1"] {
		t.Errorf("zone spreading scores %v", got)
	}
}

func TestDefaultSpreading(t *testing.T) {
	rsIdx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	_ = rsIdx.Add(&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-rs", Namespace: "ns"},
		Spec: appsv1.ReplicaSetSpec{Selector: tu.Selector("app", "web")}})
	svcIdx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	w := helper.WorkloadListers{ReplicaSets: appslisters.NewReplicaSetLister(rsIdx), Services: corelisters.NewServiceLister(svcIdx)}
	owned := func(p *v1.Pod) {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-rs", Controller: &yes}}
	}
	placed := []*v1.Pod{web("w1", "a1"), web("w2", "a1")}
	got := tu.Scores(t, pts.New(w), nodes, placed, tu.Pod("p", "", "", tu.PodLabels("app", "web"), owned))
	if got == nil || got["a1"] >= got["b1"] || got["a1"] >= got["nozone"] {
		t.Errorf("default spreading scores %v", got)
	}
	// A pod of no workload is not spread.
	got = tu.Scores(t, pts.New(w), nodes, placed, tu.Pod("p", "", "", tu.PodLabels("app", "web")))
	if got["a1"] != 0 || got["b1"] != 0 {
		t.Errorf("unowned pod scored %v", got)
	}
	// A Service selecting the pod makes it a workload too.
	_ = svcIdx.Add(&v1.Service{ObjectMeta: metav1.ObjectMeta{Name: "svc", Namespace: "ns"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web"}}})
	got = tu.Scores(t, pts.New(w), nodes, placed, tu.Pod("p", "", "", tu.PodLabels("app", "web")))
	if got["a1"] >= got["b1"] {
		t.Errorf("service-selected pod scores %v", got)
	}
}
