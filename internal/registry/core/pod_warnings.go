package core

import (
	"github.com/skiff-io/skiff/internal/registry/podspec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warnings implements registry.Warner for pods.
func (podStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(nil, &obj.(*corev1.Pod).Spec)
}

// Warnings implements registry.Warner for pod templates.
func (podTemplateStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(field.NewPath("template"), &obj.(*corev1.PodTemplate).Template.Spec)
}

// Warnings implements registry.Warner for replication controllers.
func (rcStrategy) Warnings(obj, _ runtime.Object) []string {
	rc := obj.(*corev1.ReplicationController)
	if rc.Spec.Template == nil {
		return nil
	}
	return podspec.Warnings(field.NewPath("spec", "template"), &rc.Spec.Template.Spec)
}
