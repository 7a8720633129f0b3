package job

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pod builds a test pod: name, phase, and options.
type podOpt func(*corev1.Pod)

func mkPod(name string, phase corev1.PodPhase, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name),
		Finalizers: []string{batchv1.JobTrackingFinalizer}, CreationTimestamp: metav1.NewTime(t0)},
		Status: corev1.PodStatus{Phase: phase}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func noFinalizer(p *corev1.Pod) { p.Finalizers = nil }
func deleting(p *corev1.Pod)    { ts := metav1.NewTime(t0); p.DeletionTimestamp = &ts }
func ready(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
}
func index(i int) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[batchv1.JobCompletionIndexAnnotation] = fmt.Sprint(i)
	}
}
func finishedAt(t time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(t)}}}}
	}
}
func exitCode(code int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(t0)}}}}
	}
}

func mkJob(completions, parallelism *int32, opts ...func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns", UID: "job-uid"},
		Spec: batchv1.JobSpec{Completions: completions, Parallelism: parallelism, BackoffLimit: ptr.To[int32](6),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}}}}
	for _, o := range opts {
		o(j)
	}
	return j
}

func indexedMode(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion) }

func TestIntervals(t *testing.T) {
	tests := []struct {
		in          string
		completions int
		add         []int
		want        string
		total       int
	}{
		{"", 10, nil, "", 0},
		{"", 10, []int{3}, "3", 1},
		{"1,3-5,7", 10, nil, "1,3-5,7", 5},
		{"1,2", 10, []int{3}, "1-3", 3},
		{"0", 10, []int{1}, "0,1", 2},
		{"1,3-5", 10, []int{2, 6, 6, 0}, "0-6", 7},
		{"1,3-5,8", 5, nil, "1,3,4", 3}, // indexes beyond completions dropped
		{"x,2", 5, nil, "2", 1},
	}
	for _, tt := range tests {
		got := parseIntervals(tt.in, tt.completions).with(tt.add)
		if got.String() != tt.want || got.total() != tt.total {
			t.Errorf("parse(%q)+%v = %q (%d), want %q (%d)", tt.in, tt.add, got.String(), got.total(), tt.want, tt.total)
		}
	}
	iv := parseIntervals("1,3-5,9", 10)
	for i, want := range []bool{false, true, false, true, true, true, false, false, false, true} {
		if iv.has(i) != want {
			t.Errorf("has(%d) = %v", i, !want)
		}
	}
	if n := overlap(parseIntervals("0-4,8", 10), parseIntervals("3-9", 10)); n != 3 {
		t.Errorf("overlap = %d, want 3", n)
	}
}

func TestWantActiveAndCompleted(t *testing.T) {
	tests := []struct {
		name                      string
		completions, parallelism  *int32
		succeeded, active, want   int32
		completedWhenActiveIsZero bool
	}{
		{"parallelism caps", ptr.To[int32](10), ptr.To[int32](3), 0, 0, 3, false},
		{"remaining completions cap", ptr.To[int32](5), ptr.To[int32](3), 4, 0, 1, false},
		{"done", ptr.To[int32](5), ptr.To[int32](3), 5, 1, 0, true},
		{"work queue before success", nil, ptr.To[int32](3), 0, 1, 3, false},
		{"work queue after success keeps running pods", nil, ptr.To[int32](3), 1, 2, 2, true},
		{"parallelism 0", ptr.To[int32](5), ptr.To[int32](0), 0, 0, 0, false},
	}
	for _, tt := range tests {
		j := mkJob(tt.completions, tt.parallelism)
		if got := wantActive(j, tt.succeeded, tt.active); got != tt.want {
			t.Errorf("%s: wantActive = %d, want %d", tt.name, got, tt.want)
		}
		if got := completed(j, tt.succeeded, 0); got != tt.completedWhenActiveIsZero {
			t.Errorf("%s: completed = %v", tt.name, got)
		}
		if completed(j, tt.succeeded, 1) {
			t.Errorf("%s: completed with an active pod", tt.name)
		}
	}
}

