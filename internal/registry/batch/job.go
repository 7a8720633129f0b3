package batch

import (
	"math"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/apps"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// Jobs describes batch/v1 jobs, with a status subresource; they can be
// selected by status.successful.
func Jobs() *registry.Resource {
	return &registry.Resource{
		Group:        "batch",
		Version:      "v1",
		Resource:     "jobs",
		Kind:         "Job",
		Singular:     "job",
		Categories:   []string{"all"},
		Namespaced:   true,
		New:          func() runtime.Object { return &batchv1.Job{} },
		NewList:      func() runtime.Object { return &batchv1.JobList{} },
		Strategy:     jobStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// jobStrategy implements the Job behaviour of Kubernetes' job registry.
type jobStrategy struct {
	now apps.Clock
}

var (
	_ registry.Strategy        = jobStrategy{}
	_ registry.StatusStrategy  = jobStrategy{}
	_ registry.TableConvertor  = jobStrategy{}
	_ registry.FieldSelectable = jobStrategy{}
)

// Default applies batch/v1 job defaults. The pod template's restartPolicy
// gets no job-specific default: a job must say OnFailure or Never. An
// unlabelled job takes its template's labels in PrepareForCreate and
// PrepareForUpdate instead, once the generated labels are there.
func (jobStrategy) Default(obj runtime.Object) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	defaultJobSpec(&j.Spec)
	if j.Spec.ManualSelector == nil {
		j.Spec.ManualSelector = ptrTo(false)
	}
}

// defaultJobSpec applies the spec defaults a Job has of its own, without
// those a CronJob's job template does not get.
func defaultJobSpec(spec *batchv1.JobSpec) {
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptrTo[int32](1)
		spec.Parallelism = ptrTo[int32](1)
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptrTo[int32](1)
	}
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptrTo[int32](math.MaxInt32)
		} else {
			spec.BackoffLimit = ptrTo[int32](6)
		}
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptrTo(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptrTo(false)
	}
	if spec.PodReplacementPolicy == nil {
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptrTo(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = ptrTo(batchv1.TerminatingOrFailed)
		}
	}
	defaultJobTemplateParts(spec)
}

// defaultJobTemplateParts applies the defaults shared by jobs and cron job
// templates: pod failure policy condition patterns and the pod template.
func defaultJobTemplateParts(spec *batchv1.JobSpec) {
	if spec.PodFailurePolicy != nil {
		for i := range spec.PodFailurePolicy.Rules {
			for j := range spec.PodFailurePolicy.Rules[i].OnPodConditions {
				if p := &spec.PodFailurePolicy.Rules[i].OnPodConditions[j]; p.Status == "" {
					p.Status = corev1.ConditionTrue
				}
			}
		}
	}
	podspec.DefaultPodTemplateSpec(&spec.Template)
}

// PrepareForCreate generates the selector and pod labels from the job's UID
// (unless manualSelector is true), clears status, starts the generation at 1
// and drops alpha fields that are off by default.
func (jobStrategy) PrepareForCreate(obj runtime.Object) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	if !deref(j.Spec.ManualSelector, false) {
		generateSelector(j)
	}
	labelFromTemplate(j)
	j.Status = batchv1.JobStatus{}
	j.Generation = 1
	j.Spec.Scheduling = nil
}

// PrepareForUpdate keeps the old status and moves the generation on spec
// changes.
func (jobStrategy) PrepareForUpdate(obj, old runtime.Object) {
	j, ok1 := obj.(*batchv1.Job)
	o, ok2 := old.(*batchv1.Job)
	if !ok1 || !ok2 {
		return
	}
	j.Status = o.Status
	labelFromTemplate(j)
	if o.Spec.Scheduling == nil {
		j.Spec.Scheduling = nil
	}
	if specChanged(j.Spec, o.Spec) {
		j.Generation = o.Generation + 1
	}
}

// Validate checks a new job, including the generated selector.
func (jobStrategy) Validate(obj runtime.Object) field.ErrorList {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return wrongType("*v1.Job", obj)
	}
	return validateJob(j, true)
}

// ValidateUpdate checks an updated job: the selector, completion mode,
// policies and (mostly) the template are immutable.
func (jobStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	j, ok1 := obj.(*batchv1.Job)
	o, ok2 := old.(*batchv1.Job)
	if !ok1 || !ok2 {
		return wrongType("*v1.Job", obj)
	}
	// Jobs created before the batch.kubernetes.io labels existed keep
	// validating without them.
	_, hadName := o.Spec.Template.Labels[batchv1.JobNameLabel]
	_, hadUID := o.Spec.Template.Labels[batchv1.ControllerUidLabel]
	errs := validateJob(j, hadName && hadUID)
	return append(errs, validateJobSpecUpdate(&j.Spec, &o.Spec, o, field.NewPath("spec"))...)
}

// PrepareForStatusUpdate keeps the old spec.
func (jobStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	j, ok1 := obj.(*batchv1.Job)
	o, ok2 := old.(*batchv1.Job)
	if ok1 && ok2 {
		j.Spec = o.Spec
	}
}

// ValidateStatusUpdate checks a job status and its transition from the old
// one.
func (jobStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	j, ok1 := obj.(*batchv1.Job)
	o, ok2 := old.(*batchv1.Job)
	if !ok1 || !ok2 {
		return wrongType("*v1.Job", obj)
	}
	return validateJobStatusUpdate(j, o)
}

// SelectableFields adds status.successful, as Kubernetes does for jobs.
func (jobStrategy) SelectableFields(obj runtime.Object) fields.Set {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return fields.Set{}
	}
	return fields.Set{"status.successful": strconv.Itoa(int(j.Status.Succeeded))}
}

// generateSelector labels the pod template with the job's name and UID,
// under both the legacy and the batch.kubernetes.io keys, and selects the
// UID label. Labels the client already set are left alone; validation then
// reports any that conflict.
func generateSelector(j *batchv1.Job) {
	lbls := copyLabels(j.Spec.Template.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	for _, k := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		if _, found := lbls[k]; !found {
			lbls[k] = j.Name
		}
	}
	for _, k := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, found := lbls[k]; !found {
			lbls[k] = string(j.UID)
		}
	}
	j.Spec.Template.Labels = lbls
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, found := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !found {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(j.UID)
	}
}

// labelFromTemplate gives a job without labels those of its pod template.
// Kubernetes' defaulting does this by sharing the template's label map, so
// the job also ends up with the labels generated into the template.
func labelFromTemplate(j *batchv1.Job) {
	if len(j.Labels) == 0 && j.Spec.Template.Labels != nil {
		j.Labels = copyLabels(j.Spec.Template.Labels)
	}
}

// copyLabels returns a copy of m, nil for nil.
func copyLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
