package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// Roles returns the namespaced rbac.authorization.k8s.io/v1 Role resource.
// Rules need verbs, and apiGroups plus resources; non-resource URLs are
// reserved to cluster roles.
func Roles() *registry.Resource {
	return &registry.Resource{
		Group:        rbacv1.GroupName,
		Version:      "v1",
		Resource:     "roles",
		Kind:         "Role",
		Singular:     "role",
		Namespaced:   true,
		ValidateName: ValidateRBACName,
		New:          func() runtime.Object { return &rbacv1.Role{} },
		NewList:      func() runtime.Object { return &rbacv1.RoleList{} },
		Strategy:     roleStrategy{},
	}
}

type roleStrategy struct {
	registry.DefaultStrategy
}

var _ registry.TableConvertor = roleStrategy{}

func (roleStrategy) Validate(obj runtime.Object) field.ErrorList {
	r, ok := obj.(*rbacv1.Role)
	if !ok {
		return wrongType(obj)
	}
	return validateRules(r.Rules, true)
}

func (s roleStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return s.Validate(obj)
}

func (roleStrategy) TableColumns() []metav1.TableColumnDefinition { return createdAtColumns() }

func (roleStrategy) TableRow(obj runtime.Object) []interface{} {
	r, ok := obj.(*rbacv1.Role)
	if !ok {
		return nil
	}
	return createdAtRow(&r.ObjectMeta)
}
