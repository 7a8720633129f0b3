package rbac

import (
	"testing"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/auth/user"
	"github.com/skiff-io/skiff/internal/registry"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func rbacResource(name string, namespaced bool) *registry.Resource {
	return &registry.Resource{Group: rbacv1.GroupName, Version: "v1", Resource: name, Namespaced: namespaced}
}

func escalationFixture() *EscalationCheck {
	src := &staticSource{
		clusterRoles: []*rbacv1.ClusterRole{
			testClusterRole("pod-editor", rule(verbs("get", "list", "create"), "", "pods")),
			testClusterRole("secrets-all", rule(read(), "", "secrets")),
			testClusterRole("escalator", rule(verbs("escalate"), rbacv1.GroupName, "roles")),
			testClusterRole("binder", named(rule(verbs("bind"), rbacv1.GroupName, "clusterroles"), "secrets-all", "ghost")),
			testClusterRole("one-pod", named(rule(verbs("get"), "", "pods"), "a")),
			testClusterRole("health", urls(verbs("get"), "/healthz/*")),
			testClusterRole("everything", fullAuthority...),
		},
		roleBindings: []*rbacv1.RoleBinding{
			testRB("team", "alice", "ClusterRole", "pod-editor", userSubject("alice")),
			testRB("team", "esc", "ClusterRole", "escalator", userSubject("esc")),
			testRB("team", "binder", "ClusterRole", "binder", userSubject("binder")),
		},
		clusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			testCRB("carol", "pod-editor", userSubject("carol")),
			testCRB("one-pod", "one-pod", userSubject("dave")),
			testCRB("health", "health", userSubject("dave")),
			testCRB("root", "everything", userSubject("root")),
		},
	}
	az := New(src)
	return &EscalationCheck{Authorizer: az, Rules: az, Source: src}
}

