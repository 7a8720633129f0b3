package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// AggregateRules returns the rules an aggregated ClusterRole should hold:
// the union, without duplicates and in a stable order, of the rules of
// every ClusterRole in all (other than role itself) whose labels match any
// of role's clusterRoleSelectors. Roles are visited in name order and rules
// in their order, so the result only changes when an input does. A role
// without an aggregationRule yields nil; an invalid selector matches
// nothing (validation refuses such roles). The inputs are not modified and
// the rules returned are copies.
func AggregateRules(role *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) []rbacv1.PolicyRule {
	if role == nil || role.AggregationRule == nil {
		return nil
	}
	var selectors []labels.Selector
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			continue
		}
		selectors = append(selectors, sel)
	}
	sorted := append([]*rbacv1.ClusterRole(nil), all...)
	sortByName(sorted)
	var out []rbacv1.PolicyRule
	for _, other := range sorted {
		if other == nil || other.Name == role.Name || !matchesAny(selectors, other.Labels) {
			continue
		}
		for i := range other.Rules {
			if !containsRule(out, &other.Rules[i]) {
				out = append(out, *other.Rules[i].DeepCopy())
			}
		}
	}
	return out
}

func matchesAny(selectors []labels.Selector, l map[string]string) bool {
	for _, s := range selectors {
		// An empty selector matches every role, as in Kubernetes.
		if s.Matches(labels.Set(l)) {
			return true
		}
	}
	return false
}

func containsRule(rules []rbacv1.PolicyRule, r *rbacv1.PolicyRule) bool {
	for i := range rules {
		if apiequality.Semantic.DeepEqual(&rules[i], r) {
			return true
		}
	}
	return false
}

func sortByName(roles []*rbacv1.ClusterRole) {
	slices.SortStableFunc(roles, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(name(a), name(b)) })
}

func name(r *rbacv1.ClusterRole) string {
	if r == nil {
		return ""
	}
	return r.Name
}
