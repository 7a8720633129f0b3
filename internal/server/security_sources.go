package server

import (
	"context"

	"github.com/skiff-io/skiff/internal/storage"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// stores are the storage resources the authenticators, authorizers and
// admission plug-ins read, all served from the API server's cache. They
// are registered here, before the API server registers the same resources.
type stores struct {
	secrets, serviceAccounts, pods, nodes, pvcs, pvs, namespaces, services *storage.Resource
	limitRanges, quotas, priorityClasses, storageClasses                   *storage.Resource
	roles, clusterRoles, roleBindings, clusterRoleBindings                 *storage.Resource
}

func registerStores(store *storage.Store) *stores {
	reg := func(group, version, resource, kind string, namespaced bool) *storage.Resource {
		gvk := schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
		return store.Register(storage.ResourceConfig{GroupResource: schema.GroupResource{Group: group, Resource: resource}, Kind: gvk,
			Namespaced: namespaced, New: func() runtime.Object { obj, _ := scheme.Scheme.New(gvk); return obj }})
	}
	const rbac = "rbac.authorization.k8s.io"
	return &stores{
		secrets:             reg("", "v1", "secrets", "Secret", true),
		serviceAccounts:     reg("", "v1", "serviceaccounts", "ServiceAccount", true),
		pods:                reg("", "v1", "pods", "Pod", true),
		nodes:               reg("", "v1", "nodes", "Node", false),
		pvcs:                reg("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
		pvs:                 reg("", "v1", "persistentvolumes", "PersistentVolume", false),
		namespaces:          reg("", "v1", "namespaces", "Namespace", false),
		services:            reg("", "v1", "services", "Service", true),
		limitRanges:         reg("", "v1", "limitranges", "LimitRange", true),
		quotas:              reg("", "v1", "resourcequotas", "ResourceQuota", true),
		priorityClasses:     reg("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false),
		storageClasses:      reg("storage.k8s.io", "v1", "storageclasses", "StorageClass", false),
		roles:               reg(rbac, "v1", "roles", "Role", true),
		clusterRoles:        reg(rbac, "v1", "clusterroles", "ClusterRole", false),
		roleBindings:        reg(rbac, "v1", "rolebindings", "RoleBinding", true),
		clusterRoleBindings: reg(rbac, "v1", "clusterrolebindings", "ClusterRoleBinding", false),
	}
}

// get reads one object from the cache, and from etcd when the cache has
// not seen it yet (an object created a moment ago).
func get[T runtime.Object](ctx context.Context, r *storage.Resource, namespace, name string) (T, error) {
	var zero T
	obj, err := r.GetCached(namespace, name)
	if apierrors.IsNotFound(err) {
		obj, err = r.Get(ctx, namespace, name)
	}
	if err != nil {
		return zero, err
	}
	out, ok := obj.(T)
	if !ok {
		return zero, apierrors.NewInternalError(errUnexpectedType)
	}
	return out, nil
}

// cached reads one object from the cache only (authorization decisions
// must not wait on etcd).
func cached[T runtime.Object](r *storage.Resource, namespace, name string) (T, error) {
	var zero T
	obj, err := r.GetCached(namespace, name)
	if err != nil {
		return zero, err
	}
	out, ok := obj.(T)
	if !ok {
		return zero, apierrors.NewInternalError(errUnexpectedType)
	}
	return out, nil
}

func list[T runtime.Object](r *storage.Resource, namespace string) ([]T, error) {
	res, err := r.List(context.Background(), storage.ListOptions{Namespace: namespace, ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(res.Items))
	for _, it := range res.Items {
		if t, ok := it.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// rbacSource adapts the cache to rbac.Source.
type rbacSource struct{ s *stores }

func (r rbacSource) GetRole(ns, name string) (*rbacv1.Role, error) {
	return cached[*rbacv1.Role](r.s.roles, ns, name)
}
func (r rbacSource) GetClusterRole(name string) (*rbacv1.ClusterRole, error) {
	return cached[*rbacv1.ClusterRole](r.s.clusterRoles, "", name)
}
func (r rbacSource) ListRoleBindings(ns string) ([]*rbacv1.RoleBinding, error) {
	return list[*rbacv1.RoleBinding](r.s.roleBindings, ns)
}
func (r rbacSource) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return list[*rbacv1.ClusterRoleBinding](r.s.clusterRoleBindings, "")
}

// nodeSource adapts the cache to node.Source.
type nodeSource struct{ s *stores }

func (n nodeSource) PodsOnNode(nodeName string) []*corev1.Pod {
	// Filtered while listing, so a node's request does not copy out every
	// pod in the cluster.
	res, err := n.s.pods.List(context.Background(), storage.ListOptions{ResourceVersion: "0", Predicate: storage.Predicate{
		Field:  fields.OneTermEqualSelector("spec.nodeName", nodeName),
		Fields: podNodeName,
	}})
	if err != nil {
		return nil
	}
	out := make([]*corev1.Pod, 0, len(res.Items))
	for _, it := range res.Items {
		if pod, ok := it.(*corev1.Pod); ok {
			out = append(out, pod)
		}
	}
	return out
}
func podNodeName(obj runtime.Object) fields.Set {
	if pod, ok := obj.(*corev1.Pod); ok {
		return fields.Set{"spec.nodeName": pod.Spec.NodeName}
	}
	return nil
}

func (n nodeSource) GetPod(ns, name string) (*corev1.Pod, error) {
	return cached[*corev1.Pod](n.s.pods, ns, name)
}
func (n nodeSource) GetPVC(ns, name string) (*corev1.PersistentVolumeClaim, error) {
	return cached[*corev1.PersistentVolumeClaim](n.s.pvcs, ns, name)
}
func (n nodeSource) GetPV(name string) (*corev1.PersistentVolume, error) {
	return cached[*corev1.PersistentVolume](n.s.pvs, "", name)
}
