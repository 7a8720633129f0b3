package batch

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry/apps"
)

// validateJobSpecUpdate checks what an update may change in a job spec.
func validateJobSpecUpdate(spec, oldSpec *batchv1.JobSpec, oldJob *batchv1.Job, fldPath *field.Path) field.ErrorList {
	errs := validateCompletionsUpdate(spec, oldSpec, fldPath.Child("completions"))
	errs = append(errs, apps.ValidateImmutable(spec.Selector, oldSpec.Selector, fldPath.Child("selector"))...)
	errs = append(errs, validateJobTemplateUpdate(spec, oldSpec, oldJob, fldPath.Child("template"))...)
	errs = append(errs, apps.ValidateImmutable(spec.CompletionMode, oldSpec.CompletionMode, fldPath.Child("completionMode"))...)
	errs = append(errs, apps.ValidateImmutable(spec.PodFailurePolicy, oldSpec.PodFailurePolicy, fldPath.Child("podFailurePolicy"))...)
	errs = append(errs, apps.ValidateImmutable(spec.BackoffLimitPerIndex, oldSpec.BackoffLimitPerIndex, fldPath.Child("backoffLimitPerIndex"))...)
	errs = append(errs, apps.ValidateImmutable(spec.ManagedBy, oldSpec.ManagedBy, fldPath.Child("managedBy"))...)
	return append(errs, apps.ValidateImmutable(spec.SuccessPolicy, oldSpec.SuccessPolicy, fldPath.Child("successPolicy"))...)
}

// validateCompletionsUpdate keeps completions fixed, except that an indexed
// job may change them together with parallelism (elastic indexed jobs).
func validateCompletionsUpdate(spec, oldSpec *batchv1.JobSpec, fldPath *field.Path) field.ErrorList {
	if deref(spec.CompletionMode, "") != batchv1.IndexedCompletion {
		return apps.ValidateImmutable(spec.Completions, oldSpec.Completions, fldPath)
	}
	if !specChanged(spec.Completions, oldSpec.Completions) || spec.Completions == nil {
		return nil
	}
	if *spec.Completions != deref(spec.Parallelism, 0) {
		return field.ErrorList{field.Invalid(fldPath, *spec.Completions, fmt.Sprintf("can only be modified in tandem with %s", fldPath.Root().Child("parallelism")))}
	}
	return nil
}

// validateJobTemplateUpdate keeps the pod template fixed. A job that is
// suspended and has never started may still change where its pods run:
// node affinity, node selector, tolerations, scheduling gates, and the
// template's labels and annotations.
func validateJobTemplateUpdate(spec, oldSpec *batchv1.JobSpec, oldJob *batchv1.Job, fldPath *field.Path) field.ErrorList {
	tmpl := &spec.Template
	old := &oldSpec.Template
	if deref(oldJob.Spec.Suspend, false) && oldJob.Status.StartTime == nil {
		old = oldSpec.Template.DeepCopy()
		switch {
		case tmpl.Spec.Affinity == nil && old.Spec.Affinity != nil:
			old.Spec.Affinity.NodeAffinity = nil
			if *old.Spec.Affinity == (corev1.Affinity{}) {
				old.Spec.Affinity = nil
			}
		case tmpl.Spec.Affinity != nil && old.Spec.Affinity == nil:
			old.Spec.Affinity = &corev1.Affinity{NodeAffinity: tmpl.Spec.Affinity.NodeAffinity}
		case tmpl.Spec.Affinity != nil && old.Spec.Affinity != nil:
			old.Spec.Affinity.NodeAffinity = tmpl.Spec.Affinity.NodeAffinity
		}
		old.Spec.NodeSelector = tmpl.Spec.NodeSelector
		old.Spec.Tolerations = tmpl.Spec.Tolerations
		old.Spec.SchedulingGates = tmpl.Spec.SchedulingGates
		old.Annotations = tmpl.Annotations
		old.Labels = tmpl.Labels
	}
	return apps.ValidateImmutable(tmpl, old, fldPath)
}
