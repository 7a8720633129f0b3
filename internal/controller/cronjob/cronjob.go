// Package cronjob implements the CronJob controller: it creates a Job for
// each start time of a cron job's schedule (standard cron syntax, in
// spec.timeZone), honouring concurrencyPolicy, startingDeadlineSeconds and
// suspend, keeps status.active, lastScheduleTime and lastSuccessfulTime,
// and deletes finished jobs beyond the history limits. Its clock is
// injectable so that tests can move time instead of waiting for it.
package cronjob

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder receives the controller's events (SuccessfulCreate,
	// SawCompletedJob, JobAlreadyActive, ...); nil drops them.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Clock tells the time and wakes the controller at start times
	// (default: the real clock).
	Clock clock.WithDelayedExecution
	// Location is the time zone of cron jobs without spec.timeZone
	// (default: the local zone, as for kube-controller-manager).
	Location *time.Location
	// Workers is the number of cron jobs synced in parallel (default 5).
	Workers int
}

// Controller is the CronJob controller.
type Controller struct {
	cfg      Config
	cronJobs batchlisters.CronJobLister
	jobs     batchlisters.JobLister
	ctrl     *controller.Controller
	wake     *wakeups
}

// New returns the controller, registered with cfg.Informers (cron jobs and
// jobs). It does no I/O.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &record.FakeRecorder{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	cjInf := cfg.Informers.Batch().V1().CronJobs()
	jobInf := cfg.Informers.Batch().V1().Jobs()
	c := &Controller{cfg: cfg, cronJobs: cjInf.Lister(), jobs: jobInf.Lister()}
	ctrl, err := controller.New(controller.Config{Name: "cronjob", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	c.wake = newWakeups(cfg.Clock, ctrl.Enqueue)
	if err := ctrl.Watch(cjInf.Informer(), nil); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(jobInf.Informer(), cronJobKeyOf); err != nil {
		return nil, err
	}
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer c.wake.stop()
	return c.ctrl.Run(ctx)
}

// cronJobKeyOf maps a job to the cron job that controls it.
func cronJobKeyOf(obj interface{}) (string, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return "", false
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.Kind != cronJobKind.Kind {
		return "", false
	}
	return j.Namespace + "/" + ref.Name, true
}

// Reconcile implements controller.Reconciler for a cron job key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || ns == "" {
		return nil
	}
	shared, err := c.cronJobs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.wake.at(key, time.Time{})
		return nil
	}
	if err != nil {
		return err
	}
	cj := shared.DeepCopy()
	jobs, err := c.jobsOf(cj)
	if err != nil {
		return err
	}
	changed, stale, err := c.reconcileActive(ctx, cj, jobs)
	if err != nil || stale {
		// A stale cached cron job is followed by its update, which
		// triggers another sync.
		return err
	}
	var wake time.Time
	var syncErr error
	if cj.DeletionTimestamp == nil {
		var started bool
		wake, started, syncErr = c.startDue(ctx, cj)
		changed = changed || started
	}
	for _, j := range historyToDelete(cj, jobs) {
		if err := c.deleteJob(ctx, cj, j.Name); err != nil {
			syncErr = err
			continue
		}
		if inActive(cj, j.UID) {
			removeActive(cj, j.UID)
			changed = true
		}
	}
	if changed {
		_, err := c.cfg.Client.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			// The cache was behind; the newer cron job is on its way.
			c.cfg.Logger.Debug("cron job status conflict; retrying", "key", key)
			return controller.RequeueAfter(time.Second)
		}
		if err != nil {
			return fmt.Errorf("updating status of cron job %s: %w", key, err)
		}
	}
	c.wake.at(key, wake)
	return syncErr
}

