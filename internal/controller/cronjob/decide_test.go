package cronjob

import (
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func TestDueTime(t *testing.T) {
	created := mustTime(t, "2026-03-01T10:00:30Z")
	tests := []struct {
		name     string
		schedule string
		last     string
		deadline *int64
		now      string
		want     string
		missed   int
		late     bool
		wake     string
	}{
		{name: "nothing due yet", schedule: "* * * * *", now: "2026-03-01T10:00:59Z", wake: "2026-03-01T10:01:00.1Z"},
		{name: "first start", schedule: "* * * * *", now: "2026-03-01T10:01:05Z", want: "2026-03-01T10:01:00Z", missed: 1, wake: "2026-03-01T10:02:00.1Z"},
		{name: "already started", schedule: "* * * * *", last: "2026-03-01T10:01:00Z", now: "2026-03-01T10:01:30Z", wake: "2026-03-01T10:02:00.1Z"},
		{name: "several missed: run the latest", schedule: "*/10 * * * *", last: "2026-03-01T10:00:00Z", now: "2026-03-01T10:35:00Z",
			want: "2026-03-01T10:30:00Z", missed: 3, wake: "2026-03-01T10:40:00.1Z"},
		{name: "too many missed", schedule: "* * * * *", last: "2026-03-01T10:00:00Z", now: "2026-03-01T13:00:00Z",
			want: "2026-03-01T13:00:00Z", missed: 101, wake: "2026-03-01T13:01:00.1Z"},
		{name: "starting deadline hides old start times", schedule: "0 * * * *", last: "2026-03-01T08:00:00Z", deadline: ptr.To[int64](60),
			now: "2026-03-01T10:05:00Z", wake: "2026-03-01T11:00:00.1Z"},
		{name: "within the starting deadline", schedule: "0 * * * *", last: "2026-03-01T08:00:00Z", deadline: ptr.To[int64](600),
			now: "2026-03-01T10:05:00Z", want: "2026-03-01T10:00:00Z", missed: 1, wake: "2026-03-01T11:00:00.1Z"},
		{name: "every", schedule: "@every 45m", now: "2026-03-01T12:00:00Z", want: "2026-03-01T11:30:30Z", missed: 2, wake: "2026-03-01T12:15:30.1Z"},
	}
	for _, tt := range tests {
		cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)},
			Spec: batchv1.CronJobSpec{Schedule: tt.schedule, StartingDeadlineSeconds: tt.deadline}}
		if tt.last != "" {
			last := metav1.NewTime(mustTime(t, tt.last))
			cj.Status.LastScheduleTime = &last
		}
		sched, err := ParseSchedule(tt.schedule, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		now := mustTime(t, tt.now)
		got, missed := dueTime(cj, sched, now)
		var want time.Time
		if tt.want != "" {
			want = mustTime(t, tt.want)
		}
		if !got.Equal(want) || missed != tt.missed {
			t.Errorf("%s: dueTime = %s, %d; want %s, %d", tt.name, got, missed, want, tt.missed)
		}
		wake, err := time.Parse(time.RFC3339Nano, tt.wake)
		if err != nil {
			t.Fatal(err)
		}
		if got := nextWake(cj, sched, now); !got.Equal(wake) {
			t.Errorf("%s: nextWake = %s, want %s", tt.name, got, wake)
		}
	}
}

func TestTooLate(t *testing.T) {
	at := mustTime(t, "2026-03-01T10:00:00Z")
	cj := &batchv1.CronJob{}
	if tooLate(cj, at, at.Add(time.Hour)) {
		t.Error("late without a deadline")
	}
	cj.Spec.StartingDeadlineSeconds = ptr.To[int64](30)
	if tooLate(cj, at, at.Add(30*time.Second)) || !tooLate(cj, at, at.Add(31*time.Second)) {
		t.Error("deadline of 30s misjudged")
	}
}

