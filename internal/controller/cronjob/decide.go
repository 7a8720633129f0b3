package cronjob

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxMissedSchedules is how many missed start times are tolerated before
// the controller warns about them (it still runs the most recent one).
const maxMissedSchedules = 100

// nextScheduleDelta is added to wake-ups so that a schedule time has
// certainly passed when the controller looks again.
const nextScheduleDelta = 100 * time.Millisecond

var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")
var cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// event is an event to record on the cron job.
type event struct {
	kind, reason, message string
}

// earliest is the time from which start times are due: the last schedule
// time (or creation), moved up to now-startingDeadlineSeconds when that is
// later, since older start times can no longer run.
func earliest(cj *batchv1.CronJob, now time.Time) time.Time {
	t := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		t = cj.Status.LastScheduleTime.Time
	}
	if cj.Spec.StartingDeadlineSeconds != nil {
		if d := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second); d.After(t) {
			t = d
		}
	}
	return t
}

// dueTime returns the most recent start time that is due (zero if none)
// and how many start times were missed since the earliest one, counting
// no further than maxMissedSchedules+1.
func dueTime(cj *batchv1.CronJob, sched Schedule, now time.Time) (time.Time, int) {
	from := earliest(cj, now)
	if from.After(now) {
		return time.Time{}, 0
	}
	return sched.Between(from, now, maxMissedSchedules)
}

// nextWake is when the controller should look at the cron job again: just
// after its next start time.
func nextWake(cj *batchv1.CronJob, sched Schedule, now time.Time) time.Time {
	anchor := earliest(cj, now)
	if last, _ := sched.Between(anchor, now, 0); !last.IsZero() {
		anchor = last
	}
	next := sched.Next(anchor)
	for !next.IsZero() && !next.After(now) {
		next = sched.Next(next)
	}
	if next.IsZero() {
		return next
	}
	return next.Add(nextScheduleDelta)
}

// tooLate reports whether a start time is past the starting deadline.
func tooLate(cj *batchv1.CronJob, scheduled, now time.Time) bool {
	if cj.Spec.StartingDeadlineSeconds == nil {
		return false
	}
	return scheduled.Add(time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second).Before(now)
}

// JobName is the name of the job for a start time: the cron job's name and
// the start time in minutes since the epoch.
func JobName(cronJob string, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cronJob, scheduled.Unix()/60)
}

// newJob builds the job for a start time from the cron job's template,
// owned by the cron job and annotated with the start time (in the cron
// job's time zone, UTC by default).
func newJob(cj *batchv1.CronJob, scheduled time.Time, tz *time.Location) *batchv1.Job {
	tmpl := cj.Spec.JobTemplate.DeepCopy()
	annotations := tmpl.Annotations
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.In(tz).Format(time.RFC3339)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            JobName(cj.Name, scheduled),
			Namespace:       cj.Namespace,
			Labels:          tmpl.Labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, cronJobKind)},
		},
		Spec: tmpl.Spec,
	}
}

// jobRef is the reference to a job kept in status.active.
func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: jobKind.Kind, APIVersion: jobKind.GroupVersion().String(),
		Namespace: j.Namespace, Name: j.Name, UID: j.UID, ResourceVersion: j.ResourceVersion}
}

// finishedType returns Complete or Failed for a finished job, "" otherwise.
func finishedType(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

func inActive(cj *batchv1.CronJob, uid types.UID) bool {
	for _, r := range cj.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func removeActive(cj *batchv1.CronJob, uid types.UID) {
	out := cj.Status.Active[:0]
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			out = append(out, r)
		}
	}
	cj.Status.Active = out
}

// reconcileActive brings status.active and status.lastSuccessfulTime in
// line with the cron job's jobs: finished jobs leave the active list, and
// the latest completion is the last success. Unfinished jobs that are not
// in the list are reported in unexpected (they may be the controller's own,
// not yet in the cached status, or made by hand with "kubectl create job
// --from"); entries whose job is not among jobs are returned in missing.
func reconcileActive(cj *batchv1.CronJob, jobs []*batchv1.Job) (changed bool, events []event, unexpected []*batchv1.Job, missing []corev1.ObjectReference) {
	children := map[types.UID]bool{}
	for _, j := range jobs {
		children[j.UID] = true
		found := inActive(cj, j.UID)
		done := finishedType(j)
		switch {
		case !found && done == "":
			unexpected = append(unexpected, j)
		case found && done != "":
			removeActive(cj, j.UID)
			changed = true
			events = append(events, event{corev1.EventTypeNormal, "SawCompletedJob", fmt.Sprintf("Saw completed job: %s, condition: %v", j.Name, done)})
		}
		if done == batchv1.JobComplete && j.Status.CompletionTime != nil {
			if last := cj.Status.LastSuccessfulTime; last == nil || j.Status.CompletionTime.After(last.Time) {
				t := *j.Status.CompletionTime
				cj.Status.LastSuccessfulTime = &t
				changed = true
			}
		}
	}
	for _, r := range cj.Status.Active {
		if !children[r.UID] {
			missing = append(missing, r)
		}
	}
	return changed, events, unexpected, missing
}

// historyToDelete returns the oldest finished jobs beyond the successful
// and failed history limits.
func historyToDelete(cj *batchv1.CronJob, jobs []*batchv1.Job) []*batchv1.Job {
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		switch finishedType(j) {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	var out []*batchv1.Job
	for _, g := range []struct {
		jobs  []*batchv1.Job
		limit *int32
	}{{succeeded, cj.Spec.SuccessfulJobsHistoryLimit}, {failed, cj.Spec.FailedJobsHistoryLimit}} {
		if g.limit == nil || len(g.jobs) <= int(*g.limit) {
			continue
		}
		sortByStart(g.jobs)
		out = append(out, g.jobs[:len(g.jobs)-int(*g.limit)]...)
	}
	return out
}

// sortByStart orders jobs by start time, oldest first; jobs that never
// started come last, and ties go by name.
func sortByStart(jobs []*batchv1.Job) {
	sort.SliceStable(jobs, func(a, b int) bool {
		sa, sb := jobs[a].Status.StartTime, jobs[b].Status.StartTime
		switch {
		case sa == nil && sb != nil:
			return false
		case sa != nil && sb == nil:
			return true
		case sa.Equal(sb):
			return jobs[a].Name < jobs[b].Name
		}
		return sa.Before(sb)
	})
}
