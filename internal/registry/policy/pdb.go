// Package policy describes the policy/v1 PodDisruptionBudget resource: its
// validation, status handling and table columns, following Kubernetes.
package policy

import (
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/apps"
)

// PodDisruptionBudgets describes policy/v1 pod disruption budgets, with a
// status subresource.
func PodDisruptionBudgets() *registry.Resource {
	return &registry.Resource{
		Group:        "policy",
		Version:      "v1",
		Resource:     "poddisruptionbudgets",
		Kind:         "PodDisruptionBudget",
		Singular:     "poddisruptionbudget",
		ShortNames:   []string{"pdb"},
		Namespaced:   true,
		New:          func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
		NewList:      func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
		Strategy:     pdbStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// pdbStrategy implements the PodDisruptionBudget behaviour of Kubernetes'
// poddisruptionbudget registry. policy/v1 has no defaults, and its spec may
// change after creation.
type pdbStrategy struct {
	registry.DefaultStrategy
	now apps.Clock
}

var (
	_ registry.Strategy       = pdbStrategy{}
	_ registry.StatusStrategy = pdbStrategy{}
	_ registry.TableConvertor = pdbStrategy{}
)

func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("expected *v1.PodDisruptionBudget, got %T", obj))}
}

// PrepareForCreate clears status and starts the generation at 1.
func (pdbStrategy) PrepareForCreate(obj runtime.Object) {
	if p, ok := obj.(*policyv1.PodDisruptionBudget); ok {
		p.Status = policyv1.PodDisruptionBudgetStatus{}
		p.Generation = 1
	}
}

// PrepareForUpdate keeps the old status and moves the generation on spec
// changes.
func (pdbStrategy) PrepareForUpdate(obj, old runtime.Object) {
	p, ok1 := obj.(*policyv1.PodDisruptionBudget)
	o, ok2 := old.(*policyv1.PodDisruptionBudget)
	if !ok1 || !ok2 {
		return
	}
	p.Status = o.Status
	if !apiequality.Semantic.DeepEqual(p.Spec, o.Spec) {
		p.Generation = o.Generation + 1
	}
}

// Validate checks a new budget.
func (pdbStrategy) Validate(obj runtime.Object) field.ErrorList {
	p, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return wrongType(obj)
	}
	return validatePDBSpec(&p.Spec, field.NewPath("spec"))
}

// ValidateUpdate checks an updated budget; every spec field may change.
func (s pdbStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return s.Validate(obj)
}

// PrepareForStatusUpdate keeps the old spec.
func (pdbStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	p, ok1 := obj.(*policyv1.PodDisruptionBudget)
	o, ok2 := old.(*policyv1.PodDisruptionBudget)
	if ok1 && ok2 {
		p.Spec = o.Spec
	}
}

// ValidateStatusUpdate checks the conditions and the counters.
func (pdbStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	p, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return wrongType(obj)
	}
	sp := field.NewPath("status")
	st := &p.Status
	errs := metav1validation.ValidateConditions(st.Conditions, sp.Child("conditions"))
	errs = append(errs, apps.ValidateNonnegative(int64(st.DisruptionsAllowed), sp.Child("disruptionsAllowed"))...)
	errs = append(errs, apps.ValidateNonnegative(int64(st.CurrentHealthy), sp.Child("currentHealthy"))...)
	errs = append(errs, apps.ValidateNonnegative(int64(st.DesiredHealthy), sp.Child("desiredHealthy"))...)
	return append(errs, apps.ValidateNonnegative(int64(st.ExpectedPods), sp.Child("expectedPods"))...)
}

// validatePDBSpec checks that at most one of minAvailable and
// maxUnavailable is set, each a count or a percentage up to 100%, and the
// selector and eviction policy.
func validatePDBSpec(spec *policyv1.PodDisruptionBudgetSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(fldPath, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if v := spec.MinAvailable; v != nil {
		errs = append(errs, apps.ValidatePositiveIntOrPercent(*v, fldPath.Child("minAvailable"))...)
		errs = append(errs, apps.IsNotMoreThan100Percent(*v, fldPath.Child("minAvailable"))...)
	}
	if v := spec.MaxUnavailable; v != nil {
		errs = append(errs, apps.ValidatePositiveIntOrPercent(*v, fldPath.Child("maxUnavailable"))...)
		errs = append(errs, apps.IsNotMoreThan100Percent(*v, fldPath.Child("maxUnavailable"))...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	if p := spec.UnhealthyPodEvictionPolicy; p != nil && *p != policyv1.IfHealthyBudget && *p != policyv1.AlwaysAllow {
		errs = append(errs, field.NotSupported(fldPath.Child("unhealthyPodEvictionPolicy"), *p,
			[]policyv1.UnhealthyPodEvictionPolicyType{policyv1.AlwaysAllow, policyv1.IfHealthyBudget}))
	}
	return errs
}

// TableColumns are kubectl's pod disruption budget columns.
func (pdbStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		apps.NameColumn(),
		{Name: "Min Available", Type: "string", Description: "The minimum number of pods that must be available."},
		{Name: "Max Unavailable", Type: "string", Description: "The maximum number of pods that may be unavailable."},
		{Name: "Allowed Disruptions", Type: "integer", Description: "Calculated number of pods that may be disrupted at this time."},
		apps.AgeColumn(),
	}
}

// TableRow prints the budget, "N/A" for the bound that is not set.
func (s pdbStrategy) TableRow(obj runtime.Object) []interface{} {
	p, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return nil
	}
	minAvailable, maxUnavailable := "N/A", "N/A"
	if p.Spec.MinAvailable != nil {
		minAvailable = p.Spec.MinAvailable.String()
	}
	if p.Spec.MaxUnavailable != nil {
		maxUnavailable = p.Spec.MaxUnavailable.String()
	}
	return []interface{}{p.Name, minAvailable, maxUnavailable, int64(p.Status.DisruptionsAllowed), apps.FormatAge(p.CreationTimestamp, s.now.Now())}
}
