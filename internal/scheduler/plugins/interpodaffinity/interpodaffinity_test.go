package interpodaffinity_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	ipa "github.com/skiff-io/skiff/internal/scheduler/plugins/interpodaffinity"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func term(key string, sel ...string) v1.PodAffinityTerm {
	return v1.PodAffinityTerm{LabelSelector: tu.Selector(sel...), TopologyKey: key}
}

func affinity(required ...v1.PodAffinityTerm) func(*v1.Pod) {
	return func(p *v1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &v1.Affinity{}
		}
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: required}
	}
}

func antiAffinity(required ...v1.PodAffinityTerm) func(*v1.Pod) {
	return func(p *v1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &v1.Affinity{}
		}
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: required}
	}
}

var nodes = []*v1.Node{
	tu.Node("a1", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "a")),
	tu.Node("a2", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "a")),
	tu.Node("b1", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "b")),
	tu.Node("nozone", "1", "1Gi"),
}

func TestFilter(t *testing.T) {
	db := tu.Pod("db", "", "", tu.On("a1"), tu.PodLabels("app", "db"))
	web := tu.Pod("web", "", "", tu.On("a1"), tu.PodLabels("app", "web"))
	const (
		aff      = "UnschedulableAndUnresolvable: " + ipa.ErrReasonAffinityRulesNotMatch
		anti     = "Unschedulable: " + ipa.ErrReasonAntiAffinityRulesNotMatch
		existing = "Unschedulable: " + ipa.ErrReasonExistingAntiAffinityRulesNotMatch
	)
	cases := []struct {
		name   string
		placed []*v1.Pod
		pod    *v1.Pod
		want   map[string]string
	}{
		{"no terms anywhere", []*v1.Pod{db}, tu.Pod("p", "", ""), map[string]string{"a1": "", "a2": "", "b1": "", "nozone": ""}},
		{"affinity to the db's zone", []*v1.Pod{db}, tu.Pod("p", "", "", affinity(term(v1.LabelTopologyZone, "app", "db"))),
			map[string]string{"a1": "", "a2": "", "b1": aff, "nozone": aff}},
		{"affinity to its own group when none exists yet", nil, tu.Pod("p", "", "", tu.PodLabels("app", "db"), affinity(term(v1.LabelTopologyZone, "app", "db"))),
			map[string]string{"a1": "", "a2": "", "b1": "", "nozone": aff}},
		{"affinity without matching pods and not self-matching", nil, tu.Pod("p", "", "", affinity(term(v1.LabelTopologyZone, "app", "db"))),
			map[string]string{"a1": aff, "a2": aff, "b1": aff}},
		{"affinity to pods in another namespace does not match", []*v1.Pod{db}, tu.Pod("p", "", "", func(p *v1.Pod) { p.Namespace = "other" },
			affinity(term(v1.LabelTopologyZone, "app", "db"))), map[string]string{"a1": aff, "b1": aff}},
		{"anti-affinity per host", []*v1.Pod{web}, tu.Pod("p", "", "", antiAffinity(term(v1.LabelHostname, "app", "web"))),
			map[string]string{"a1": anti, "a2": "", "b1": ""}},
		{"anti-affinity per zone", []*v1.Pod{web}, tu.Pod("p", "", "", antiAffinity(term(v1.LabelTopologyZone, "app", "web"))),
			map[string]string{"a1": anti, "a2": anti, "b1": "", "nozone": ""}},
		{"existing pod's anti-affinity", []*v1.Pod{tu.Pod("loner", "", "", tu.On("a1"), antiAffinity(term(v1.LabelTopologyZone, "app", "web")))},
			tu.Pod("p", "", "", tu.PodLabels("app", "web")), map[string]string{"a1": existing, "a2": existing, "b1": "", "nozone": ""}},
		{"existing pod's anti-affinity does not select the pod", []*v1.Pod{tu.Pod("loner", "", "", tu.On("a1"), antiAffinity(term(v1.LabelTopologyZone, "app", "web")))},
			tu.Pod("p", "", "", tu.PodLabels("app", "db")), map[string]string{"a1": "", "a2": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, ipa.New(nil), nodes, c.placed, c.pod)
			for n, w := range c.want {
				if s := tu.StatusString(got[n]); s != w {
					t.Errorf("%s: %q, want %q", n, s, w)
				}
			}
		})
	}
}

func TestNamespaceSelector(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, nil)
	_ = idx.Add(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod", Labels: map[string]string{"env": "prod"}}})
	_ = idx.Add(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}})
	db := tu.Pod("db", "", "", tu.On("b1"), tu.PodLabels("app", "db"), func(p *v1.Pod) { p.Namespace = "prod" })
	t1 := term(v1.LabelTopologyZone, "app", "db")
	t1.NamespaceSelector = tu.Selector("env", "prod")
	got := tu.Filter(t, ipa.New(corelisters.NewNamespaceLister(idx)), nodes, []*v1.Pod{db}, tu.Pod("p", "", "", affinity(t1)))
	if tu.StatusString(got["b1"]) != "" || tu.StatusString(got["a1"]) == "" {
		t.Errorf("namespace selector: b1 %v a1 %v", got["b1"], got["a1"])
	}
}

func TestScore(t *testing.T) {
	placed := []*v1.Pod{
		tu.Pod("cache", "", "", tu.On("a1"), tu.PodLabels("app", "cache")),
		tu.Pod("noisy", "", "", tu.On("b1"), tu.PodLabels("app", "noisy")),
	}
	pod := tu.Pod("p", "", "", func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{
			PodAffinity: &v1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{
				{Weight: 10, PodAffinityTerm: term(v1.LabelTopologyZone, "app", "cache")}}},
			PodAntiAffinity: &v1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{
				{Weight: 5, PodAffinityTerm: term(v1.LabelHostname, "app", "noisy")}}},
		}
	})
	got := tu.Scores(t, ipa.New(nil), nodes, placed, pod)
	// raw: a1 10, a2 10, b1 -5, nozone 0 -> (s+5)*100/15
	if got["a1"] != 100 || got["a2"] != 100 || got["b1"] != 0 || got["nozone"] != 33 {
		t.Errorf("scores %v", got)
	}
	// An existing pod's required affinity attracts matching pods (weight 1).
	placed = []*v1.Pod{tu.Pod("sidecar", "", "", tu.On("b1"), affinity(term(v1.LabelHostname, "app", "main")))}
	got = tu.Scores(t, ipa.New(nil), nodes, placed, tu.Pod("p", "", "", tu.PodLabels("app", "main")))
	if got["b1"] != 100 || got["a1"] != 0 {
		t.Errorf("hard affinity symmetry %v", got)
	}
}