// jobsOf lists the jobs the cron job controls.
func (c *Controller) jobsOf(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := c.jobs.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOf(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out, nil
}

// reconcileActive updates the status from the jobs (see reconcileActive in
// decide.go) and settles what the caches cannot: whether an unlisted job
// is unexpected, and whether a listed one is really gone. stale reports
// that the cached cron job is older than the API server's.
func (c *Controller) reconcileActive(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (changed, stale bool, err error) {
	changed, events, unexpected, missing := reconcileActive(cj, jobs)
	for _, e := range events {
		c.cfg.Recorder.Event(cj, e.kind, e.reason, e.message)
	}
	if len(unexpected) > 0 {
		fresh, err := c.cfg.Client.BatchV1().CronJobs(cj.Namespace).Get(ctx, cj.Name, metav1.GetOptions{})
		if err != nil {
			return false, false, fmt.Errorf("getting cron job %s/%s: %w", cj.Namespace, cj.Name, err)
		}
		if fresh.UID == cj.UID && fresh.ResourceVersion != cj.ResourceVersion {
			return false, true, nil
		}
		for _, j := range unexpected {
			c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
		}
	}
	for _, r := range missing {
		j, err := c.cfg.Client.BatchV1().Jobs(cj.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || (err == nil && j.UID != r.UID):
			c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", r.Name)
			removeActive(cj, r.UID)
			changed = true
		case err != nil:
			return false, false, fmt.Errorf("getting job %s/%s: %w", cj.Namespace, r.Name, err)
		}
	}
	return changed, false, nil
}

// startDue starts the job of the most recent due start time, if the cron
// job's policies allow, and returns when to look again and whether the
// status changed.
func (c *Controller) startDue(ctx context.Context, cj *batchv1.CronJob) (time.Time, bool, error) {
	loc, tz := c.cfg.Location, time.UTC
	if cj.Spec.TimeZone != nil {
		l, err := time.LoadLocation(*cj.Spec.TimeZone)
		if err != nil {
			c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %s", *cj.Spec.TimeZone, err)
			return time.Time{}, false, nil
		}
		loc, tz = l, l
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return time.Time{}, false, nil
	}
	if cj.Spec.TimeZone == nil && (strings.Contains(cj.Spec.Schedule, "TZ=")) {
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "UnsupportedSchedule", "CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
	}
	sched, err := ParseSchedule(cj.Spec.Schedule, loc)
	if err != nil {
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return time.Time{}, false, nil
	}
	now := c.cfg.Clock.Now()
	due, missed := dueTime(cj, sched, now)
	wake := nextWake(cj, sched, now)
	if missed > maxMissedSchedules {
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)
	}
	switch {
	case due.IsZero():
		return wake, false, nil
	case tooLate(cj, due, now):
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", due.UTC().Format(time.RFC1123Z))
		return wake, false, nil
	case activeByName(cj, JobName(cj.Name, due)) || (cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(due)):
		return wake, false, nil
	case cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(cj.Status.Active) > 0:
		c.cfg.Recorder.Event(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
		return wake, false, nil
	}
	changed := false
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		for _, r := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
			if err := c.deleteJob(ctx, cj, r.Name); err != nil {
				return wake, changed, err
			}
			removeActive(cj, r.UID)
			changed = true
		}
	}
	j, err := c.createJob(ctx, cj, due, tz)
	if err != nil {
		return wake, changed, err
	}
	if j == nil {
		return wake, changed, nil
	}
	if finishedType(j) == "" && !inActive(cj, j.UID) {
		cj.Status.Active = append(cj.Status.Active, jobRef(j))
	}
	cj.Status.LastScheduleTime = &metav1.Time{Time: due}
	return wake, true, nil
}

func activeByName(cj *batchv1.CronJob, name string) bool {
	for _, r := range cj.Status.Active {
		if r.Name == name {
			return true
		}
	}
	return false
}

// createJob creates the job for a start time. A job of that name that the
// cron job already controls (created by an earlier sync whose status
// update was lost) counts as created. It returns nil, nil when the
// namespace is being deleted.
func (c *Controller) createJob(ctx context.Context, cj *batchv1.CronJob, due time.Time, tz *time.Location) (*batchv1.Job, error) {
	want := newJob(cj, due, tz)
	j, err := c.cfg.Client.BatchV1().Jobs(cj.Namespace).Create(ctx, want, metav1.CreateOptions{})
	switch {
	case err == nil:
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", j.Name)
		return j, nil
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, nil
	case apierrors.IsAlreadyExists(err):
		existing, gerr := c.cfg.Client.BatchV1().Jobs(cj.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if gerr == nil {
			if ref := metav1.GetControllerOf(existing); ref != nil && ref.UID == cj.UID {
				return existing, nil
			}
		}
	}
	c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
	return nil, fmt.Errorf("creating job %s/%s: %w", cj.Namespace, want.Name, err)
}

// deleteJob deletes a job of the cron job and, in the background, its pods.
func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, name string) error {
	background := metav1.DeletePropagationBackground
	err := c.cfg.Client.BatchV1().Jobs(cj.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &background})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		c.cfg.Recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return fmt.Errorf("deleting job %s/%s: %w", cj.Namespace, name, err)
	}
	c.cfg.Recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", name)
	return nil
}
