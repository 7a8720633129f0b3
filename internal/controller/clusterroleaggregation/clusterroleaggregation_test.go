package clusterroleaggregation

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func role(name string, labels map[string]string, resources ...string) *rbacv1.ClusterRole {
	r := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	for _, res := range resources {
		r.Rules = append(r.Rules, rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{res}})
	}
	return r
}

func aggregated(name, label string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}}}
}

func start(t *testing.T, objs ...runtime.Object) (*fake.Clientset, *Controller, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cs := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := New(Config{Client: cs, Informers: factory, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return cs, c, ctx
}

func rulesOf(ctx context.Context, t *testing.T, cs *fake.Clientset, name string) []rbacv1.PolicyRule {
	t.Helper()
	r, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Rules
}

func TestReconcile(t *testing.T) {
	cs, c, ctx := start(t,
		aggregated("view", "v"),
		role("pods", map[string]string{"v": "true"}, "pods"),
		role("more", map[string]string{"v": "true"}, "configmaps", "pods"),
		role("other", nil, "secrets"),
		role("plain", nil, "nodes"),
	)
	if err := c.Reconcile(ctx, "view"); err != nil {
		t.Fatal(err)
	}
	got := rulesOf(ctx, t, cs, "view")
	if len(got) != 2 || got[0].Resources[0] != "configmaps" || got[1].Resources[0] != "pods" {
		t.Fatalf("view rules = %v; want configmaps and pods once each", got)
	}
	// Once the informer has seen the update, nothing is written.
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		r, err := c.roles.Get("view")
		return err == nil && len(r.Rules) == 2, nil
	})
	if err != nil {
		t.Fatal("the informer never saw the aggregated rules")
	}
	before := len(cs.Actions())
	if err := c.Reconcile(ctx, "view"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconcile(ctx, "plain"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconcile(ctx, "missing"); err != nil {
		t.Fatal(err)
	}
	if n := len(cs.Actions()) - before; n != 0 {
		t.Fatalf("%d writes for roles already aggregated, not aggregated or missing", n)
	}
}

func TestRunFollowsChanges(t *testing.T) {
	cs, c, ctx := start(t, aggregated("edit", "e"), role("a", map[string]string{"e": "true"}, "pods"))
	go func() { _ = c.Run(ctx) }()
	waitForRules := func(want ...string) {
		t.Helper()
		var got []rbacv1.PolicyRule
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			got = rulesOf(ctx, t, cs, "edit")
			var res []string
			for _, r := range got {
				res = append(res, r.Resources...)
			}
			return apiequality.Semantic.DeepEqual(res, want), nil
		})
		if err != nil {
			t.Fatalf("edit rules = %v; want resources %v", got, want)
		}
	}
	waitForRules("pods")
	// A newly labelled role joins the aggregate.
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role("b", map[string]string{"e": "true"}, "secrets"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForRules("pods", "secrets")
	// Removing the label takes its rules out again.
	b := role("b", nil, "secrets")
	if _, err := cs.RbacV1().ClusterRoles().Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForRules("pods")
	if err := cs.RbacV1().ClusterRoles().Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForRules()
}
