package apps

import (
	"github.com/skiff-io/skiff/internal/registry/podspec"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// templatePath is where a workload keeps its pod template.
var templatePath = field.NewPath("spec", "template")

// Warnings implements registry.Warner for the pod template.
func (deploymentStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(templatePath, &obj.(*appsv1.Deployment).Spec.Template.Spec)
}

// Warnings implements registry.Warner for the pod template.
func (replicaSetStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(templatePath, &obj.(*appsv1.ReplicaSet).Spec.Template.Spec)
}

// Warnings implements registry.Warner for the pod template.
func (daemonSetStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(templatePath, &obj.(*appsv1.DaemonSet).Spec.Template.Spec)
}

// Warnings implements registry.Warner for the pod template.
func (statefulSetStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(templatePath, &obj.(*appsv1.StatefulSet).Spec.Template.Spec)
}
