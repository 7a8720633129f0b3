package coordination

import (
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// knownLeaseStrategies are the unqualified strategy names Kubernetes
// defines; anything else must be a domain-qualified name.
var knownLeaseStrategies = []string{string(coordinationv1.OldestEmulationVersion)}

// Leases returns the namespaced coordination.k8s.io/v1 Lease resource.
// Durations must be positive, transition counts non-negative, and a
// preferred holder needs a strategy.
func Leases() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "leases",
		Kind:       "Lease",
		Singular:   "lease",
		Namespaced: true,
		New:        func() runtime.Object { return &coordinationv1.Lease{} },
		NewList:    func() runtime.Object { return &coordinationv1.LeaseList{} },
		Strategy:   leaseStrategy{now: time.Now},
	}
}

type leaseStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = leaseStrategy{}

func (leaseStrategy) Validate(obj runtime.Object) field.ErrorList {
	l, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return wrongType(obj)
	}
	return validateLeaseSpec(&l.Spec, field.NewPath("spec"))
}

func (s leaseStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return s.Validate(obj)
}

func validateLeaseSpec(spec *coordinationv1.LeaseSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(p.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if n := spec.LeaseTransitions; n != nil && *n < 0 {
		errs = append(errs, field.Invalid(p.Child("leaseTransitions"), *n, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		// Kubernetes nests the strategy name once more in the reported
		// path ("spec.strategy.strategy"); kept for identical errors.
		errs = append(errs, validateLeaseStrategy(string(*spec.Strategy), p.Child("strategy", "strategy"))...)
	}
	if spec.PreferredHolder != nil && *spec.PreferredHolder != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		errs = append(errs, field.Forbidden(p.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

func validateLeaseStrategy(strategy string, p *field.Path) field.ErrorList {
	if !strings.Contains(strategy, "/") {
		for _, known := range knownLeaseStrategies {
			if strategy == known {
				return nil
			}
		}
		return field.ErrorList{field.NotSupported(p, strategy, knownLeaseStrategies)}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(strategy) {
		errs = append(errs, field.Invalid(p, strategy, msg))
	}
	return errs
}

func (leaseStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Holder", Type: "string", Description: coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]},
		ageColumn(),
	}
}

func (s leaseStrategy) TableRow(obj runtime.Object) []interface{} {
	l, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return nil
	}
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []interface{}{l.Name, holder, age(l.CreationTimestamp, s.now())}
}
