package batch

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/apps"
)

// maxCronJobNameLength leaves room for the 11-character suffix the cron job
// controller appends to make job names, which are DNS labels.
const maxCronJobNameLength = 52

// CronJobs describes batch/v1 cron jobs, with a status subresource.
func CronJobs() *registry.Resource {
	return &registry.Resource{
		Group:        "batch",
		Version:      "v1",
		Resource:     "cronjobs",
		Kind:         "CronJob",
		Singular:     "cronjob",
		ShortNames:   []string{"cj"},
		Categories:   []string{"all"},
		Namespaced:   true,
		New:          func() runtime.Object { return &batchv1.CronJob{} },
		NewList:      func() runtime.Object { return &batchv1.CronJobList{} },
		Strategy:     cronJobStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// cronJobStrategy implements the CronJob behaviour of Kubernetes' cronjob
// registry.
type cronJobStrategy struct {
	now apps.Clock
}

var (
	_ registry.Strategy       = cronJobStrategy{}
	_ registry.StatusStrategy = cronJobStrategy{}
	_ registry.TableConvertor = cronJobStrategy{}
)

// Default sets concurrencyPolicy Allow, suspend false and history limits of
// 3 successful and 1 failed job. The job template gets only pod defaults:
// Kubernetes applies job defaults when the controller creates the job.
func (cronJobStrategy) Default(obj runtime.Object) {
	cj, ok := obj.(*batchv1.CronJob)
	if !ok {
		return
	}
	if cj.Spec.ConcurrencyPolicy == "" {
		cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if cj.Spec.Suspend == nil {
		cj.Spec.Suspend = ptrTo(false)
	}
	if cj.Spec.SuccessfulJobsHistoryLimit == nil {
		cj.Spec.SuccessfulJobsHistoryLimit = ptrTo[int32](3)
	}
	if cj.Spec.FailedJobsHistoryLimit == nil {
		cj.Spec.FailedJobsHistoryLimit = ptrTo[int32](1)
	}
	defaultJobTemplateParts(&cj.Spec.JobTemplate.Spec)
}

// PrepareForCreate clears status, starts the generation at 1 and drops
// alpha fields that are off by default.
func (cronJobStrategy) PrepareForCreate(obj runtime.Object) {
	if cj, ok := obj.(*batchv1.CronJob); ok {
		cj.Status = batchv1.CronJobStatus{}
		cj.Generation = 1
		cj.Spec.JobTemplate.Spec.Scheduling = nil
	}
}

// PrepareForUpdate keeps the old status and moves the generation on spec
// changes.
func (cronJobStrategy) PrepareForUpdate(obj, old runtime.Object) {
	cj, ok1 := obj.(*batchv1.CronJob)
	o, ok2 := old.(*batchv1.CronJob)
	if !ok1 || !ok2 {
		return
	}
	cj.Status = o.Status
	if o.Spec.JobTemplate.Spec.Scheduling == nil {
		cj.Spec.JobTemplate.Spec.Scheduling = nil
	}
	if specChanged(cj.Spec, o.Spec) {
		cj.Generation = o.Generation + 1
	}
}

// Validate checks a new cron job, including the 52-character name limit
// that only applies at creation.
func (cronJobStrategy) Validate(obj runtime.Object) field.ErrorList {
	cj, ok := obj.(*batchv1.CronJob)
	if !ok {
		return wrongType("*v1.CronJob", obj)
	}
	errs := validateCronJobSpec(&cj.Spec, nil, field.NewPath("spec"))
	if len(cj.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
	}
	return errs
}

// ValidateUpdate checks an updated cron job. A schedule that already used a
// TZ prefix may keep it, and an unchanged time zone is not re-checked.
func (cronJobStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	cj, ok1 := obj.(*batchv1.CronJob)
	o, ok2 := old.(*batchv1.CronJob)
	if !ok1 || !ok2 {
		return wrongType("*v1.CronJob", obj)
	}
	return validateCronJobSpec(&cj.Spec, &o.Spec, field.NewPath("spec"))
}

// PrepareForStatusUpdate keeps the old spec.
func (cronJobStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	cj, ok1 := obj.(*batchv1.CronJob)
	o, ok2 := old.(*batchv1.CronJob)
	if ok1 && ok2 {
		cj.Spec = o.Spec
	}
}

// ValidateStatusUpdate accepts any status, as Kubernetes does for cron jobs.
func (cronJobStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	if _, ok := obj.(*batchv1.CronJob); !ok {
		return wrongType("*v1.CronJob", obj)
	}
	return nil
}

// TableColumns are kubectl's cron job columns.
func (cronJobStrategy) TableColumns() []metav1.TableColumnDefinition {
	spec, status := batchv1beta1.CronJobSpec{}.SwaggerDoc(), batchv1beta1.CronJobStatus{}.SwaggerDoc()
	cols := []metav1.TableColumnDefinition{
		apps.NameColumn(),
		{Name: "Schedule", Type: "string", Description: spec["schedule"]},
		{Name: "Timezone", Type: "string", Description: spec["timeZone"]},
		{Name: "Suspend", Type: "boolean", Description: spec["suspend"]},
		{Name: "Active", Type: "integer", Description: status["active"]},
		{Name: "Last Schedule", Type: "string", Description: status["lastScheduleTime"]},
		apps.AgeColumn(),
	}
	cols = append(cols, apps.ContainerColumns()...)
	return append(cols, metav1.TableColumnDefinition{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]})
}

// TableRow prints the schedule, whether it is suspended, the active jobs and
// when it last ran.
func (s cronJobStrategy) TableRow(obj runtime.Object) []interface{} {
	cj, ok := obj.(*batchv1.CronJob)
	if !ok {
		return nil
	}
	now := s.now.Now()
	last := "<none>"
	if cj.Status.LastScheduleTime != nil {
		last = apps.FormatAge(*cj.Status.LastScheduleTime, now)
	}
	suspend := "<unset>"
	if cj.Spec.Suspend != nil {
		suspend = "False"
		if *cj.Spec.Suspend {
			suspend = "True"
		}
	}
	tmpl := &cj.Spec.JobTemplate.Spec
	names, images := apps.ContainerCells(tmpl.Template.Spec.Containers)
	return []interface{}{
		cj.Name, cj.Spec.Schedule, deref(cj.Spec.TimeZone, "<none>"), suspend,
		int64(len(cj.Status.Active)), last, apps.FormatAge(cj.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(tmpl.Selector),
	}
}
