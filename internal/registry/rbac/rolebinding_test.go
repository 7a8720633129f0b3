package rbac

import (
	"reflect"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validRoleBinding() *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "rb", Namespace: "ns"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{
			{Kind: "User", Name: "alice"},
			{Kind: "Group", Name: "devs"},
			{Kind: "ServiceAccount", Name: "builder"},
		},
	}
}

func TestRoleBindingDefault(t *testing.T) {
	b := validRoleBinding()
	b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", Name: "bob", APIGroup: "custom"})
	roleBindingStrategy{}.Default(b)
	if b.RoleRef.APIGroup != "rbac.authorization.k8s.io" {
		t.Errorf("roleRef.apiGroup %q", b.RoleRef.APIGroup)
	}
	want := []string{"rbac.authorization.k8s.io", "rbac.authorization.k8s.io", "", "custom"}
	for i, s := range b.Subjects {
		if s.APIGroup != want[i] {
			t.Errorf("subject %d apiGroup %q, want %q", i, s.APIGroup, want[i])
		}
	}
}

func TestRoleBindingValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*rbacv1.RoleBinding)
		want   []string
	}{
		{name: "valid", mutate: func(*rbacv1.RoleBinding) {}},
		{name: "cluster role ref", mutate: func(b *rbacv1.RoleBinding) { b.RoleRef.Kind = "ClusterRole" }},
		{name: "bad roleRef kind", mutate: func(b *rbacv1.RoleBinding) { b.RoleRef.Kind = "Pod" },
			want: []string{notSupported + "roleRef.kind"}},
		{name: "bad roleRef group", mutate: func(b *rbacv1.RoleBinding) { b.RoleRef.APIGroup = "example.com" },
			want: []string{notSupported + "roleRef.apiGroup"}},
		{name: "roleRef name missing", mutate: func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "" },
			want: []string{required + "roleRef.name"}},
		{name: "roleRef name with slash", mutate: func(b *rbacv1.RoleBinding) { b.RoleRef.Name = "a/b" },
			want: []string{invalid + "roleRef.name"}},
		{name: "subject name missing", mutate: func(b *rbacv1.RoleBinding) { b.Subjects[0].Name = "" },
			want: []string{required + "subjects[0].name"}},
		{name: "subject kind unknown", mutate: func(b *rbacv1.RoleBinding) { b.Subjects[0].Kind = "Robot" },
			want: []string{notSupported + "subjects[0].kind"}},
		{name: "service account with apiGroup", mutate: func(b *rbacv1.RoleBinding) { b.Subjects[2].APIGroup = "rbac.authorization.k8s.io" },
			want: []string{notSupported + "subjects[2].apiGroup"}},
		{name: "service account bad name", mutate: func(b *rbacv1.RoleBinding) { b.Subjects[2].Name = "Builder" },
			want: []string{invalid + "subjects[2].name"}},
		{name: "user with wrong group", mutate: func(b *rbacv1.RoleBinding) { b.Subjects[0].APIGroup = "x" },
			want: []string{notSupported + "subjects[0].apiGroup"}},
		{name: "service account namespace optional", mutate: func(b *rbacv1.RoleBinding) { b.Subjects[2].Namespace = "" }},
	}
	s := roleBindingStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := validRoleBinding()
			s.Default(b)
			tc.mutate(b)
			checkErrs(t, s.Validate(b), tc.want)
		})
	}
}

func TestRoleBindingRoleRefImmutable(t *testing.T) {
	s := roleBindingStrategy{now: fixedClock}
	old := validRoleBinding()
	s.Default(old)
	cur := old.DeepCopy()
	cur.Subjects = cur.Subjects[:1]
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.RoleRef.Name = "writer"
	errs := s.ValidateUpdate(cur, old)
	checkErrs(t, errs, []string{invalid + "roleRef"})
	checkDetail(t, errs, "roleRef", "cannot change roleRef")
	if got := errs[0].Error(); got[:len("roleRef: Invalid value: ")] != "roleRef: Invalid value: " {
		t.Errorf("message %q", got)
	}
}

func TestRoleBindingTable(t *testing.T) {
	s := roleBindingStrategy{now: fixedClock}
	var names []string
	var wide []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
		if c.Priority == 1 {
			wide = append(wide, c.Name)
		}
	}
	if !reflect.DeepEqual(names, []string{"Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"}) ||
		!reflect.DeepEqual(wide, []string{"Users", "Groups", "ServiceAccounts"}) {
		t.Fatalf("columns %v wide %v", names, wide)
	}
	b := validRoleBinding()
	b.CreationTimestamp = createdAgo(45 * time.Second)
	b.Subjects[2].Namespace = "ci"
	b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: "User", Name: "bob"})
	want := []interface{}{"rb", "Role/reader", "45s", "alice, bob", "devs", "ci/builder"}
	if got := s.TableRow(b); !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
}
