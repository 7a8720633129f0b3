package openapi

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/skiff-io/skiff/internal/registry"
)

// opSummary is what the tests compare of a route.
type opSummary struct {
	method, path, id, action, kind string
}

func summarize(routes []common.Route) map[string]opSummary {
	out := map[string]opSummary{}
	for _, r := range routes {
		ext := r.Metadata()
		gvk, _ := ext[gvkExtension].(map[string]interface{})
		out[r.OperationName()] = opSummary{
			method: r.Method(), path: r.Path(), id: r.OperationName(),
			action: fmt.Sprint(ext["x-kubernetes-action"]),
			kind:   fmt.Sprintf("%v/%v/%v", gvk["group"], gvk["version"], gvk["kind"]),
		}
	}
	return out
}

func fixtureResource(t *testing.T, group, resource string) *registry.Resource {
	t.Helper()
	for _, r := range resources(servedFixtures()) {
		if r.Group == group && r.Resource == resource {
			return r
		}
	}
	t.Fatalf("no fixture %s/%s", group, resource)
	return nil
}

func TestResourceRoutes(t *testing.T) {
	tests := []struct {
		group, resource string
		want            []opSummary
		wantCount       int
	}{
		{"", "pods", []opSummary{
			{"GET", "/api/v1/namespaces/{namespace}/pods", "listCoreV1NamespacedPod", "list", "/v1/Pod"},
			{"POST", "/api/v1/namespaces/{namespace}/pods", "createCoreV1NamespacedPod", "post", "/v1/Pod"},
			{"DELETE", "/api/v1/namespaces/{namespace}/pods", "deleteCoreV1CollectionNamespacedPod", "deletecollection", "/v1/Pod"},
			{"GET", "/api/v1/namespaces/{namespace}/pods/{name}", "readCoreV1NamespacedPod", "get", "/v1/Pod"},
			{"PUT", "/api/v1/namespaces/{namespace}/pods/{name}", "replaceCoreV1NamespacedPod", "put", "/v1/Pod"},
			{"PATCH", "/api/v1/namespaces/{namespace}/pods/{name}", "patchCoreV1NamespacedPod", "patch", "/v1/Pod"},
			{"DELETE", "/api/v1/namespaces/{namespace}/pods/{name}", "deleteCoreV1NamespacedPod", "delete", "/v1/Pod"},
			{"GET", "/api/v1/watch/namespaces/{namespace}/pods", "watchCoreV1NamespacedPodList", "watchlist", "/v1/Pod"},
			{"GET", "/api/v1/watch/namespaces/{namespace}/pods/{name}", "watchCoreV1NamespacedPod", "watch", "/v1/Pod"},
			{"GET", "/api/v1/pods", "listCoreV1PodForAllNamespaces", "list", "/v1/Pod"},
			{"GET", "/api/v1/watch/pods", "watchCoreV1PodListForAllNamespaces", "watchlist", "/v1/Pod"},
			{"PATCH", "/api/v1/namespaces/{namespace}/pods/{name}/status", "patchCoreV1NamespacedPodStatus", "patch", "/v1/Pod"},
			{"POST", "/api/v1/namespaces/{namespace}/pods/{name}/binding", "createCoreV1NamespacedPodBinding", "post", "/v1/Binding"},
			{"POST", "/api/v1/namespaces/{namespace}/pods/{name}/eviction", "createCoreV1NamespacedPodEviction", "post", "policy/v1/Eviction"},
			{"GET", "/api/v1/namespaces/{namespace}/pods/{name}/log", "readCoreV1NamespacedPodLog", "get", "/v1/Pod"},
			{"GET", "/api/v1/namespaces/{namespace}/pods/{name}/exec", "connectCoreV1GetNamespacedPodExec", "connect", "/v1/PodExecOptions"},
			{"POST", "/api/v1/namespaces/{namespace}/pods/{name}/exec", "connectCoreV1PostNamespacedPodExec", "connect", "/v1/PodExecOptions"},
			{"PATCH", "/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers", "patchCoreV1NamespacedPodEphemeralcontainers", "patch", "/v1/Pod"},
		}, 11 + 3 + 1 + 1 + 1 + 2 + 3},
		{"apps", "deployments", []opSummary{
			{"PATCH", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patchAppsV1NamespacedDeployment", "patch", "apps/v1/Deployment"},
			{"GET", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "readAppsV1NamespacedDeploymentScale", "get", "autoscaling/v1/Scale"},
			{"PUT", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "replaceAppsV1NamespacedDeploymentScale", "put", "autoscaling/v1/Scale"},
			{"PUT", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status", "replaceAppsV1NamespacedDeploymentStatus", "put", "apps/v1/Deployment"},
		}, 11 + 3 + 3},
		{"", "namespaces", []opSummary{
			{"GET", "/api/v1/namespaces", "listCoreV1Namespace", "list", "/v1/Namespace"},
			{"DELETE", "/api/v1/namespaces", "deleteCoreV1CollectionNamespace", "deletecollection", "/v1/Namespace"},
			{"GET", "/api/v1/watch/namespaces/{name}", "watchCoreV1Namespace", "watch", "/v1/Namespace"},
			{"PUT", "/api/v1/namespaces/{name}/finalize", "replaceCoreV1NamespaceFinalize", "put", "/v1/Namespace"},
		}, 9 + 3 + 1},
		{"rbac.authorization.k8s.io", "clusterroles", []opSummary{
			{"GET", "/apis/rbac.authorization.k8s.io/v1/watch/clusterroles", "watchRbacAuthorizationV1ClusterRoleList", "watchlist", "rbac.authorization.k8s.io/v1/ClusterRole"},
		}, 9},
		{"authorization.k8s.io", "selfsubjectaccessreviews", []opSummary{
			{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "createAuthorizationV1SelfSubjectAccessReview", "post", "authorization.k8s.io/v1/SelfSubjectAccessReview"},
		}, 1},
		{"authorization.k8s.io", "localsubjectaccessreviews", []opSummary{
			{"POST", "/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews", "createAuthorizationV1NamespacedLocalSubjectAccessReview", "post", "authorization.k8s.io/v1/LocalSubjectAccessReview"},
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.group+"/"+tt.resource, func(t *testing.T) {
			routes, err := resourceRoutes(fixtureResource(t, tt.group, tt.resource), scheme.Scheme)
			if err != nil {
				t.Fatal(err)
			}
			got := summarize(routes)
			for _, w := range tt.want {
				if g, found := got[w.id]; !found {
					t.Errorf("no operation %s; have %v", w.id, sortedKeys(got))
				} else if g != w {
					t.Errorf("operation %s = %+v, want %+v", w.id, g, w)
				}
			}
			if len(routes) != tt.wantCount {
				t.Errorf("%d routes, want %d: %v", len(routes), tt.wantCount, sortedKeys(got))
			}
		})
	}
}

// TestWriteOperationParams checks the parameters kubectl depends on: every
// PATCH declares fieldValidation (kubectl looks for it to decide whether
// the server validates fields) and force, and patch bodies may be any of
// the four patch types.
func TestWriteOperationParams(t *testing.T) {
	for _, r := range resources(servedFixtures()) {
		routes, err := resourceRoutes(r, scheme.Scheme)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range routes {
			names := map[string]common.ParameterKind{}
			for _, p := range rt.Parameters() {
				names[p.Name()] = p.Kind()
			}
			var want []string
			switch rt.Method() {
			case "PATCH":
				want = []string{"body", "dryRun", "fieldManager", "fieldValidation", "force", "name", "pretty"}
				if !strings.Contains(strings.Join(rt.Consumes(), ","), "application/apply-patch+yaml") ||
					!strings.Contains(strings.Join(rt.Consumes(), ","), "application/strategic-merge-patch+json") {
					t.Errorf("%s consumes %v", rt.OperationName(), rt.Consumes())
				}
			case "PUT":
				want = []string{"body", "dryRun", "fieldManager", "fieldValidation", "name"}
			case "DELETE":
				want = []string{"dryRun", "gracePeriodSeconds", "propagationPolicy", "orphanDependents"}
			}
			if r.Namespaced && rt.Path() != "/"+docKey(r.GroupVersion())+"/"+r.Resource &&
				!strings.Contains(rt.Path(), "/watch/"+r.Resource) {
				want = append(want, "namespace")
			}
			for _, n := range want {
				if _, found := names[n]; !found {
					t.Errorf("%s %s lacks parameter %s", rt.Method(), rt.Path(), n)
				}
			}
			if k, found := names["fieldValidation"]; found && k != common.QueryParameterKind {
				t.Errorf("%s: fieldValidation is not a query parameter", rt.OperationName())
			}
		}
	}
}

func TestSubresourceOfUnknownKindIsLeftOut(t *testing.T) {
	r := fixtureResource(t, "apps", "deployments")
	r.Subresources = []registry.Subresource{{Name: "rollback", Kind: "NoSuchKind", Verbs: []string{"create"}}}
	routes, err := resourceRoutes(r, scheme.Scheme)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes {
		if strings.HasSuffix(rt.Path(), "/rollback") {
			t.Errorf("route %s for a subresource of unknown kind", rt.OperationName())
		}
	}
}

func TestAPIDocumentsKeys(t *testing.T) {
	docs, err := apiDocuments(resources(servedFixtures()), scheme.Scheme)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/autoscaling/v1", "apis/autoscaling/v2",
		"apis/rbac.authorization.k8s.io/v1", "apis/authorization.k8s.io/v1", "version",
	} {
		if _, found := docs[key]; !found {
			t.Errorf("no document %q; have %v", key, sortedKeys(docs))
		}
	}
	if _, found := docs["apis/policy/v1beta1"]; found {
		t.Errorf("document for an unserved group version")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
