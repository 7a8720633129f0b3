package job

import (
	"context"
	"fmt"
	"strings"
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
	"k8s.io/utils/ptr"
)

// startJobController runs an API server without controllers and this
// controller against it, and returns a client.
func startJobController(t *testing.T) kubernetes.Interface {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := s.Client
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	ctrl, err := New(Config{
		Client: cs, Informers: factory,
		Recorder:          broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "job-controller"}),
		PodFailureBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); _ = ctrl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
		broadcaster.Shutdown()
	})
	return cs
}

func newNamespace(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func testJob(ns, name string, completions, parallelism int32) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: batchv1.JobSpec{
			Completions: ptr.To(completions),
			Parallelism: ptr.To(parallelism),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "work", Image: "busybox:1.36"}},
			}},
		},
	}
}

// jobPods lists the pods the job owns, by phase.
func jobPods(t *testing.T, cs kubernetes.Interface, j *batchv1.Job) (active, all []corev1.Pod) {
	t.Helper()
	list, err := cs.CoreV1().Pods(j.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + j.Name})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil {
			active = append(active, p)
		}
	}
	return active, list.Items
}

// finishPod sets a pod's phase as a kubelet would once its container exits.
func finishPod(t *testing.T, cs kubernetes.Interface, p corev1.Pod, phase corev1.PodPhase, exitCode int32) {
	t.Helper()
	now := metav1.Now()
	p.Status.Phase = phase
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "work", Image: "busybox:1.36",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, StartedAt: now, FinishedAt: now}}}}
	if _, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), &p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("finishing pod %s: %v", p.Name, err)
	}
}

// waitActive waits until exactly n pods of the job are active and returns
// them.
func waitActive(t *testing.T, cs kubernetes.Interface, j *batchv1.Job, n int) []corev1.Pod {
	t.Helper()
	var active []corev1.Pod
	testserver.Eventually(t, 0, fmt.Sprintf("%d active pods of %s", n, j.Name), func() error {
		active, _ = jobPods(t, cs, j)
		if len(active) != n {
			return fmt.Errorf("%d active", len(active))
		}
		return nil
	})
	return active
}

