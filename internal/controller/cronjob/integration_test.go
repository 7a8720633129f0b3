package cronjob

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

// env is one test's namespace on a shared API server, with its own
// controller (watching only that namespace) on its own fake clock, which
// starts at the real time so that the cron job's creation time and the
// clock agree.
type env struct {
	cs    kubernetes.Interface
	clock *testingclock.FakeClock
}

func startServer(t *testing.T) kubernetes.Interface {
	t.Helper()
	return testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true }).Client
}

// newEnv creates a namespace, starts a controller for it and creates an
// every-minute cron job there.
func newEnv(t *testing.T, cs kubernetes.Interface, name string, mutate func(*batchv1.CronJob)) (*env, *batchv1.CronJob) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &env{cs: cs, clock: testingclock.NewFakeClock(time.Now())}
	runCtx, cancel := context.WithCancel(ctx)
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(name))
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	ctrl, err := New(Config{Client: cs, Informers: factory, Clock: e.clock, Location: time.UTC,
		Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "cronjob-controller"})})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(runCtx.Done())
	done := make(chan struct{})
	go func() { defer close(done); _ = ctrl.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
		broadcaster.Shutdown()
	})
	return e, e.cronJob(t, name, mutate)
}

// cronJob creates an every-minute cron job named like its namespace.
func (e *env) cronJob(t *testing.T, name string, mutate func(*batchv1.CronJob)) *batchv1.CronJob {
	t.Helper()
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: name},
		Spec: batchv1.CronJobSpec{
			Schedule: "* * * * *",
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyOnFailure,
					Containers:    []corev1.Container{{Name: "hello", Image: "busybox:1.36"}},
				}}},
			},
		},
	}
	if mutate != nil {
		mutate(cj)
	}
	out, err := e.cs.BatchV1().CronJobs(name).Create(context.Background(), cj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nextMinute moves the fake clock just past the next whole minute after
// both the clock and the cron job's creation, and returns that minute.
func (e *env) nextMinute(cj *batchv1.CronJob) time.Time {
	from := e.clock.Now()
	if cj.CreationTimestamp.After(from) {
		from = cj.CreationTimestamp.Time
	}
	m := from.Truncate(time.Minute).Add(time.Minute)
	e.clock.SetTime(m.Add(time.Second))
	return m
}

// jobs lists the cron job's jobs by name.
func (e *env) jobs(t *testing.T, cj *batchv1.CronJob) []batchv1.Job {
	t.Helper()
	list, err := e.cs.BatchV1().Jobs(cj.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}

func (e *env) waitJob(t *testing.T, cj *batchv1.CronJob, at time.Time) *batchv1.Job {
	t.Helper()
	name := JobName(cj.Name, at)
	var j *batchv1.Job
	testserver.Eventually(t, 0, "job "+name, func() error {
		var err error
		j, err = e.cs.BatchV1().Jobs(cj.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		return err
	})
	return j
}

// finish marks a job finished as the job controller would.
func (e *env) finish(t *testing.T, j *batchv1.Job, ok bool, started time.Time) {
	t.Helper()
	st := metav1.NewTime(started)
	now := metav1.NewTime(started.Add(time.Second))
	j.Status.StartTime = &st
	if ok {
		j.Status.Succeeded = 1
		j.Status.CompletionTime = &now
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
	} else {
		j.Status.Failed = 1
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, LastTransitionTime: now, Reason: "BackoffLimitExceeded"},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastTransitionTime: now, Reason: "BackoffLimitExceeded"},
		}
	}
	if _, err := e.cs.BatchV1().Jobs(j.Namespace).UpdateStatus(context.Background(), j, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("finishing job %s: %v", j.Name, err)
	}
}