func TestNewJob(t *testing.T) {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "ns", UID: "cj-uid"},
		Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"x": "y"}},
			Spec:       batchv1.JobSpec{BackoffLimit: ptr.To[int32](2)},
		}},
	}
	at := mustTime(t, "2026-03-01T10:00:00Z")
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	j := newJob(cj, at, tokyo)
	if j.Name != fmt.Sprintf("report-%d", at.Unix()/60) || j.Namespace != "ns" || j.Labels["a"] != "b" || j.Annotations["x"] != "y" ||
		j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2026-03-01T19:00:00+09:00" || *j.Spec.BackoffLimit != 2 {
		t.Fatalf("job %+v", j)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != "cj-uid" || ref.Kind != "CronJob" || !*ref.BlockOwnerDeletion {
		t.Fatalf("owner %+v", j.OwnerReferences)
	}
	if cj.Spec.JobTemplate.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "" {
		t.Fatal("template modified")
	}
}

func job(name string, started int, finished batchv1.JobConditionType) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name)}}
	if started >= 0 {
		st := metav1.NewTime(time.Date(2026, 3, 1, 10, started, 0, 0, time.UTC))
		j.Status.StartTime = &st
		if finished == batchv1.JobComplete {
			end := metav1.NewTime(st.Add(30 * time.Second))
			j.Status.CompletionTime = &end
		}
	}
	if finished != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: finished, Status: corev1.ConditionTrue}}
	}
	return j
}

func TestHistoryToDelete(t *testing.T) {
	jobs := []*batchv1.Job{
		job("s3", 3, batchv1.JobComplete), job("s1", 1, batchv1.JobComplete), job("s2", 2, batchv1.JobComplete),
		job("f1", 1, batchv1.JobFailed), job("f2", 2, batchv1.JobFailed), job("fx", -1, batchv1.JobFailed),
		job("running", 0, ""),
	}
	tests := []struct {
		succeeded, failed *int32
		want              string
	}{
		{nil, nil, "[]"},
		{ptr.To[int32](1), nil, "[s1 s2]"},
		{ptr.To[int32](3), ptr.To[int32](1), "[f1 f2]"},
		{ptr.To[int32](0), ptr.To[int32](0), "[s1 s2 s3 f1 f2 fx]"},
	}
	for _, tt := range tests {
		cj := &batchv1.CronJob{Spec: batchv1.CronJobSpec{SuccessfulJobsHistoryLimit: tt.succeeded, FailedJobsHistoryLimit: tt.failed}}
		var got []string
		for _, j := range historyToDelete(cj, append([]*batchv1.Job(nil), jobs...)) {
			got = append(got, j.Name)
		}
		if fmt.Sprint(got) != tt.want && !(tt.want == "[]" && got == nil) {
			t.Errorf("limits %v/%v: delete %v, want %s", tt.succeeded, tt.failed, got, tt.want)
		}
	}
}

func TestReconcileActive(t *testing.T) {
	done := job("done", 1, batchv1.JobComplete)
	failed := job("failed", 2, batchv1.JobFailed)
	running := job("running", 3, "")
	manual := job("manual", 4, "")
	cj := &batchv1.CronJob{Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{
		jobRef(done), jobRef(failed), jobRef(running), {Name: "vanished", UID: "vanished"},
	}}}
	changed, events, unexpected, missing := reconcileActive(cj, []*batchv1.Job{done, failed, running, manual})
	if !changed || len(events) != 2 || events[0].reason != "SawCompletedJob" || events[0].message != "Saw completed job: done, condition: Complete" {
		t.Fatalf("changed %v events %+v", changed, events)
	}
	if len(unexpected) != 1 || unexpected[0].Name != "manual" || len(missing) != 1 || missing[0].Name != "vanished" {
		t.Fatalf("unexpected %v missing %v", unexpected, missing)
	}
	if len(cj.Status.Active) != 2 || cj.Status.Active[0].Name != "running" {
		t.Fatalf("active %+v", cj.Status.Active)
	}
	if cj.Status.LastSuccessfulTime == nil || !cj.Status.LastSuccessfulTime.Equal(done.Status.CompletionTime) {
		t.Fatalf("last successful time %v", cj.Status.LastSuccessfulTime)
	}
	if changed, _, _, _ := reconcileActive(cj, []*batchv1.Job{done, running}); changed {
		t.Fatal("second pass changed the status")
	}
}
