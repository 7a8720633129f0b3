package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// ClusterRoles returns the cluster-scoped rbac.authorization.k8s.io/v1
// ClusterRole resource. An aggregationRule, when present, needs at least
// one valid selector; filling the aggregated rules is a controller's job.
func ClusterRoles() *registry.Resource {
	return &registry.Resource{
		Group:        rbacv1.GroupName,
		Version:      "v1",
		Resource:     "clusterroles",
		Kind:         "ClusterRole",
		Singular:     "clusterrole",
		Namespaced:   false,
		ValidateName: ValidateRBACName,
		New:          func() runtime.Object { return &rbacv1.ClusterRole{} },
		NewList:      func() runtime.Object { return &rbacv1.ClusterRoleList{} },
		Strategy:     clusterRoleStrategy{},
	}
}

type clusterRoleStrategy struct {
	registry.DefaultStrategy
}

var _ registry.TableConvertor = clusterRoleStrategy{}

func (clusterRoleStrategy) Validate(obj runtime.Object) field.ErrorList {
	r, ok := obj.(*rbacv1.ClusterRole)
	if !ok {
		return wrongType(obj)
	}
	return validateClusterRole(r, metavalidation.LabelSelectorValidationOptions{})
}

func (clusterRoleStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	r, ok1 := obj.(*rbacv1.ClusterRole)
	prev, ok2 := old.(*rbacv1.ClusterRole)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	// Selectors stored before label values were checked stay acceptable.
	opts := metavalidation.LabelSelectorValidationOptions{}
	if prev.AggregationRule != nil {
		for i := range prev.AggregationRule.ClusterRoleSelectors {
			if metavalidation.LabelSelectorHasInvalidLabelValue(&prev.AggregationRule.ClusterRoleSelectors[i]) {
				opts.AllowInvalidLabelValueInSelector = true
			}
		}
	}
	return validateClusterRole(r, opts)
}

func validateClusterRole(r *rbacv1.ClusterRole, opts metavalidation.LabelSelectorValidationOptions) field.ErrorList {
	errs := validateRules(r.Rules, false)
	if r.AggregationRule == nil {
		return errs
	}
	sp := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(sp, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		sel := &r.AggregationRule.ClusterRoleSelectors[i]
		errs = append(errs, metavalidation.ValidateLabelSelector(sel, opts, sp.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(sp.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

func (clusterRoleStrategy) TableColumns() []metav1.TableColumnDefinition { return createdAtColumns() }

func (clusterRoleStrategy) TableRow(obj runtime.Object) []interface{} {
	r, ok := obj.(*rbacv1.ClusterRole)
	if !ok {
		return nil
	}
	return createdAtRow(&r.ObjectMeta)
}
