package rbac

import (
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// RoleBindings returns the namespaced rbac.authorization.k8s.io/v1
// RoleBinding resource. roleRef (a Role or ClusterRole) cannot change after
// creation; roleRef.apiGroup and user/group subjects' apiGroup default to
// rbac.authorization.k8s.io.
func RoleBindings() *registry.Resource {
	return &registry.Resource{
		Group:        rbacv1.GroupName,
		Version:      "v1",
		Resource:     "rolebindings",
		Kind:         "RoleBinding",
		Singular:     "rolebinding",
		Namespaced:   true,
		ValidateName: ValidateRBACName,
		New:          func() runtime.Object { return &rbacv1.RoleBinding{} },
		NewList:      func() runtime.Object { return &rbacv1.RoleBindingList{} },
		Strategy:     roleBindingStrategy{now: time.Now},
	}
}

type roleBindingStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = roleBindingStrategy{}

func (roleBindingStrategy) Default(obj runtime.Object) {
	if b, ok := obj.(*rbacv1.RoleBinding); ok {
		defaultBinding(&b.RoleRef, b.Subjects)
	}
}

func (roleBindingStrategy) Validate(obj runtime.Object) field.ErrorList {
	b, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return wrongType(obj)
	}
	return validateBinding(b.RoleRef, b.Subjects, []string{"Role", "ClusterRole"}, true)
}

func (s roleBindingStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	b, ok1 := obj.(*rbacv1.RoleBinding)
	prev, ok2 := old.(*rbacv1.RoleBinding)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	return append(s.Validate(b), validateRoleRefUnchanged(b.RoleRef, prev.RoleRef)...)
}

func (roleBindingStrategy) TableColumns() []metav1.TableColumnDefinition {
	return bindingColumns("role binding")
}

func (s roleBindingStrategy) TableRow(obj runtime.Object) []interface{} {
	b, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return nil
	}
	return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects, s.now())
}
