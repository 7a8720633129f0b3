package core

import (
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// PodTemplates returns the core/v1 podtemplates resource.
func PodTemplates() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "podtemplates",
		Kind:       "PodTemplate",
		Singular:   "podtemplate",
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.PodTemplate{} },
		NewList:    func() runtime.Object { return &corev1.PodTemplateList{} },
		Strategy:   podTemplateStrategy{},
	}
}

// podTemplateStrategy implements podtemplates' behaviour.
type podTemplateStrategy struct {
	registry.DefaultStrategy
}

// Default applies the pod template defaults.
func (podTemplateStrategy) Default(obj runtime.Object) {
	podspec.DefaultPodTemplateSpec(&obj.(*corev1.PodTemplate).Template)
}

// PrepareForCreate starts the generation at 1: a pod template's "spec" is
// its template.
func (podTemplateStrategy) PrepareForCreate(obj runtime.Object) {
	obj.(*corev1.PodTemplate).Generation = 1
}

// PrepareForUpdate bumps the generation when the template changes.
func (podTemplateStrategy) PrepareForUpdate(obj, old runtime.Object) {
	pt, oldPT := obj.(*corev1.PodTemplate), old.(*corev1.PodTemplate)
	if !apiequality.Semantic.DeepEqual(pt.Template, oldPT.Template) {
		pt.Generation = oldPT.Generation + 1
	}
}

// Validate checks the template (labels, annotations and spec).
func (podTemplateStrategy) Validate(obj runtime.Object) field.ErrorList {
	return podspec.ValidatePodTemplateSpec(&obj.(*corev1.PodTemplate).Template, field.NewPath("template"))
}

// ValidateUpdate checks the new template; pod templates are mutable.
func (podTemplateStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return podspec.ValidatePodTemplateSpec(&obj.(*corev1.PodTemplate).Template, field.NewPath("template"))
}

// TableColumns returns the columns of `kubectl get podtemplates`.
func (podTemplateStrategy) TableColumns() []metav1.TableColumnDefinition {
	return append(append([]metav1.TableColumnDefinition{podNameColumn()}, podTemplateContainerColumns(0)...),
		metav1.TableColumnDefinition{Name: "Pod Labels", Type: "string", Description: "The labels for the pod template."})
}

// TableRow returns NAME, CONTAINERS, IMAGES and POD LABELS.
func (podTemplateStrategy) TableRow(obj runtime.Object) []interface{} {
	pt := obj.(*corev1.PodTemplate)
	names, images := podContainerCells(pt.Template.Spec.Containers)
	return []interface{}{pt.Name, names, images, labels.FormatLabels(pt.Template.Labels)}
}