func TestBackoffLeft(t *testing.T) {
	base, maxDelay := 10*time.Second, 60*time.Second
	j := mkJob(ptr.To[int32](5), ptr.To[int32](1))
	tests := []struct {
		name string
		pods []*corev1.Pod
		now  time.Time
		want time.Duration
	}{
		{"no failures", []*corev1.Pod{mkPod("a", corev1.PodSucceeded, finishedAt(t0))}, t0, 0},
		{"one failure, just now", []*corev1.Pod{mkPod("a", corev1.PodFailed, finishedAt(t0))}, t0.Add(3 * time.Second), 7 * time.Second},
		{"three failures double twice", []*corev1.Pod{
			mkPod("a", corev1.PodFailed, finishedAt(t0)), mkPod("b", corev1.PodFailed, finishedAt(t0.Add(time.Second))),
			mkPod("c", corev1.PodFailed, finishedAt(t0.Add(2*time.Second)))}, t0.Add(2 * time.Second), 40 * time.Second},
		{"capped", []*corev1.Pod{
			mkPod("a", corev1.PodFailed, finishedAt(t0)), mkPod("b", corev1.PodFailed, finishedAt(t0)),
			mkPod("c", corev1.PodFailed, finishedAt(t0)), mkPod("d", corev1.PodFailed, finishedAt(t0))}, t0, 60 * time.Second},
		{"a success resets the count", []*corev1.Pod{
			mkPod("a", corev1.PodFailed, finishedAt(t0)), mkPod("b", corev1.PodFailed, finishedAt(t0)),
			mkPod("s", corev1.PodSucceeded, finishedAt(t0.Add(time.Second))),
			mkPod("c", corev1.PodFailed, finishedAt(t0.Add(2*time.Second)))}, t0.Add(2 * time.Second), 10 * time.Second},
		{"waited long enough", []*corev1.Pod{mkPod("a", corev1.PodFailed, finishedAt(t0))}, t0.Add(time.Minute), 0},
		{"deleted pod counts as failed", []*corev1.Pod{mkPod("a", corev1.PodRunning, deleting)}, t0.Add(time.Second), 9 * time.Second},
	}
	for _, tt := range tests {
		if got := backoffLeft(j, tt.pods, tt.now, base, maxDelay); got != tt.want {
			t.Errorf("%s: backoffLeft = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFinishCondition(t *testing.T) {
	started := metav1.NewTime(t0.Add(-time.Minute))
	withStatus := func(st batchv1.JobStatus) func(*batchv1.Job) { return func(j *batchv1.Job) { j.Status = st } }
	cond := func(ct batchv1.JobConditionType, reason string) batchv1.JobCondition {
		return batchv1.JobCondition{Type: ct, Status: corev1.ConditionTrue, Reason: reason, Message: "m"}
	}
	tests := []struct {
		name   string
		job    *batchv1.Job
		pods   []*corev1.Pod
		want   batchv1.JobConditionType
		reason string
	}{
		{"nothing", mkJob(ptr.To[int32](2), ptr.To[int32](1)), []*corev1.Pod{mkPod("a", corev1.PodRunning)}, "", ""},
		{"success criteria already met", mkJob(ptr.To[int32](1), nil, withStatus(batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached)}})),
			nil, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached},
		{"failure target recorded becomes Failed", mkJob(ptr.To[int32](1), nil, withStatus(batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded)}})),
			nil, batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded},
		{"backoff limit", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1); j.Status.Failed = 1 }),
			[]*corev1.Pod{mkPod("a", corev1.PodFailed)}, batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded},
		{"within backoff limit", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1) }),
			[]*corev1.Pod{mkPod("a", corev1.PodFailed)}, "", ""},
		{"ignored failures do not count", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) {
			j.Spec.BackoffLimit = ptr.To[int32](0)
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}}}}}
		}), []*corev1.Pod{mkPod("a", corev1.PodFailed, exitCode(3))}, "", ""},
		{"FailJob rule", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{3}}}}}
		}), []*corev1.Pod{mkPod("a", corev1.PodFailed, exitCode(5))}, batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy},
		{"restarts of an OnFailure job", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) {
			j.Spec.BackoffLimit = ptr.To[int32](2)
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		}), []*corev1.Pod{mkPod("a", corev1.PodRunning, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: 2}}
		})}, batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded},
		{"deadline passed", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) {
			j.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
			j.Status.StartTime = &started
		}), nil, batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded},
		{"deadline of a suspended job", mkJob(ptr.To[int32](1), nil, func(j *batchv1.Job) {
			j.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
			j.Spec.Suspend = ptr.To(true)
			j.Status.StartTime = &started
		}), nil, "", ""},
		{"success policy", mkJob(ptr.To[int32](4), ptr.To[int32](4), indexedMode, func(j *batchv1.Job) {
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0")}}}
		}), []*corev1.Pod{mkPod("a", corev1.PodSucceeded, index(0)), mkPod("b", corev1.PodRunning, index(1))}, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy},
	}
	for _, tt := range tests {
		st := newState(tt.job, tt.pods, sets.New[types.UID]())
		got := finishCondition(st, t0)
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("%s: condition %s (%s), want none", tt.name, got.Type, got.Reason)
		case tt.want != "" && (got == nil || got.Type != tt.want || got.Reason != tt.reason):
			t.Errorf("%s: condition %+v, want %s (%s)", tt.name, got, tt.want, tt.reason)
		}
	}
}