func roleObj(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func TestEscalationCheck(t *testing.T) {
	alice := &user.Info{Name: "alice", Groups: []string{"g1", "system:authenticated"}}
	u := func(name string) *user.Info { return &user.Info{Name: name} }
	write := func(res *registry.Resource, verb, ns, name string, who *user.Info, obj, old runtime.Object) *apiserver.Attributes {
		return &apiserver.Attributes{Resource: res, Verb: verb, Namespace: ns, Name: name, User: who, Object: obj, Old: old}
	}
	roles, clusterRoles := rbacResource("roles", true), rbacResource("clusterroles", false)
	rbs, crbs := rbacResource("rolebindings", true), rbacResource("clusterrolebindings", false)
	rb := func(ns, name, kind, role string) *rbacv1.RoleBinding {
		return testRB(ns, name, kind, role, userSubject("someone"))
	}
	aggregated := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"x": "y"}}}},
		Rules:           []rbacv1.PolicyRule{rule(verbs("get"), "", "pods")}}
	secretRole := roleObj("team", "r", rule(verbs("delete"), "", "secrets"))
	ownedSecretRole := secretRole.DeepCopy()
	ownedSecretRole.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "o", UID: "1"}}

	tests := []struct {
		name    string
		attrs   *apiserver.Attributes
		wantErr string // "" allowed; "forbidden", "notfound", or an exact message
	}{
		{"held rules", write(roles, "create", "team", "r", alice, roleObj("team", "r", rule(verbs("get"), "", "pods")), nil), ""},
		{"unheld verb", write(roles, "create", "team", "r", alice, roleObj("team", "r", rule(verbs("delete"), "", "pods")), nil),
			`roles.rbac.authorization.k8s.io "r" is forbidden: user "alice" (groups=["g1" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:` + "\n" +
				`{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}`},
		{"compacted and sorted", write(roles, "create", "team", "r", alice, roleObj("team", "r",
			rule(verbs("get"), "", "secrets"), rule(verbs("delete", "deletecollection", "get"), "", "pods")), nil),
			`roles.rbac.authorization.k8s.io "r" is forbidden: user "alice" (groups=["g1" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:` + "\n" +
				`{APIGroups:[""], Resources:["pods"], Verbs:["delete" "deletecollection"]}` + "\n" +
				`{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`},
		{"rules held only in another namespace", write(roles, "create", "other", "r", alice, roleObj("other", "r", rule(verbs("get"), "", "pods")), nil), "forbidden"},
		{"namespace rules do not make a cluster role", write(clusterRoles, "create", "", "c", alice, testClusterRole("c", rule(verbs("get"), "", "pods")), nil), "forbidden"},
		{"system:masters", write(roles, "create", "team", "r", &user.Info{Name: "m", Groups: []string{user.SystemPrivilegedGroup}}, secretRole, nil), ""},
		{"in-process write", write(roles, "create", "team", "r", nil, secretRole, nil), ""},
		{"escalate verb", write(roles, "create", "team", "r", u("esc"), secretRole, nil), ""},
		{"escalate verb only in its namespace", write(roles, "create", "other", "r", u("esc"), roleObj("other", "r", rule(verbs("delete"), "", "secrets")), nil), "forbidden"},
		{"gc-only update", write(roles, "update", "team", "r", alice, ownedSecretRole, secretRole), ""},
		{"real update", write(roles, "update", "team", "r", alice, secretRole, roleObj("team", "r")), "forbidden"},
		{"resourceNames covered", write(clusterRoles, "create", "", "c", u("dave"), testClusterRole("c", named(rule(verbs("get"), "", "pods"), "a")), nil), ""},
		{"resourceNames do not cover all names", write(clusterRoles, "create", "", "c", u("dave"), testClusterRole("c", rule(verbs("get"), "", "pods")), nil), "forbidden"},
		{"url prefix covered", write(clusterRoles, "create", "", "c", u("dave"), testClusterRole("c", urls(verbs("get"), "/healthz/etcd")), nil), ""},
		{"url not covered", write(clusterRoles, "create", "", "c", u("dave"), testClusterRole("c", urls(verbs("get"), "/metrics")), nil), "forbidden"},
		{"aggregationRule needs cluster-admin", write(clusterRoles, "create", "", "agg", u("carol"), aggregated, nil),
			`clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule`},
		{"aggregationRule by a cluster-admin equivalent", write(clusterRoles, "create", "", "agg", u("root"), aggregated, nil), ""},
		{"bind held role", write(rbs, "create", "team", "b", alice, rb("team", "b", "ClusterRole", "pod-editor"), nil), ""},
		{"bind unheld role", write(rbs, "create", "team", "b", alice, rb("team", "b", "ClusterRole", "secrets-all"), nil),
			`rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "alice" (groups=["g1" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:` + "\n" +
				`{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list" "watch"]}`},
		{"bind verb", write(rbs, "create", "team", "b", u("binder"), rb("team", "b", "ClusterRole", "secrets-all"), nil), ""},
		{"bind verb is per namespace", write(crbs, "create", "", "b", u("binder"), testCRB("b", "secrets-all"), nil), "forbidden"},
		{"bind missing role", write(rbs, "create", "team", "b", alice, rb("team", "b", "Role", "nope"), nil), "notfound"},
		{"bind verb allows a missing role", write(rbs, "create", "team", "b", u("binder"), rb("team", "b", "ClusterRole", "ghost"), nil), ""},
		{"cluster binding covered cluster-wide", write(crbs, "create", "", "b", u("carol"), testCRB("b", "pod-editor"), nil), ""},
		{"cluster binding not covered by namespace rules", write(crbs, "create", "", "b", alice, testCRB("b", "pod-editor"), nil), "forbidden"},
		{"other groups ignored", write(&registry.Resource{Resource: "pods", Namespaced: true}, "create", "team", "p", alice, nil, nil), ""},
		{"deletes ignored", write(roles, "delete", "team", "r", alice, nil, secretRole), ""},
	}
	e := escalationFixture()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Admit(tt.attrs)
			switch tt.wantErr {
			case "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case "forbidden":
				if !apierrors.IsForbidden(err) {
					t.Fatalf("err = %v, want Forbidden", err)
				}
			case "notfound":
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
			default:
				if !apierrors.IsForbidden(err) || err.Error() != tt.wantErr {
					t.Fatalf("err =\n%v\nwant Forbidden\n%s", err, tt.wantErr)
				}
			}
		})
	}
}
