package openapi

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/skiff-io/skiff/internal/registry"
)

// fixture describes a resource for tests; the registry packages that
// declare the real resources are not dependencies of this package.
type fixture struct {
	group, version, resource, kind string
	namespaced                     bool
	noList                         bool
	subresources                   []registry.Subresource
}

// servedFixtures mirrors the resources the API server serves.
func servedFixtures() []fixture {
	status := registry.StatusSubresource
	scale := registry.ScaleSubresource
	binding := registry.Subresource{Name: "binding", Kind: "Binding", Verbs: []string{"create"}}
	evict := registry.Subresource{Name: "eviction", Kind: "Eviction", Group: "policy", Version: "v1", Verbs: []string{"create"}}
	podLog := registry.Subresource{Name: "log", Verbs: []string{"get"}}
	podExec := registry.Subresource{Name: "exec", Verbs: []string{"get", "create"}}
	token := registry.Subresource{Name: "token", Kind: "TokenRequest", Group: "authentication.k8s.io", Version: "v1", Verbs: []string{"create"}}
	ephem := registry.Subresource{Name: "ephemeralcontainers", Verbs: []string{"get", "patch", "update"}}
	final := registry.Subresource{Name: "finalize", Verbs: []string{"update"}}
	return []fixture{
		{"", "v1", "pods", "Pod", true, false, []registry.Subresource{status, binding, evict, podLog, podExec, ephem}},
		{"", "v1", "services", "Service", true, false, []registry.Subresource{status}},
		{"", "v1", "namespaces", "Namespace", false, false, []registry.Subresource{status, final}},
		{"", "v1", "nodes", "Node", false, false, []registry.Subresource{status}},
		{"", "v1", "configmaps", "ConfigMap", true, false, nil},
		{"", "v1", "secrets", "Secret", true, false, nil},
		{"", "v1", "serviceaccounts", "ServiceAccount", true, false, []registry.Subresource{token}},
		{"", "v1", "events", "Event", true, false, nil},
		{"", "v1", "endpoints", "Endpoints", true, false, nil},
		{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, false, []registry.Subresource{status}},
		{"", "v1", "persistentvolumes", "PersistentVolume", false, false, []registry.Subresource{status}},
		{"", "v1", "replicationcontrollers", "ReplicationController", true, false, []registry.Subresource{status, scale}},
		{"", "v1", "resourcequotas", "ResourceQuota", true, false, []registry.Subresource{status}},
		{"", "v1", "limitranges", "LimitRange", true, false, nil},
		{"", "v1", "podtemplates", "PodTemplate", true, false, nil},
		{"apps", "v1", "deployments", "Deployment", true, false, []registry.Subresource{status, scale}},
		{"apps", "v1", "replicasets", "ReplicaSet", true, false, []registry.Subresource{status, scale}},
		{"apps", "v1", "statefulsets", "StatefulSet", true, false, []registry.Subresource{status, scale}},
		{"apps", "v1", "daemonsets", "DaemonSet", true, false, []registry.Subresource{status}},
		{"apps", "v1", "controllerrevisions", "ControllerRevision", true, false, nil},
		{"batch", "v1", "jobs", "Job", true, false, []registry.Subresource{status}},
		{"batch", "v1", "cronjobs", "CronJob", true, false, []registry.Subresource{status}},
		{"autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, false, []registry.Subresource{status}},
		{"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, false, []registry.Subresource{status}},
		{"networking.k8s.io", "v1", "ingresses", "Ingress", true, false, []registry.Subresource{status}},
		{"networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, false, nil},
		{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, false, nil},
		{"rbac.authorization.k8s.io", "v1", "roles", "Role", true, false, nil},
		{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, false, nil},
		{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, false, nil},
		{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, false, nil},
		{"storage.k8s.io", "v1", "storageclasses", "StorageClass", false, false, nil},
		{"coordination.k8s.io", "v1", "leases", "Lease", true, false, nil},
		{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, false, nil},
		{"events.k8s.io", "v1", "events", "Event", true, false, nil},
		{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, false, []registry.Subresource{status}},
		{"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, false, nil},
		{"certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", false, false, []registry.Subresource{status}},
		{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false, true, nil},
		{"authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false, true, nil},
		{"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, true, nil},
		{"authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", true, true, nil},
	}
}

// resources turns fixtures into registry resources backed by client-go's
// scheme.
func resources(fs []fixture) []*registry.Resource {
	out := make([]*registry.Resource, 0, len(fs))
	for _, f := range fs {
		gvk := schema.GroupVersionKind{Group: f.group, Version: f.version, Kind: f.kind}
		r := &registry.Resource{
			Group: f.group, Version: f.version, Resource: f.resource, Kind: f.kind,
			Namespaced: f.namespaced, Subresources: f.subresources,
			New: newFunc(gvk),
		}
		if !f.noList {
			r.NewList = newFunc(gvk.GroupVersion().WithKind(f.kind + "List"))
		}
		out = append(out, r)
	}
	return out
}

func newFunc(gvk schema.GroupVersionKind) func() runtime.Object {
	return func() runtime.Object {
		obj, err := scheme.Scheme.New(gvk)
		if err != nil {
			panic(err) // test fixture error: the fixture names an unknown kind
		}
		return obj
	}
}