func (e *env) get(t *testing.T, cj *batchv1.CronJob) *batchv1.CronJob {
	t.Helper()
	out, err := e.cs.BatchV1().CronJobs(cj.Namespace).Get(context.Background(), cj.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) waitEvent(t *testing.T, cj *batchv1.CronJob, reason string) {
	t.Helper()
	testserver.Eventually(t, 0, "event "+reason, func() error {
		list, err := e.cs.CoreV1().Events(cj.Namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Name == cj.Name && ev.Reason == reason {
				return nil
			}
			seen = append(seen, ev.Reason)
		}
		return fmt.Errorf("events %v", seen)
	})
}

func names(jobs []batchv1.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

func TestIntegration(t *testing.T) {
	cs := startServer(t)

	t.Run("creates a job at its schedule", func(t *testing.T) {
		e, cj := newEnv(t, cs, "hello", nil)
		at := e.nextMinute(cj)
		j := e.waitJob(t, cj, at)
		if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != at.UTC().Format(time.RFC3339) {
			t.Fatalf("scheduled timestamp %q, want %q", got, at.UTC().Format(time.RFC3339))
		}
		if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != cj.UID || j.Labels["app"] != "hello" {
			t.Fatalf("job meta %+v", j.ObjectMeta)
		}
		testserver.Eventually(t, 0, "active job in status", func() error {
			st := e.get(t, cj).Status
			if len(st.Active) != 1 || st.Active[0].Name != j.Name || st.LastScheduleTime == nil || !st.LastScheduleTime.Time.Equal(at) {
				return fmt.Errorf("status %+v", st)
			}
			return nil
		})
		e.waitEvent(t, cj, "SuccessfulCreate")
		e.finish(t, j, true, at)
		testserver.Eventually(t, 0, "job leaves the active list", func() error {
			st := e.get(t, cj).Status
			if len(st.Active) != 0 || st.LastSuccessfulTime == nil {
				return fmt.Errorf("status %+v", st)
			}
			return nil
		})
		e.waitEvent(t, cj, "SawCompletedJob")
	})

	t.Run("forbid skips while a job is active", func(t *testing.T) {
		e, cj := newEnv(t, cs, "forbid", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent })
		first := e.nextMinute(cj)
		j := e.waitJob(t, cj, first)
		second := e.nextMinute(cj)
		e.waitEvent(t, cj, "JobAlreadyActive")
		if jobs := e.jobs(t, cj); len(jobs) != 1 {
			t.Fatalf("jobs %v, want only %s", names(jobs), j.Name)
		}
		// Once the first job finishes, the skipped start time is still
		// due (no starting deadline), so it runs late.
		e.finish(t, j, true, first)
		e.waitJob(t, cj, second)
	})

	t.Run("replace deletes the active job", func(t *testing.T) {
		e, cj := newEnv(t, cs, "replace", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent })
		first := e.waitJob(t, cj, e.nextMinute(cj))
		second := e.waitJob(t, cj, e.nextMinute(cj))
		testserver.Eventually(t, 0, "first job deleted", func() error {
			if jobs := e.jobs(t, cj); len(jobs) != 1 || jobs[0].Name != second.Name {
				return fmt.Errorf("jobs %v, want only %s (not %s)", names(jobs), second.Name, first.Name)
			}
			if st := e.get(t, cj).Status; len(st.Active) != 1 || st.Active[0].UID != second.UID {
				return fmt.Errorf("active %+v", st.Active)
			}
			return nil
		})
	})

	t.Run("history limits", func(t *testing.T) {
		e, cj := newEnv(t, cs, "history", func(cj *batchv1.CronJob) {
			cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](1)
			cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1)
		})
		var made []string
		for i, ok := range []bool{true, true, false, false} {
			at := e.nextMinute(cj)
			j := e.waitJob(t, cj, at)
			e.finish(t, j, ok, at)
			made = append(made, j.Name)
			_ = i
		}
		want := []string{made[1], made[3]}
		sort.Strings(want)
		testserver.Eventually(t, 0, "old jobs deleted", func() error {
			if got := names(e.jobs(t, cj)); fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("jobs %v, want %v", got, want)
			}
			return nil
		})
	})

	t.Run("a job created by hand from the cron job is left alone", func(t *testing.T) {
		e, cj := newEnv(t, cs, "manual", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent })
		// What "kubectl create job manual-run --from=cronjob/manual" sends.
		manual := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Namespace: cj.Namespace, Name: "manual-run",
				Annotations:     map[string]string{"cronjob.kubernetes.io/instantiate": "manual"},
				Labels:          cj.Spec.JobTemplate.Labels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, cronJobKind)}},
			Spec: cj.Spec.JobTemplate.Spec,
		}
		if _, err := e.cs.BatchV1().Jobs(cj.Namespace).Create(context.Background(), manual, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.waitEvent(t, cj, "UnexpectedJob")
		at := e.nextMinute(cj)
		e.waitJob(t, cj, at)
		if _, err := e.cs.BatchV1().Jobs(cj.Namespace).Get(context.Background(), "manual-run", metav1.GetOptions{}); err != nil {
			t.Fatalf("manual job: %v", err)
		}
		if st := e.get(t, cj).Status; len(st.Active) != 1 || st.Active[0].Name != JobName(cj.Name, at) {
			t.Fatalf("active %+v", st.Active)
		}
	})

	t.Run("time zone", func(t *testing.T) {
		// 00:xx in Kolkata (UTC+05:30) is 18:30 UTC the day before: a
		// schedule on minute 30 of every hour there runs at :00 UTC.
		e, cj := newEnv(t, cs, "zoned", func(cj *batchv1.CronJob) {
			cj.Spec.Schedule = "30 * * * *"
			cj.Spec.TimeZone = ptr.To("Asia/Kolkata")
		})
		from := e.clock.Now()
		if cj.CreationTimestamp.After(from) {
			from = cj.CreationTimestamp.Time
		}
		at := from.Truncate(time.Hour).Add(time.Hour)
		e.clock.SetTime(at.Add(time.Second))
		j := e.waitJob(t, cj, at)
		kolkata, _ := time.LoadLocation("Asia/Kolkata")
		if got, want := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation], at.In(kolkata).Format(time.RFC3339); got != want {
			t.Fatalf("scheduled timestamp %q, want %q", got, want)
		}
	})
}
