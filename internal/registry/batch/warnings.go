package batch

import (
	"github.com/skiff-io/skiff/internal/registry/podspec"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warnings implements registry.Warner for the pod template.
func (jobStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(field.NewPath("spec", "template"), &obj.(*batchv1.Job).Spec.Template.Spec)
}

// Warnings implements registry.Warner for the job's pod template.
func (cronJobStrategy) Warnings(obj, _ runtime.Object) []string {
	return podspec.Warnings(field.NewPath("spec", "jobTemplate", "spec", "template"), &obj.(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec)
}