func TestMatchSuccessPolicy(t *testing.T) {
	rules := &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
		{SucceededIndexes: ptr.To("0-2"), SucceededCount: ptr.To[int32](2)},
		{SucceededCount: ptr.To[int32](4)},
	}}
	tests := []struct {
		succeeded string
		msg       string
	}{
		{"", ""},
		{"0", ""},
		{"0,2", "Matched rules at index 0"},
		{"3-6", "Matched rules at index 1"},
	}
	for _, tt := range tests {
		msg, ok := matchSuccessPolicy(rules, 10, parseIntervals(tt.succeeded, 10))
		if msg != tt.msg || ok != (tt.msg != "") {
			t.Errorf("succeeded %q: %q, %v; want %q", tt.succeeded, msg, ok, tt.msg)
		}
	}
}

// TestTracking drives the counting protocol through a stale cache: a pod
// whose finalizer was removed but still shows it must not count twice.
func TestTracking(t *testing.T) {
	j := mkJob(ptr.To[int32](3), ptr.To[int32](3))
	pods := []*corev1.Pod{
		mkPod("s1", corev1.PodSucceeded), mkPod("f1", corev1.PodFailed),
		mkPod("r1", corev1.PodRunning), mkPod("old", corev1.PodSucceeded, noFinalizer),
	}
	j.Status.Succeeded = 1 // "old", counted long ago

	// Sync 1: s1 and f1 become uncounted, and their finalizers can go.
	st := newState(j.DeepCopy(), pods, sets.New[types.UID]())
	if st.succeeded != 2 || st.failed != 1 || len(st.active) != 1 {
		t.Fatalf("counts %d/%d/%d", st.succeeded, st.failed, len(st.active))
	}
	if countUncounted(&st.job.Status, withFinalizer(st)) {
		t.Fatalf("nothing to count yet")
	}
	plan := planTracking(st)
	if !plan.flush || len(plan.remove) != 2 {
		t.Fatalf("plan %+v", plan)
	}
	u := st.job.Status.UncountedTerminatedPods
	if fmt.Sprint(u.Succeeded, u.Failed) != "[s1] [f1]" {
		t.Fatalf("uncounted %v %v", u.Succeeded, u.Failed)
	}
	// The finalizers are removed; the cache does not show it yet.
	with := withFinalizer(st)
	with.Delete("s1", "f1")
	countUncounted(&st.job.Status, with)
	if st.job.Status.Succeeded != 2 || st.job.Status.Failed != 1 || len(u.Succeeded)+len(u.Failed) != 0 {
		t.Fatalf("status after counting %+v", st.job.Status)
	}

	// Sync 2 with the stale cache: the removals are expected, so nothing
	// new is counted or planned.
	st2 := newState(st.job.DeepCopy(), pods, sets.New[types.UID]("s1", "f1"))
	if st2.succeeded != 2 || st2.failed != 1 {
		t.Fatalf("recounted: %d/%d", st2.succeeded, st2.failed)
	}
	if plan := planTracking(st2); plan.flush || len(plan.remove) != 0 {
		t.Fatalf("plan on stale cache %+v", plan)
	}

	// A failing job counts its still-running pods as failed.
	st3 := newState(st.job.DeepCopy(), pods, sets.New[types.UID]("s1", "f1"))
	st3.finished = newCondition(batchv1.JobFailed, "BackoffLimitExceeded", "m", t0)
	plan = planTracking(st3)
	if len(plan.remove) != 1 || plan.remove[0].Name != "r1" || fmt.Sprint(st3.job.Status.UncountedTerminatedPods.Failed) != "[r1]" {
		t.Fatalf("failing plan %+v uncounted %+v", plan, st3.job.Status.UncountedTerminatedPods)
	}
	if enactFinished(st3, t0) {
		t.Fatalf("finished with uncounted pods")
	}
}

