package rbac

import (
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// ClusterRoleBindings returns the cluster-scoped rbac.authorization.k8s.io/v1
// ClusterRoleBinding resource. roleRef must be a ClusterRole and cannot
// change; service account subjects must name their namespace.
func ClusterRoleBindings() *registry.Resource {
	return &registry.Resource{
		Group:        rbacv1.GroupName,
		Version:      "v1",
		Resource:     "clusterrolebindings",
		Kind:         "ClusterRoleBinding",
		Singular:     "clusterrolebinding",
		Namespaced:   false,
		ValidateName: ValidateRBACName,
		New:          func() runtime.Object { return &rbacv1.ClusterRoleBinding{} },
		NewList:      func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
		Strategy:     clusterRoleBindingStrategy{now: time.Now},
	}
}

type clusterRoleBindingStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = clusterRoleBindingStrategy{}

func (clusterRoleBindingStrategy) Default(obj runtime.Object) {
	if b, ok := obj.(*rbacv1.ClusterRoleBinding); ok {
		defaultBinding(&b.RoleRef, b.Subjects)
	}
}

func (clusterRoleBindingStrategy) Validate(obj runtime.Object) field.ErrorList {
	b, ok := obj.(*rbacv1.ClusterRoleBinding)
	if !ok {
		return wrongType(obj)
	}
	return validateBinding(b.RoleRef, b.Subjects, []string{"ClusterRole"}, false)
}

func (s clusterRoleBindingStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	b, ok1 := obj.(*rbacv1.ClusterRoleBinding)
	prev, ok2 := old.(*rbacv1.ClusterRoleBinding)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	return append(s.Validate(b), validateRoleRefUnchanged(b.RoleRef, prev.RoleRef)...)
}

func (clusterRoleBindingStrategy) TableColumns() []metav1.TableColumnDefinition {
	return bindingColumns("cluster role binding")
}

func (s clusterRoleBindingStrategy) TableRow(obj runtime.Object) []interface{} {
	b, ok := obj.(*rbacv1.ClusterRoleBinding)
	if !ok {
		return nil
	}
	return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects, s.now())
}
