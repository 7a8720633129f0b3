package batch

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/skiff-io/skiff/internal/registry/apps"
)

// TableColumns are kubectl's job columns.
func (jobStrategy) TableColumns() []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		apps.NameColumn(),
		{Name: "Status", Type: "string", Description: "Status of the job."},
		{Name: "Completions", Type: "string", Description: batchv1.JobStatus{}.SwaggerDoc()["succeeded"]},
		{Name: "Duration", Type: "string", Description: "Time required to complete the job."},
		apps.AgeColumn(),
	}
	cols = append(cols, apps.ContainerColumns()...)
	return append(cols, metav1.TableColumnDefinition{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]})
}

// TableRow prints what the job came to, how much of it is done and how long
// it ran (or has been running).
func (s jobStrategy) TableRow(obj runtime.Object) []interface{} {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return nil
	}
	var completions string
	switch par := deref(j.Spec.Parallelism, 0); {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case par > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, par)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	var took string
	switch {
	case j.Status.StartTime == nil:
	case j.Status.CompletionTime == nil:
		took = duration.HumanDuration(s.now.Now().Sub(j.Status.StartTime.Time))
	default:
		took = duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
	names, images := apps.ContainerCells(j.Spec.Template.Spec.Containers)
	return []interface{}{
		j.Name, jobStatusWord(j), completions, took,
		apps.FormatAge(j.CreationTimestamp, s.now.Now()),
		names, images, metav1.FormatLabelSelector(j.Spec.Selector),
	}
}

// jobStatusWord is the STATUS cell: a finished job says how it ended even
// while being deleted.
func jobStatusWord(j *batchv1.Job) string {
	switch c := j.Status.Conditions; {
	case conditionTrue(c, batchv1.JobComplete):
		return "Complete"
	case conditionTrue(c, batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case conditionTrue(c, batchv1.JobSuspended):
		return "Suspended"
	case conditionTrue(c, batchv1.JobFailureTarget):
		return "FailureTarget"
	default:
		return "Running"
	}
}