func TestTrackingIndexed(t *testing.T) {
	j := mkJob(ptr.To[int32](4), ptr.To[int32](4), indexedMode)
	j.Status.CompletedIndexes = "0"
	j.Status.Succeeded = 1
	pods := []*corev1.Pod{
		mkPod("a", corev1.PodSucceeded, index(2)), mkPod("b", corev1.PodSucceeded, index(1)),
		mkPod("dup", corev1.PodSucceeded, index(2)), mkPod("bad", corev1.PodSucceeded, index(9)),
		mkPod("f", corev1.PodFailed, index(3)),
	}
	st := newState(j, pods, sets.New[types.UID]())
	if st.succeeded != 3 {
		t.Fatalf("succeeded %d", st.succeeded)
	}
	plan := planTracking(st)
	if st.job.Status.CompletedIndexes != "0-2" || st.job.Status.Succeeded != 3 {
		t.Fatalf("status %+v", st.job.Status)
	}
	if len(plan.remove) != 5 || fmt.Sprint(st.job.Status.UncountedTerminatedPods.Failed) != "[f]" {
		t.Fatalf("plan %d removals, uncounted %+v", len(plan.remove), st.job.Status.UncountedTerminatedPods)
	}
	if got := pendingIndexes(st, 10); fmt.Sprint(got) != "[3]" {
		t.Fatalf("pending indexes %v", got)
	}
}

func TestEnactFinished(t *testing.T) {
	j := mkJob(ptr.To[int32](1), nil)
	j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	st := &state{job: j, finished: newCondition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached, msgCompletions, t0), terminating: 1}
	if enactFinished(st, t0) {
		t.Fatal("finished with a terminating pod")
	}
	st.terminating = 0
	if !enactFinished(st, t0) || j.Status.CompletionTime == nil || findCondition(j, batchv1.JobComplete) == nil {
		t.Fatalf("status %+v", j.Status)
	}
}

func TestRecordInterimCondition(t *testing.T) {
	j := mkJob(ptr.To[int32](1), nil)
	st := &state{job: j, finished: newCondition(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit, t0)}
	if !recordInterimCondition(st, t0) || st.finished.Type != batchv1.JobFailed || findCondition(j, batchv1.JobFailureTarget) == nil {
		t.Fatalf("failure target: %+v / %+v", st.finished, j.Status.Conditions)
	}
	st = &state{job: j, finished: newCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions, t0)}
	if !recordInterimCondition(st, t0) || st.finished.Type != batchv1.JobComplete || st.finished.Reason != batchv1.JobReasonCompletionsReached {
		t.Fatalf("success: %+v", st.finished)
	}
	if recordInterimCondition(&state{job: j, finished: findCondition(j, batchv1.JobSuccessCriteriaMet)}, t0) {
		t.Fatal("SuccessCriteriaMet written twice")
	}
}

