package rbac

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestAuthorize(t *testing.T) {
	src := &staticSource{
		roles: []*rbacv1.Role{testRole("team", "pod-reader", rule(read(), "", "pods"))},
		clusterRoles: []*rbacv1.ClusterRole{
			testClusterRole("secret-reader", rule(read(), "", "secrets")),
			testClusterRole("node-reader", rule(read(), "", "nodes")),
			testClusterRole("health", urls(verbs("get"), "/healthz", "/healthz/*")),
		},
		clusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			testCRB("ops-nodes", "node-reader", groupSubject("ops")),
			testCRB("health", "health", groupSubject(user.AllAuthenticated)),
			testCRB("sa-nodes", "node-reader", saSubject("kube-system", "watcher")),
			// A service account without a namespace in a
			// ClusterRoleBinding names nobody.
			testCRB("sa-no-ns", "node-reader", saSubject("", "anyone")),
			testCRB("dangling", "missing-role", userSubject("alice")),
		},
		roleBindings: []*rbacv1.RoleBinding{
			testRB("team", "alice-pods", "Role", "pod-reader", userSubject("alice")),
			// A RoleBinding may grant a ClusterRole within its namespace.
			testRB("team", "alice-secrets", "ClusterRole", "secret-reader", userSubject("alice")),
			// The service account's namespace defaults to the binding's.
			testRB("team", "builder-pods", "Role", "pod-reader", saSubject("", "builder")),
		},
	}
	az := New(src)
	alice := &user.Info{Name: "alice", Groups: []string{user.AllAuthenticated}}
	bob := &user.Info{Name: "bob", Groups: []string{"ops", user.AllAuthenticated}}
	builder := &user.Info{Name: "system:serviceaccount:team:builder", Groups: []string{user.ServiceAccountsGroup}}
	watcher := &user.Info{Name: "system:serviceaccount:kube-system:watcher"}
	anyone := &user.Info{Name: "system:serviceaccount:team:anyone"}

	at := func(u *user.Info, verb, ns, resource string) authorizer.Attributes {
		return authorizer.Attributes{User: u, Verb: verb, ResourceRequest: true, Namespace: ns, Resource: resource}
	}
	tests := []struct {
		name   string
		attrs  authorizer.Attributes
		want   authorizer.Decision
		reason string
	}{
		{"role in namespace", at(alice, "list", "team", "pods"), authorizer.Allow,
			`RBAC: allowed by RoleBinding "alice-pods/team" of Role "pod-reader" to User "alice"`},
		{"role not in other namespace", at(alice, "list", "other", "pods"), authorizer.NoOpinion, ""},
		{"role not cluster-wide", at(alice, "list", "", "pods"), authorizer.NoOpinion, ""},
		{"clusterrole via rolebinding", at(alice, "get", "team", "secrets"), authorizer.Allow,
			`RBAC: allowed by RoleBinding "alice-secrets/team" of ClusterRole "secret-reader" to User "alice"`},
		{"clusterrole via rolebinding scoped", at(alice, "get", "other", "secrets"), authorizer.NoOpinion, ""},
		{"group", at(bob, "get", "", "nodes"), authorizer.Allow,
			`RBAC: allowed by ClusterRoleBinding "ops-nodes" of ClusterRole "node-reader" to Group "ops"`},
		{"not in group", at(alice, "get", "", "nodes"), authorizer.NoOpinion, ""},
		{"sa defaulted namespace", at(builder, "get", "team", "pods"), authorizer.Allow,
			`RBAC: allowed by RoleBinding "builder-pods/team" of Role "pod-reader" to ServiceAccount "builder/team"`},
		{"sa in clusterrolebinding", at(watcher, "list", "", "nodes"), authorizer.Allow,
			`RBAC: allowed by ClusterRoleBinding "sa-nodes" of ClusterRole "node-reader" to ServiceAccount "watcher/kube-system"`},
		{"sa without namespace in clusterrolebinding", at(anyone, "list", "", "nodes"), authorizer.NoOpinion, ""},
		{"non-resource", authorizer.Attributes{User: alice, Verb: "get", Path: "/healthz/etcd"}, authorizer.Allow,
			`RBAC: allowed by ClusterRoleBinding "health" of ClusterRole "health" to Group "system:authenticated"`},
		{"nil user", authorizer.Attributes{Verb: "get", Path: "/healthz"}, authorizer.NoOpinion, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := az.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("Authorize error: %v", err)
			}
			if d != tt.want {
				t.Fatalf("decision = %v (%s), want %v", d, reason, tt.want)
			}
			if tt.want == authorizer.Allow && reason != tt.reason {
				t.Fatalf("reason = %q, want %q", reason, tt.reason)
			}
		})
	}

	// The binding to a missing role grants nothing but is reported.
	d, reason, err := az.Authorize(context.Background(), at(alice, "delete", "", "nodes"))
	if d != authorizer.NoOpinion || err != nil || !strings.Contains(reason, `clusterroles.rbac.authorization.k8s.io "missing-role" not found`) {
		t.Fatalf("missing role: %v %q %v", d, reason, err)
	}
}

func TestRulesFor(t *testing.T) {
	src := &staticSource{
		roles:        []*rbacv1.Role{testRole("team", "r", rule(read(), "", "pods"))},
		clusterRoles: []*rbacv1.ClusterRole{testClusterRole("c", rule(read(), "", "nodes"))},
		clusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			testCRB("c", "c", userSubject("u")),
			testCRB("gone", "gone", userSubject("u")),
		},
		roleBindings: []*rbacv1.RoleBinding{testRB("team", "r", "Role", "r", userSubject("u"))},
	}
	u := &user.Info{Name: "u"}
	rules, incomplete, err := New(src).RulesFor(context.Background(), u, "team")
	if len(rules) != 2 || !incomplete || err == nil {
		t.Fatalf("RulesFor(team) = %v, %v, %v; want both rules, incomplete because of the missing role", rules, incomplete, err)
	}
	rules, _, _ = New(src).RulesFor(context.Background(), u, "")
	if len(rules) != 1 || rules[0].Resources[0] != "nodes" {
		t.Fatalf("RulesFor(\"\") = %v; want only the cluster-wide rule", rules)
	}
	src.clusterRoleBindings = src.clusterRoleBindings[:1]
	if _, incomplete, err := New(src).RulesFor(context.Background(), u, "team"); incomplete || err != nil {
		t.Fatalf("complete rules reported incomplete: %v %v", incomplete, err)
	}
}

// failingSource cannot list anything.
type failingSource struct{ staticSource }

func (failingSource) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return nil, errors.New("cache not ready")
}

func TestAuthorizeUnreadableBindings(t *testing.T) {
	d, reason, err := New(&failingSource{}).Authorize(context.Background(),
		authorizer.Attributes{User: &user.Info{Name: "u"}, Verb: "get", Path: "/healthz"})
	if d != authorizer.NoOpinion || err != nil || !strings.Contains(reason, "cache not ready") {
		t.Fatalf("Authorize = %v, %q, %v; want NoOpinion explaining the error", d, reason, err)
	}
	_, incomplete, err := New(&failingSource{}).RulesFor(context.Background(), &user.Info{Name: "u"}, "")
	if !incomplete || err == nil {
		t.Fatal("RulesFor must report unreadable bindings as incomplete")
	}
}
