package core

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// ReplicationControllers returns the core/v1 replicationcontrollers
// resource, with status and scale subresources.
func ReplicationControllers() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "replicationcontrollers",
		Kind:         "ReplicationController",
		Singular:     "replicationcontroller",
		ShortNames:   []string{"rc"},
		Categories:   []string{"all"},
		Namespaced:   true,
		New:          func() runtime.Object { return &corev1.ReplicationController{} },
		NewList:      func() runtime.Object { return &corev1.ReplicationControllerList{} },
		Strategy:     rcStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource, registry.ScaleSubresource},
		Scale: &registry.ScaleAccessor{
			Get:         rcScaleGet,
			SetReplicas: rcScaleSet,
		},
	}
}

// rcCopyLabels copies a label map so defaulted selectors and labels do
// not alias the template's.
func rcCopyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func rcScaleGet(obj runtime.Object) (spec, status int32, selector string) {
	rc := obj.(*corev1.ReplicationController)
	if rc.Spec.Replicas != nil {
		spec = *rc.Spec.Replicas
	}
	return spec, rc.Status.Replicas, labels.SelectorFromSet(rc.Spec.Selector).String()
}

func rcScaleSet(obj runtime.Object, replicas int32) {
	obj.(*corev1.ReplicationController).Spec.Replicas = &replicas
}

// rcStrategy implements replicationcontrollers' behaviour.
type rcStrategy struct {
	registry.DefaultStrategy
}

// Default sets replicas to 1, the selector (and, when unset, the
// controller's own labels) to the template labels, and defaults the
// template.
func (rcStrategy) Default(obj runtime.Object) {
	rc := obj.(*corev1.ReplicationController)
	if t := rc.Spec.Template; t != nil && t.Labels != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = rcCopyLabels(t.Labels)
		}
		if len(rc.Labels) == 0 {
			rc.Labels = rcCopyLabels(t.Labels)
		}
	}
	if rc.Spec.Replicas == nil {
		one := int32(1)
		rc.Spec.Replicas = &one
	}
	podspec.DefaultPodTemplateSpec(rc.Spec.Template)
}

// PrepareForCreate clears the status, which only the controller writes.
func (rcStrategy) PrepareForCreate(obj runtime.Object) {
	obj.(*corev1.ReplicationController).Status = corev1.ReplicationControllerStatus{}
}

// PrepareForUpdate keeps the stored status.
func (rcStrategy) PrepareForUpdate(obj, old runtime.Object) {
	obj.(*corev1.ReplicationController).Status = *old.(*corev1.ReplicationController).Status.DeepCopy()
}

// Validate checks a new replication controller's spec.
func (rcStrategy) Validate(obj runtime.Object) field.ErrorList {
	return rcValidateSpec(&obj.(*corev1.ReplicationController).Spec, field.NewPath("spec"))
}

// ValidateUpdate checks the new spec; all of it may change.
func (rcStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return rcValidateSpec(&obj.(*corev1.ReplicationController).Spec, field.NewPath("spec"))
}

// PrepareForStatusUpdate keeps the stored spec.
func (rcStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	obj.(*corev1.ReplicationController).Spec = *old.(*corev1.ReplicationController).Spec.DeepCopy()
}

// ValidateStatusUpdate checks the replica counts of the status.
func (rcStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	return rcValidateStatus(&obj.(*corev1.ReplicationController).Status, field.NewPath("status"))
}

// rcValidateSpec checks an RC spec: a non-empty selector matching the
// template labels, non-negative counts, and a template that restarts its
// containers forever.
func rcValidateSpec(spec *corev1.ReplicationControllerSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	selector := labels.SelectorFromSet(spec.Selector)
	if selector.Empty() {
		errs = append(errs, field.Required(fldPath.Child("selector"), ""))
	}
	var replicas int32
	if spec.Replicas != nil {
		replicas = *spec.Replicas
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(replicas), fldPath.Child("replicas"))...)

	tPath := fldPath.Child("template")
	t := spec.Template
	if t == nil {
		return append(errs, field.Required(tPath, ""))
	}
	if !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(tPath.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, podspec.ValidatePodTemplateSpec(t, tPath)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tPath.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tPath.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}

// rcValidateStatus checks that the counts are non-negative and consistent
// (ready <= replicas, available <= ready).
func rcValidateStatus(s *corev1.ReplicationControllerStatus, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, c := range []struct {
		name  string
		value int64
	}{
		{"replicas", int64(s.Replicas)},
		{"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)},
		{"readyReplicas", int64(s.ReadyReplicas)},
		{"availableReplicas", int64(s.AvailableReplicas)},
		{"observedGeneration", s.ObservedGeneration},
	} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(c.value, fldPath.Child(c.name))...)
	}
	const msg = "cannot be greater than status.replicas"
	if s.FullyLabeledReplicas > s.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("fullyLabeledReplicas"), s.FullyLabeledReplicas, msg))
	}
	if s.ReadyReplicas > s.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("readyReplicas"), s.ReadyReplicas, msg))
	}
	if s.AvailableReplicas > s.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("availableReplicas"), s.AvailableReplicas, msg))
	}
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(fldPath.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}

// SelectableFields adds status.replicas to the fields RCs can be selected
// by.
func (rcStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.replicas": strconv.Itoa(int(obj.(*corev1.ReplicationController).Status.Replicas))}
}

// TableColumns returns the columns of `kubectl get rc`.
func (rcStrategy) TableColumns() []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		podNameColumn(),
		{Name: "Desired", Type: "integer", Description: corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]},
		{Name: "Current", Type: "integer", Description: corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]},
		{Name: "Ready", Type: "integer", Description: corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]},
		podAgeColumn(),
	}
	cols = append(cols, podTemplateContainerColumns(1)...)
	return append(cols, metav1.TableColumnDefinition{Name: "Selector", Type: "string", Priority: 1, Description: corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"]})
}

// TableRow returns NAME, DESIRED, CURRENT, READY, AGE and the wide
// CONTAINERS, IMAGES, SELECTOR.
func (rcStrategy) TableRow(obj runtime.Object) []interface{} {
	rc := obj.(*corev1.ReplicationController)
	var desired int64
	if rc.Spec.Replicas != nil {
		desired = int64(*rc.Spec.Replicas)
	}
	var containers []corev1.Container
	if rc.Spec.Template != nil {
		containers = rc.Spec.Template.Spec.Containers
	}
	names, images := podContainerCells(containers)
	return []interface{}{
		rc.Name, desired, int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas), podHumanAge(rc.CreationTimestamp),
		names, images, labels.FormatLabels(rc.Spec.Selector),
	}
}