func TestPodsForRemoval(t *testing.T) {
	newer := func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t0.Add(time.Minute)) }
	scheduled := func(p *corev1.Pod) { p.Spec.NodeName = "n1" }
	j := mkJob(ptr.To[int32](10), ptr.To[int32](3))
	active := []*corev1.Pod{
		mkPod("running-ready", corev1.PodRunning, scheduled, ready),
		mkPod("running", corev1.PodRunning, scheduled),
		mkPod("pending", corev1.PodPending, scheduled),
		mkPod("unscheduled", corev1.PodPending),
		mkPod("running-newer", corev1.PodRunning, scheduled, newer),
	}
	var got []string
	for _, p := range podsForRemoval(j, active, 4) {
		got = append(got, p.Name)
	}
	if want := "unscheduled pending running-newer running"; strings.Join(got, " ") != want {
		t.Errorf("removal order %q, want %q", strings.Join(got, " "), want)
	}
	ij := mkJob(ptr.To[int32](3), ptr.To[int32](3), indexedMode)
	got = nil
	for _, p := range podsForRemoval(ij, []*corev1.Pod{
		mkPod("i0", corev1.PodRunning, index(0), scheduled, ready), mkPod("i0b", corev1.PodPending, index(0)),
		mkPod("i7", corev1.PodRunning, index(7)), mkPod("noidx", corev1.PodRunning), mkPod("i1", corev1.PodRunning, index(1)),
	}, 0) {
		got = append(got, p.Name)
	}
	if want := "i7 noidx i0b"; strings.Join(got, " ") != want {
		t.Errorf("indexed removals %q, want %q", strings.Join(got, " "), want)
	}
}

func TestNewPod(t *testing.T) {
	j := mkJob(ptr.To[int32](3), nil, indexedMode)
	j.Spec.Template.Labels = map[string]string{"app": "x"}
	j.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c"}, {Name: "d", Env: []corev1.EnvVar{{Name: completionIndexEnv, Value: "own"}}}}
	p := newPod(j, 2)
	if p.GenerateName != "j-2-" || p.Spec.Hostname != "j-2" || p.Labels["app"] != "x" ||
		p.Labels[batchv1.JobCompletionIndexAnnotation] != "2" || p.Annotations[batchv1.JobCompletionIndexAnnotation] != "2" {
		t.Fatalf("pod meta %+v hostname %q", p.ObjectMeta, p.Spec.Hostname)
	}
	if !hasTrackingFinalizer(p) || !metav1.IsControlledBy(p, j) {
		t.Fatalf("finalizers %v owners %v", p.Finalizers, p.OwnerReferences)
	}
	if e := p.Spec.Containers[0].Env; len(e) != 1 || e[0].ValueFrom == nil {
		t.Fatalf("env %+v", e)
	}
	if e := p.Spec.Containers[1].Env; len(e) != 1 || e[0].Value != "own" {
		t.Fatalf("env %+v", e)
	}
	if j.Spec.Template.Labels[batchv1.JobCompletionIndexAnnotation] != "" {
		t.Fatal("template modified")
	}
	if p := newPod(mkJob(nil, nil), noIndex); p.GenerateName != "j-" || p.Spec.Hostname != "" {
		t.Fatalf("non-indexed pod %q %q", p.GenerateName, p.Spec.Hostname)
	}
	long := strings.Repeat("a", 63)
	if got := indexedGenerateName(long, 12); len(got) != maxGeneratedNameLength || !strings.HasSuffix(got, "-12-") {
		t.Fatalf("indexedGenerateName = %q", got)
	}
}

func TestJudgeFailure(t *testing.T) {
	policy := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}},
		{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("main"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1}}},
	}}
	term := func(name string, code int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
	}
	tests := []struct {
		name    string
		status  corev1.PodStatus
		failJob string
		count   bool
	}{
		{"disruption ignored", corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}}, "", false},
		{"exit 42 in main fails the job", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{term("main", 42)}}, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1", true},
		{"exit 42 elsewhere counts", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{term("side", 42)}}, "", true},
		{"exit 1 matches nothing", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{term("main", 1)}}, "", true},
		{"exit 0 never matches", corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{term("main", 0)}}, "", true},
	}
	for _, tt := range tests {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Status: tt.status}
		if v := judgeFailure(policy, p); v.failJob != tt.failJob || v.count != tt.count {
			t.Errorf("%s: %+v", tt.name, v)
		}
	}
}
