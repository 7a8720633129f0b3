package rbac

import (
	"reflect"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRBACNames(t *testing.T) {
	cases := []struct {
		name   string
		prefix bool
		valid  bool
	}{
		{name: "system:controller:foo", valid: true},
		{name: "Admin_Role", valid: true},
		{name: "a/b"},
		{name: "a%b"},
		{name: ".."},
		{name: "."},
		{name: "..", prefix: true, valid: true}, // prefixes only forbid separators
		{name: "x/", prefix: true},
	}
	for _, tc := range cases {
		msgs := ValidateRBACName(tc.name, tc.prefix)
		if (len(msgs) == 0) != tc.valid {
			t.Errorf("%q (prefix %v): messages %v, want valid=%v", tc.name, tc.prefix, msgs, tc.valid)
		}
	}
	for _, r := range []struct {
		got        string
		namespaced bool
		want       string
		wantNS     bool
	}{
		{Roles().Resource, Roles().Namespaced, "roles", true},
		{RoleBindings().Resource, RoleBindings().Namespaced, "rolebindings", true},
		{ClusterRoles().Resource, ClusterRoles().Namespaced, "clusterroles", false},
		{ClusterRoleBindings().Resource, ClusterRoleBindings().Namespaced, "clusterrolebindings", false},
	} {
		if r.got != r.want || r.namespaced != r.wantNS {
			t.Errorf("resource %s namespaced %v, want %s %v", r.got, r.namespaced, r.want, r.wantNS)
		}
	}
	if Roles().ValidateName == nil || len(Roles().ValidateName("system:x", false)) != 0 {
		t.Errorf("roles must accept path-segment names")
	}
}

func TestRoleValidate(t *testing.T) {
	cases := []struct {
		name   string
		rules  []rbacv1.PolicyRule
		want   []string
		detail string
	}{
		{name: "valid", rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
		{name: "no rules"},
		{name: "verbs missing", rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}},
			want: []string{required + "rules[0].verbs"}, detail: "verbs must contain at least one value"},
		{name: "apiGroups missing", rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}},
			want: []string{required + "rules[0].apiGroups"}, detail: "resource rules must supply at least one api group"},
		{name: "resources missing", rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}}},
			want: []string{required + "rules[0].resources"}},
		{name: "non-resource url in role", rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}},
			want: []string{invalid + "rules[0].nonResourceURLs"}, detail: "namespaced rules cannot apply to non-resource URLs"},
		{name: "second rule bad", rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}},
			{},
		}, want: []string{required + "rules[1].verbs", required + "rules[1].apiGroups", required + "rules[1].resources"}},
	}
	s := roleStrategy{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}, Rules: tc.rules}
			s.Default(r)
			errs := s.Validate(r)
			checkErrs(t, errs, tc.want)
			checkErrs(t, s.ValidateUpdate(r, r.DeepCopy()), tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestCreatedAtTable(t *testing.T) {
	created := metav1.NewTime(time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 2*3600)))
	for _, tc := range []struct {
		name string
		cols []metav1.TableColumnDefinition
		row  []interface{}
	}{
		{"roles", roleStrategy{}.TableColumns(), roleStrategy{}.TableRow(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", CreationTimestamp: created}})},
		{"clusterroles", clusterRoleStrategy{}.TableColumns(), clusterRoleStrategy{}.TableRow(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "r", CreationTimestamp: created}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.cols) != 2 || tc.cols[0].Name != "Name" || tc.cols[0].Format != "name" || tc.cols[1].Name != "Created At" || tc.cols[1].Type != "date" {
				t.Errorf("columns %+v", tc.cols)
			}
			if want := []interface{}{"r", "2024-05-06T05:08:09Z"}; !reflect.DeepEqual(tc.row, want) {
				t.Errorf("row %v, want %v", tc.row, want)
			}
		})
	}
}
