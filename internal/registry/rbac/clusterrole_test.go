package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClusterRoleValidate(t *testing.T) {
	cases := []struct {
		name   string
		role   rbacv1.ClusterRole
		want   []string
		detail string
	}{
		{name: "resource rule", role: rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}}},
		{name: "non-resource rule", role: rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/version/*"}}}}},
		{name: "mixed rule", role: rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}, Resources: []string{"pods"}}}},
			want: []string{invalid + "rules[0].nonResourceURLs"}, detail: "rules cannot apply to both regular resources and non-resource URLs"},
		{name: "aggregation without selectors", role: rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{}},
			want: []string{required + "aggregationRule.clusterRoleSelectors"}},
		{name: "aggregation valid", role: rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"rbac.example.com/aggregate-to-admin": "true"}},
		}}}},
		{name: "aggregation bad selector", role: rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Within"}}},
		}}}, want: []string{invalid + "aggregationRule.clusterRoleSelectors[0]", invalid + "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator"}},
	}
	s := clusterRoleStrategy{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.role.DeepCopy()
			r.Name = "cr"
			errs := s.Validate(r)
			checkErrs(t, errs, tc.want)
			checkErrs(t, s.ValidateUpdate(r, r.DeepCopy()), tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}
