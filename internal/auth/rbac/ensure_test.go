package rbac

import (
	"context"
	"io"
	"log/slog"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestEnsureDefaultsCreatesEverything(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := EnsureDefaults(ctx, cs, log); err != nil {
		t.Fatal(err)
	}
	crs, _ := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	crbs, _ := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	rs, _ := cs.RbacV1().Roles("kube-system").List(ctx, metav1.ListOptions{})
	rbs, _ := cs.RbacV1().RoleBindings("kube-system").List(ctx, metav1.ListOptions{})
	if len(crs.Items) != len(DefaultClusterRoles()) || len(crbs.Items) != len(DefaultClusterRoleBindings()) ||
		len(rs.Items) != len(DefaultRoles()) || len(rbs.Items) != len(DefaultRoleBindings()) {
		t.Fatalf("created %d/%d/%d/%d objects", len(crs.Items), len(crbs.Items), len(rs.Items), len(rbs.Items))
	}
	// A second run changes nothing.
	before := len(cs.Actions())
	if err := EnsureDefaults(ctx, cs, log); err != nil {
		t.Fatal(err)
	}
	for _, a := range cs.Actions()[before:] {
		if a.GetVerb() != "get" {
			t.Fatalf("second run wrote: %v", a)
		}
	}
}

func TestEnsureDefaultsReconciles(t *testing.T) {
	ctx := context.Background()
	auto := map[string]string{AutoUpdateAnnotation: "true"}
	extraRule := rule(verbs("get"), "example.com", "widgets")
	// view lost its selector but gained an administrator's; basic-user lost
	// a rule and gained one; cluster-admin's binding gained a subject;
	// discovery is pinned (autoupdate=false); the scheduler's binding
	// points at the wrong role.
	view := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view", Annotations: auto},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"mine": "true"}}}}}
	basic := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:basic-user", Annotations: auto},
		Rules: []rbacv1.PolicyRule{extraRule}}
	pinned := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:discovery", Annotations: map[string]string{AutoUpdateAnnotation: "false"}}}
	adminBinding := testCRB("cluster-admin", "cluster-admin", userSubject("ops"))
	adminBinding.Annotations = auto
	wrongRef := testCRB("system:kube-scheduler", "view", userSubject(KubeSchedulerUser))
	wrongRef.Annotations = auto
	cs := fake.NewClientset([]runtime.Object{view, basic, pinned, adminBinding, wrongRef}...)
	if err := EnsureDefaults(ctx, cs, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	gotView, _ := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
	if sel := gotView.AggregationRule.ClusterRoleSelectors; len(sel) != 2 || sel[0].MatchLabels["mine"] != "true" ||
		sel[1].MatchLabels[AggregateToView] != "true" || gotView.Labels[AggregateToEdit] != "true" {
		t.Fatalf("view = %+v; want the administrator's selector kept and the default one added", gotView)
	}
	gotBasic, _ := cs.RbacV1().ClusterRoles().Get(ctx, "system:basic-user", metav1.GetOptions{})
	if ok, _ := Covers(gotBasic.Rules, defaultClusterRole(t, "system:basic-user").Rules); !ok || gotBasic.Rules[0].APIGroups[0] != "example.com" {
		t.Fatalf("basic-user rules = %v; want the extra rule kept and the defaults added", gotBasic.Rules)
	}
	gotPinned, _ := cs.RbacV1().ClusterRoles().Get(ctx, "system:discovery", metav1.GetOptions{})
	if len(gotPinned.Rules) != 0 {
		t.Fatal("an object with autoupdate=false must be left alone")
	}
	gotBinding, _ := cs.RbacV1().ClusterRoleBindings().Get(ctx, "cluster-admin", metav1.GetOptions{})
	if len(gotBinding.Subjects) != 2 || gotBinding.Subjects[0].Name != "ops" || gotBinding.Subjects[1].Name != "system:masters" {
		t.Fatalf("cluster-admin subjects = %v", gotBinding.Subjects)
	}
	gotRef, _ := cs.RbacV1().ClusterRoleBindings().Get(ctx, "system:kube-scheduler", metav1.GetOptions{})
	if gotRef.RoleRef.Name != "system:kube-scheduler" {
		t.Fatalf("roleRef = %v; want the binding recreated with the default role", gotRef.RoleRef)
	}
}

func defaultClusterRole(t *testing.T, name string) *rbacv1.ClusterRole {
	t.Helper()
	for _, r := range DefaultClusterRoles() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no default ClusterRole %s", name)
	return nil
}