func getJob(t *testing.T, cs kubernetes.Interface, j *batchv1.Job) *batchv1.Job {
	t.Helper()
	got, err := cs.BatchV1().Jobs(j.Namespace).Get(context.Background(), j.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitCondition waits for condition t=True with the given reason.
func waitCondition(t *testing.T, cs kubernetes.Interface, j *batchv1.Job, ct batchv1.JobConditionType, reason string) *batchv1.Job {
	t.Helper()
	var got *batchv1.Job
	testserver.Eventually(t, 0, fmt.Sprintf("%s condition %s", j.Name, ct), func() error {
		got = getJob(t, cs, j)
		c := findCondition(got, ct)
		if c == nil {
			return fmt.Errorf("no %s condition; status %+v", ct, got.Status)
		}
		if c.Reason != reason {
			return fmt.Errorf("reason %q, want %q", c.Reason, reason)
		}
		return nil
	})
	return got
}

// findConditionAny returns the condition of type t, whatever its status.
func findConditionAny(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == t {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// waitEvent waits for an event with the reason on the object.
func waitEvent(t *testing.T, cs kubernetes.Interface, ns, name, reason string) {
	t.Helper()
	testserver.Eventually(t, 0, "event "+reason+" on "+name, func() error {
		list, err := cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		var seen []string
		for _, e := range list.Items {
			if e.InvolvedObject.Name == name && e.Reason == reason {
				return nil
			}
			seen = append(seen, e.Reason)
		}
		return fmt.Errorf("events: %v", seen)
	})
}

func TestIntegration(t *testing.T) {
	cs := startJobController(t)
	ctx := context.Background()

	t.Run("completions 2 parallelism 1 completes", func(t *testing.T) {
		ns := newNamespace(t, cs, "complete")
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, testJob(ns, "pi", 2, 1), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			pods := waitActive(t, cs, j, 1)
			p := pods[0]
			if !strings.HasPrefix(p.Name, "pi-") || !hasTrackingFinalizer(&p) || metav1.GetControllerOf(&p).UID != j.UID {
				t.Fatalf("pod %s: finalizers %v owners %v", p.Name, p.Finalizers, p.OwnerReferences)
			}
			finishPod(t, cs, p, corev1.PodSucceeded, 0)
		}
		got := waitCondition(t, cs, j, batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
		if got.Status.Succeeded != 2 || got.Status.Failed != 0 || got.Status.Active != 0 || got.Status.CompletionTime == nil || got.Status.StartTime == nil {
			t.Fatalf("status %+v", got.Status)
		}
		if c := findCondition(got, batchv1.JobSuccessCriteriaMet); c == nil {
			t.Fatalf("no SuccessCriteriaMet condition: %+v", got.Status.Conditions)
		}
		if u := got.Status.UncountedTerminatedPods; u != nil && len(u.Succeeded)+len(u.Failed) > 0 {
			t.Fatalf("uncounted left: %+v", u)
		}
		_, all := jobPods(t, cs, j)
		if len(all) != 2 {
			t.Fatalf("%d pods, want 2", len(all))
		}
		for _, p := range all {
			if hasTrackingFinalizer(&p) {
				t.Fatalf("pod %s kept the tracking finalizer", p.Name)
			}
		}
		waitEvent(t, cs, ns, "pi", "SuccessfulCreate")
		waitEvent(t, cs, ns, "pi", "Completed")
	})

	t.Run("backoff limit exceeded fails the job", func(t *testing.T) {
		ns := newNamespace(t, cs, "backoff")
		spec := testJob(ns, "flaky", 1, 1)
		spec.Spec.BackoffLimit = ptr.To[int32](1)
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			finishPod(t, cs, waitActive(t, cs, j, 1)[0], corev1.PodFailed, 1)
		}
		got := waitCondition(t, cs, j, batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded)
		if got.Status.Failed != 2 || got.Status.Succeeded != 0 || got.Status.Active != 0 {
			t.Fatalf("status %+v", got.Status)
		}
		if c := findCondition(got, batchv1.JobFailureTarget); c == nil || c.Message != msgBackoffLimit {
			t.Fatalf("FailureTarget condition: %+v", got.Status.Conditions)
		}
		if _, all := jobPods(t, cs, j); len(all) != 2 {
			t.Fatalf("%d pods, want 2", len(all))
		}
		waitEvent(t, cs, ns, "flaky", "BackoffLimitExceeded")
	})

	t.Run("indexed job", func(t *testing.T) {
		ns := newNamespace(t, cs, "indexed")
		spec := testJob(ns, "idx", 3, 3)
		spec.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods := waitActive(t, cs, j, 3)
		seen := map[string]bool{}
		for _, p := range pods {
			idx := p.Annotations[batchv1.JobCompletionIndexAnnotation]
			if p.Labels[batchv1.JobCompletionIndexAnnotation] != idx || !strings.HasPrefix(p.Name, "idx-"+idx+"-") || p.Spec.Hostname != "idx-"+idx {
				t.Fatalf("pod %s: index %q labels %v hostname %q", p.Name, idx, p.Labels, p.Spec.Hostname)
			}
			if env := p.Spec.Containers[0].Env; len(env) != 1 || env[0].Name != completionIndexEnv {
				t.Fatalf("pod %s env %+v", p.Name, env)
			}
			seen[idx] = true
		}
		if len(seen) != 3 {
			t.Fatalf("indexes %v", seen)
		}
		// Index 1 fails once and is retried under the same index.
		for _, p := range pods {
			if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "1" {
				finishPod(t, cs, p, corev1.PodFailed, 1)
			} else {
				finishPod(t, cs, p, corev1.PodSucceeded, 0)
			}
		}
		testserver.Eventually(t, 0, "completed indexes 0,2", func() error {
			if got := getJob(t, cs, j); got.Status.CompletedIndexes != "0,2" || got.Status.Failed != 1 {
				return fmt.Errorf("status %+v", got.Status)
			}
			return nil
		})
		retry := waitActive(t, cs, j, 1)[0]
		if retry.Annotations[batchv1.JobCompletionIndexAnnotation] != "1" {
			t.Fatalf("retry pod %s has index %s", retry.Name, retry.Annotations[batchv1.JobCompletionIndexAnnotation])
		}
		finishPod(t, cs, retry, corev1.PodSucceeded, 0)
		got := waitCondition(t, cs, j, batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
		if got.Status.CompletedIndexes != "0-2" || got.Status.Succeeded != 3 || got.Status.Failed != 1 {
			t.Fatalf("status %+v", got.Status)
		}
	})

	t.Run("active deadline", func(t *testing.T) {
		ns := newNamespace(t, cs, "deadline")
		spec := testJob(ns, "slow", 2, 2)
		spec.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The pods start with the job and are stopped (and counted as
		// failed) when its deadline passes.
		got := waitCondition(t, cs, j, batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded)
		if got.Status.Active != 0 || got.Status.Failed != 2 {
			t.Fatalf("status %+v", got.Status)
		}
		testserver.Eventually(t, 0, "pods deleted", func() error {
			if _, all := jobPods(t, cs, j); len(all) != 0 {
				return fmt.Errorf("%d pods left", len(all))
			}
			return nil
		})
	})

	t.Run("suspend and resume", func(t *testing.T) {
		ns := newNamespace(t, cs, "suspend")
		spec := testJob(ns, "later", 1, 1)
		spec.Spec.Suspend = ptr.To(true)
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := waitCondition(t, cs, j, batchv1.JobSuspended, reasonSuspended)
		if got.Status.StartTime != nil {
			t.Fatalf("suspended job has a start time")
		}
		if _, all := jobPods(t, cs, j); len(all) != 0 {
			t.Fatalf("suspended job has %d pods", len(all))
		}
		got.Spec.Suspend = ptr.To(false)
		if _, err := cs.BatchV1().Jobs(ns).Update(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		finishPod(t, cs, waitActive(t, cs, j, 1)[0], corev1.PodSucceeded, 0)
		waitCondition(t, cs, j, batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
	})

	t.Run("suspending a running job stops its pods", func(t *testing.T) {
		ns := newNamespace(t, cs, "pause")
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, testJob(ns, "pausable", 3, 2), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		finishPod(t, cs, waitActive(t, cs, j, 2)[0], corev1.PodSucceeded, 0)
		waitActive(t, cs, j, 2)
		setSuspend := func(v bool) {
			t.Helper()
			testserver.Eventually(t, 0, "updating suspend", func() error {
				got := getJob(t, cs, j)
				got.Spec.Suspend = ptr.To(v)
				_, err := cs.BatchV1().Jobs(ns).Update(ctx, got, metav1.UpdateOptions{})
				return err
			})
		}
		setSuspend(true)
		waitCondition(t, cs, j, batchv1.JobSuspended, reasonSuspended)
		testserver.Eventually(t, 0, "pods of the suspended job deleted", func() error {
			if active, _ := jobPods(t, cs, j); len(active) != 0 {
				return fmt.Errorf("%d active", len(active))
			}
			if got := getJob(t, cs, j); got.Status.Active != 0 || got.Status.Failed != 0 || got.Status.Succeeded != 1 {
				return fmt.Errorf("status %+v", got.Status)
			}
			return nil
		})
		setSuspend(false)
		for _, p := range waitActive(t, cs, j, 2) {
			finishPod(t, cs, p, corev1.PodSucceeded, 0)
		}
		got := waitCondition(t, cs, j, batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
		if c := findConditionAny(got, batchv1.JobSuspended); c == nil || c.Status != corev1.ConditionFalse || c.Reason != reasonResumed {
			t.Fatalf("suspended condition %+v", c)
		}
		if got.Status.Succeeded != 3 || got.Status.Failed != 0 {
			t.Fatalf("status %+v", got.Status)
		}
	})

	t.Run("pod failure policy fails the job", func(t *testing.T) {
		ns := newNamespace(t, cs, "podfailure")
		spec := testJob(ns, "strict", 1, 1)
		spec.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
			Action:      batchv1.PodFailurePolicyActionFailJob,
			OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
		}}}
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := waitActive(t, cs, j, 1)[0]
		finishPod(t, cs, p, corev1.PodFailed, 42)
		got := waitCondition(t, cs, j, batchv1.JobFailed, batchv1.JobReasonPodFailurePolicy)
		want := fmt.Sprintf("Container work for pod %s/%s failed with exit code 42 matching FailJob rule at index 0", ns, p.Name)
		if c := findCondition(got, batchv1.JobFailed); c.Message != want || got.Status.Failed != 1 {
			t.Fatalf("condition %+v status %+v", c, got.Status)
		}
	})

	t.Run("deleted job releases its pods", func(t *testing.T) {
		ns := newNamespace(t, cs, "orphans")
		j, err := cs.BatchV1().Jobs(ns).Create(ctx, testJob(ns, "gone", 1, 1), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := waitActive(t, cs, j, 1)[0]
		orphan := metav1.DeletePropagationOrphan
		if err := cs.BatchV1().Jobs(ns).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
			t.Fatal(err)
		}
		testserver.Eventually(t, 0, "finalizer removed from orphan", func() error {
			got, err := cs.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if hasTrackingFinalizer(got) {
				return fmt.Errorf("finalizers %v", got.Finalizers)
			}
			return nil
		})
	})
}
