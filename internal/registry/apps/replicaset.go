package apps

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// ReplicaSets describes apps/v1 replica sets, with status and scale
// subresources; they can be selected by status.replicas.
func ReplicaSets() *registry.Resource {
	return &registry.Resource{
		Group:      "apps",
		Version:    "v1",
		Resource:   "replicasets",
		Kind:       "ReplicaSet",
		Singular:   "replicaset",
		ShortNames: []string{"rs"},
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.ReplicaSet{} },
		NewList:    func() runtime.Object { return &appsv1.ReplicaSetList{} },
		Strategy:   replicaSetStrategy{},
		Subresources: []registry.Subresource{
			registry.StatusSubresource,
			registry.ScaleSubresource,
		},
		Scale: &registry.ScaleAccessor{
			Get: func(obj runtime.Object) (int32, int32, string) {
				rs, ok := obj.(*appsv1.ReplicaSet)
				if !ok {
					return 0, 0, ""
				}
				return replicasOrDefault(rs.Spec.Replicas), rs.Status.Replicas, selectorString(rs.Spec.Selector)
			},
			SetReplicas: func(obj runtime.Object, replicas int32) {
				if rs, ok := obj.(*appsv1.ReplicaSet); ok {
					rs.Spec.Replicas = &replicas
				}
			},
		},
	}
}

// replicaSetStrategy implements the ReplicaSet behaviour of Kubernetes'
// replicaset registry.
type replicaSetStrategy struct {
	now Clock
}

var (
	_ registry.Strategy        = replicaSetStrategy{}
	_ registry.StatusStrategy  = replicaSetStrategy{}
	_ registry.TableConvertor  = replicaSetStrategy{}
	_ registry.FieldSelectable = replicaSetStrategy{}
)

// Default sets one replica and defaults the pod template.
func (replicaSetStrategy) Default(obj runtime.Object) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptrTo[int32](1)
	}
	podspec.DefaultPodTemplateSpec(&rs.Spec.Template)
}

// PrepareForCreate clears status and starts the generation at 1.
func (replicaSetStrategy) PrepareForCreate(obj runtime.Object) {
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		rs.Status = appsv1.ReplicaSetStatus{}
		rs.Generation = 1
	}
}

// PrepareForUpdate keeps the old status and moves the generation on spec
// changes.
func (replicaSetStrategy) PrepareForUpdate(obj, old runtime.Object) {
	rs, ok1 := obj.(*appsv1.ReplicaSet)
	o, ok2 := old.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 {
		return
	}
	rs.Status = o.Status
	if specChanged(rs.Spec, o.Spec) {
		rs.Generation = o.Generation + 1
	}
}

// Validate checks a new replica set.
func (replicaSetStrategy) Validate(obj runtime.Object) field.ErrorList {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return wrongType("*v1.ReplicaSet", obj)
	}
	return validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))
}

// ValidateUpdate checks an updated replica set; apps/v1 selectors are
// immutable.
func (replicaSetStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	rs, ok1 := obj.(*appsv1.ReplicaSet)
	o, ok2 := old.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 {
		return wrongType("*v1.ReplicaSet", obj)
	}
	errs := validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))
	return append(errs, ValidateImmutable(rs.Spec.Selector, o.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// PrepareForStatusUpdate keeps the old spec.
func (replicaSetStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	rs, ok1 := obj.(*appsv1.ReplicaSet)
	o, ok2 := old.(*appsv1.ReplicaSet)
	if ok1 && ok2 {
		rs.Spec = o.Spec
	}
}

// ValidateStatusUpdate checks the counters of a replica set status.
func (replicaSetStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return wrongType("*v1.ReplicaSet", obj)
	}
	return validateReplicaSetStatus(&rs.Status, field.NewPath("status"))
}

// SelectableFields adds status.replicas, as Kubernetes does for replica sets.
func (replicaSetStrategy) SelectableFields(obj runtime.Object) fields.Set {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return fields.Set{}
	}
	return fields.Set{"status.replicas": strconv.Itoa(int(rs.Status.Replicas))}
}

// TableColumns are kubectl's replica set columns.
func (replicaSetStrategy) TableColumns() []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		NameColumn(),
		{Name: "Desired", Type: "integer", Description: extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]},
		{Name: "Current", Type: "integer", Description: extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]},
		{Name: "Ready", Type: "integer", Description: extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]},
		AgeColumn(),
	}
	cols = append(cols, ContainerColumns()...)
	return append(cols, metav1.TableColumnDefinition{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["selector"]})
}

// TableRow prints desired, current and ready replicas.
func (s replicaSetStrategy) TableRow(obj runtime.Object) []interface{} {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return nil
	}
	names, images := ContainerCells(rs.Spec.Template.Spec.Containers)
	return []interface{}{
		rs.Name,
		int64(replicasOrDefault(rs.Spec.Replicas)),
		int64(rs.Status.Replicas),
		int64(rs.Status.ReadyReplicas),
		FormatAge(rs.CreationTimestamp, s.now.Now()),
		names, images, metav1.FormatLabelSelector(rs.Spec.Selector),
	}
}

// validateReplicaSetSpec checks replicas, minReadySeconds, the selector and
// the template. The "deployment" in the empty-selector message is what
// Kubernetes says for replica sets too.
func validateReplicaSetSpec(spec *appsv1.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	errs := ValidateNonnegative(int64(replicasOrDefault(spec.Replicas)), fldPath.Child("replicas"))
	errs = append(errs, ValidateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	selPath := fldPath.Child("selector")
	errs = append(errs, validateRequiredSelector(spec.Selector, "deployment", selPath)...)
	return append(errs, validateReplicaTemplate(spec.Selector, selPath, &spec.Template, "ReplicaSet", fldPath.Child("template"))...)
}

// validateReplicaSetStatus checks that counters are non-negative and
// consistent with each other.
func validateReplicaSetStatus(st *appsv1.ReplicaSetStatus, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"replicas", st.Replicas},
		{"fullyLabeledReplicas", st.FullyLabeledReplicas},
		{"readyReplicas", st.ReadyReplicas},
		{"availableReplicas", st.AvailableReplicas},
	} {
		errs = append(errs, ValidateNonnegative(int64(c.v), fldPath.Child(c.name))...)
	}
	errs = append(errs, ValidateNonnegative(st.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	if st.TerminatingReplicas != nil {
		errs = append(errs, ValidateNonnegative(int64(*st.TerminatingReplicas), fldPath.Child("terminatingReplicas"))...)
	}
	if st.FullyLabeledReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("fullyLabeledReplicas"), st.FullyLabeledReplicas, greaterThanReplicas))
	}
	if st.ReadyReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("readyReplicas"), st.ReadyReplicas, greaterThanReplicas))
	}
	if st.AvailableReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("availableReplicas"), st.AvailableReplicas, greaterThanReplicas))
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		errs = append(errs, field.Invalid(fldPath.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}
