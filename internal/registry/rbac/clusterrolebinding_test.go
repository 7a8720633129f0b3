package rbac

import (
	"reflect"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validClusterRoleBinding() *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "system:crb"},
		RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{
			{Kind: "Group", Name: "system:masters"},
			{Kind: "ServiceAccount", Name: "default", Namespace: "kube-system"},
		},
	}
}

func TestClusterRoleBindingValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*rbacv1.ClusterRoleBinding)
		want   []string
	}{
		{name: "valid", mutate: func(*rbacv1.ClusterRoleBinding) {}},
		{name: "role ref must be cluster role", mutate: func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.Kind = "Role" },
			want: []string{notSupported + "roleRef.kind"}},
		{name: "service account needs namespace", mutate: func(b *rbacv1.ClusterRoleBinding) { b.Subjects[1].Namespace = "" },
			want: []string{required + "subjects[1].namespace"}},
	}
	s := clusterRoleBindingStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := validClusterRoleBinding()
			s.Default(b)
			tc.mutate(b)
			errs := s.Validate(b)
			checkErrs(t, errs, tc.want)
			if len(tc.want) == 1 && tc.want[0] == notSupported+"roleRef.kind" {
				checkDetail(t, errs, "roleRef.kind", `supported values: "ClusterRole"`)
			}
		})
	}
}

func TestClusterRoleBindingRoleRefImmutable(t *testing.T) {
	s := clusterRoleBindingStrategy{now: fixedClock}
	old := validClusterRoleBinding()
	s.Default(old)
	cur := old.DeepCopy()
	cur.RoleRef.Name = "view"
	checkErrs(t, s.ValidateUpdate(cur, old), []string{invalid + "roleRef"})
	// Defaulting happens before validation, so omitting the group on update
	// is not a change.
	cur = old.DeepCopy()
	cur.RoleRef.APIGroup = ""
	s.Default(cur)
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
}

func TestClusterRoleBindingTable(t *testing.T) {
	s := clusterRoleBindingStrategy{now: fixedClock}
	if n := len(s.TableColumns()); n != 6 {
		t.Fatalf("%d columns", n)
	}
	b := validClusterRoleBinding()
	b.CreationTimestamp = createdAgo(26 * time.Hour)
	want := []interface{}{"system:crb", "ClusterRole/cluster-admin", "26h", "", "system:masters", "kube-system/default"}
	if got := s.TableRow(b); !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
}
