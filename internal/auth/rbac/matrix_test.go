package rbac

import (
	"context"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// aggregatedDefaults returns the default ClusterRoles with the aggregated
// ones filled in as the aggregation controller would, repeating until
// nothing changes (view feeds edit, which feeds admin).
func aggregatedDefaults(t *testing.T) []*rbacv1.ClusterRole {
	t.Helper()
	roles := DefaultClusterRoles()
	for pass := 0; pass < 5; pass++ {
		changed := false
		for _, r := range roles {
			if r.AggregationRule == nil {
				continue
			}
			if rules := AggregateRules(r, roles); !apiequality.Semantic.DeepEqual(rules, r.Rules) {
				r.Rules, changed = rules, true
			}
		}
		if !changed {
			return roles
		}
	}
	t.Fatal("aggregation did not settle")
	return nil
}

type target struct {
	group, resource, sub string
	cluster              bool // cluster-scoped
}

func (tg target) String() string {
	s := tg.resource
	if tg.sub != "" {
		s += "/" + tg.sub
	}
	if tg.group != "" {
		s += "." + tg.group
	}
	return s
}

var matrixVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// TestUserFacingRolesMatrix checks view, edit, admin and cluster-admin
// against Kubernetes' documented user-facing roles
// (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles):
// view reads most namespaced objects but not secrets or roles; edit also
// writes them, secrets included, but not roles, bindings, quotas or the
// namespace; admin adds roles and bindings in the namespace; none of them
// reaches cluster-scoped objects other than reading namespaces, and a
// RoleBinding confines them to its namespace.
func TestUserFacingRolesMatrix(t *testing.T) {
	const R, RW = "get list watch", "get list watch create update patch delete deletecollection"
	var (
		pods        = target{resource: "pods"}
		podLog      = target{resource: "pods", sub: "log"}
		podExec     = target{resource: "pods", sub: "exec"}
		secrets     = target{resource: "secrets"}
		configmaps  = target{resource: "configmaps"}
		deployments = target{group: "apps", resource: "deployments"}
		deployScale = target{group: "apps", resource: "deployments", sub: "scale"}
		roles       = target{group: rbacv1.GroupName, resource: "roles"}
		bindings    = target{group: rbacv1.GroupName, resource: "rolebindings"}
		quotas      = target{resource: "resourcequotas"}
		endpoints   = target{resource: "endpoints"}
		slices      = target{group: "discovery.k8s.io", resource: "endpointslices"}
		saToken     = target{resource: "serviceaccounts", sub: "token"}
		nodes       = target{resource: "nodes", cluster: true}
		namespaces  = target{resource: "namespaces", cluster: true}
		clusterRole = target{group: rbacv1.GroupName, resource: "clusterroles", cluster: true}
		pvs         = target{resource: "persistentvolumes", cluster: true}
	)
	targets := []target{pods, podLog, podExec, secrets, configmaps, deployments, deployScale, roles, bindings, quotas,
		endpoints, slices, saToken, nodes, namespaces, clusterRole, pvs}
	view := map[target]string{pods: R, podLog: R, configmaps: R, deployments: R, deployScale: R, quotas: R, endpoints: R, slices: R, namespaces: R}
	edit := map[target]string{pods: RW, podLog: R, podExec: RW, secrets: RW, configmaps: RW, deployments: RW, deployScale: RW,
		quotas: R, endpoints: R, slices: R, namespaces: R}
	admin := map[target]string{roles: RW, bindings: RW}
	for k, v := range edit {
		admin[k] = v
	}
	all := map[target]string{}
	for _, tg := range targets {
		all[tg] = RW
	}
	expect := map[string]map[target]string{"view": view, "edit": edit, "admin": admin, "cluster-admin": all}

	clusterRoles := aggregatedDefaults(t)
	for _, roleName := range []string{"view", "edit", "admin", "cluster-admin"} {
		for _, mode := range []string{"RoleBinding", "ClusterRoleBinding"} {
			u := &user.Info{Name: "u-" + roleName, Groups: []string{user.AllAuthenticated}}
			src := &staticSource{clusterRoles: clusterRoles}
			if mode == "RoleBinding" {
				src.roleBindings = []*rbacv1.RoleBinding{testRB("team", "b", "ClusterRole", roleName, userSubject(u.Name))}
			} else {
				src.clusterRoleBindings = []*rbacv1.ClusterRoleBinding{testCRB("b", roleName, userSubject(u.Name))}
			}
			az := New(src)
			for _, tg := range targets {
				namespacesToTry := []string{"team", "other"}
				if tg.cluster {
					namespacesToTry = []string{""}
				}
				for _, ns := range namespacesToTry {
					for _, verb := range matrixVerbs {
						want := strings.Contains(" "+expect[roleName][tg]+" ", " "+verb+" ")
						if mode == "RoleBinding" && ns != "team" {
							want = false
						}
						name := ""
						if verb == "get" || verb == "update" || verb == "patch" || verb == "delete" {
							name = "x"
						}
						if tg.sub != "" && verb == "create" {
							name = "x" // subresources are created on a named object
						}
						a := authorizer.Attributes{User: u, Verb: verb, ResourceRequest: true, Namespace: ns,
							APIGroup: tg.group, Resource: tg.resource, Subresource: tg.sub, Name: name}
						d, reason, err := az.Authorize(context.Background(), a)
						if err != nil {
							t.Fatalf("%s: %v", roleName, err)
						}
						if got := d == authorizer.Allow; got != want {
							t.Errorf("%s by %s: %s %s in %q: allowed=%v, want %v (%s)", roleName, mode, verb, tg, ns, got, want, reason)
						}
					}
				}
			}
		}
	}
}

// TestNamespaceReadThroughRoleBinding: reading namespaces through a
// RoleBinding reads only the binding's own namespace.
func TestNamespaceReadThroughRoleBinding(t *testing.T) {
	u := &user.Info{Name: "v"}
	src := &staticSource{clusterRoles: aggregatedDefaults(t),
		roleBindings: []*rbacv1.RoleBinding{testRB("team", "b", "ClusterRole", "view", userSubject("v"))}}
	az := New(src)
	ask := func(verb, ns, name string) bool {
		d, _, _ := az.Authorize(context.Background(), authorizer.Attributes{User: u, Verb: verb, ResourceRequest: true, Namespace: ns, Resource: "namespaces", Name: name})
		return d == authorizer.Allow
	}
	if !ask("get", "team", "team") || ask("get", "other", "other") || ask("list", "", "") || ask("delete", "team", "team") {
		t.Fatal("view through a RoleBinding must read its own namespace only")
	}
}
