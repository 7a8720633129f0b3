package ttlafterfinished

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/utils/ptr"
)

func TestTimeLeft(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	finished := func(ct batchv1.JobConditionType, at time.Time) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}
	}
	deleting := metav1.NewTime(now)
	tests := []struct {
		name     string
		ttl      *int32
		conds    []batchv1.JobCondition
		deleting bool
		left     time.Duration
		expired  bool
		err      bool
	}{
		{name: "no ttl", conds: finished(batchv1.JobComplete, now.Add(-time.Hour))},
		{name: "not finished", ttl: ptr.To[int32](0)},
		{name: "suspended condition is not finished", ttl: ptr.To[int32](0), conds: finished(batchv1.JobSuspended, now)},
		{name: "complete, expired", ttl: ptr.To[int32](60), conds: finished(batchv1.JobComplete, now.Add(-time.Minute)), expired: true},
		{name: "failed, ttl 0", ttl: ptr.To[int32](0), conds: finished(batchv1.JobFailed, now), expired: true},
		{name: "complete, not yet", ttl: ptr.To[int32](100), conds: finished(batchv1.JobComplete, now.Add(-40*time.Second)), left: 60 * time.Second},
		{name: "being deleted", ttl: ptr.To[int32](0), conds: finished(batchv1.JobComplete, now), deleting: true},
		{name: "no finish time", ttl: ptr.To[int32](0), conds: finished(batchv1.JobComplete, time.Time{}), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &batchv1.Job{Spec: batchv1.JobSpec{TTLSecondsAfterFinished: tt.ttl}, Status: batchv1.JobStatus{Conditions: tt.conds}}
			if tt.deleting {
				j.DeletionTimestamp = &deleting
			}
			left, expired, err := timeLeft(j, now)
			if (err != nil) != tt.err || (err != nil && !errors.Is(err, errNoFinishTime)) {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if left != tt.left || expired != tt.expired {
				t.Fatalf("timeLeft = %v, %v; want %v, %v", left, expired, tt.left, tt.expired)
			}
		})
	}
}

func TestIntegration(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := s.Client
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	ctrl, err := New(Config{Client: cs, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); _ = ctrl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	ns := "ttl"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create := func(name string, ttl *int32) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: batchv1.JobSpec{
			TTLSecondsAfterFinished: ttl,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}}},
		}}
		out, err := cs.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	complete := func(j *batchv1.Job) {
		now := metav1.Now()
		j.Status = batchv1.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 1, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}}
		if _, err := cs.BatchV1().Jobs(ns).UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	gone := func(name string) error {
		_, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("job %s still exists", name)
	}
	eventually := func(what string, cond func() error) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for err := cond(); err != nil; err = cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v", what, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	keep := create("no-ttl", nil)
	complete(keep)
	running := create("running", ptr.To[int32](0))
	now := create("now", ptr.To[int32](0))
	complete(now)
	later := create("later", ptr.To[int32](2))
	complete(later)

	eventually("ttl 0 job deleted", func() error { return gone(now.Name) })
	eventually("ttl 2 job deleted", func() error { return gone(later.Name) })
	for _, name := range []string{keep.Name, running.Name} {
		if gone(name) == nil {
			t.Fatalf("job %s was deleted", name)
		}
	}
}
