package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAggregateRules(t *testing.T) {
	labelled := func(name string, labels map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		r := testClusterRole(name, rules...)
		r.Labels = labels
		return r
	}
	pods, secrets, nodes := rule(read(), "", "pods"), rule(read(), "", "secrets"), rule(read(), "", "nodes")
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg", Labels: map[string]string{"a": "true"}},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"a": "true"}},
			{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "b", Operator: metav1.LabelSelectorOpExists}}},
		}},
		Rules: []rbacv1.PolicyRule{nodes}, // stale: replaced, and itself excluded
	}
	all := []*rbacv1.ClusterRole{
		labelled("z-second", map[string]string{"b": "1"}, secrets, pods),
		labelled("a-first", map[string]string{"a": "true"}, pods),
		labelled("unrelated", map[string]string{"a": "false"}, nodes),
		agg,
	}
	got := AggregateRules(agg, all)
	if len(got) != 2 || got[0].Resources[0] != "pods" || got[1].Resources[0] != "secrets" {
		t.Fatalf("AggregateRules = %v; want pods then secrets, de-duplicated, in role-name order", got)
	}
	got[0].Verbs[0] = "mutated"
	if all[1].Rules[0].Verbs[0] != "get" {
		t.Fatal("AggregateRules must return copies")
	}
	if AggregateRules(testClusterRole("plain", pods), all) != nil {
		t.Fatal("a role without aggregationRule aggregates nothing")
	}
}
