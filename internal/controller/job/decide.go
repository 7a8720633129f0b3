package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Condition reasons and messages, as Kubernetes' job controller writes them.
const (
	msgBackoffLimit      = "Job has reached the specified backoff limit"
	msgDeadline          = "Job was active longer than specified deadline"
	msgCompletions       = "Reached expected number of succeeded pods"
	reasonSuspended      = "JobSuspended"
	reasonResumed        = "JobResumed"
	msgSuspended         = "Job suspended"
	msgResumed           = "Job resumed"
	maxUncountedPods     = 500
	maxPodChangesPerSync = 500
)

// state is what one sync knows about a job and the pods it controls.
type state struct {
	job  *batchv1.Job // working copy; its status is what gets written
	pods []*corev1.Pod
	// active pods are neither terminal nor being deleted.
	active      []*corev1.Pod
	ready       int32
	terminating int32
	// succeeded and failed include finished pods not counted in the status
	// yet; failures ignored by the pod failure policy are left out.
	succeeded, failed int32
	// uncountedSucceeded and uncountedFailed are the UIDs the status listed
	// as uncounted when the sync began.
	uncountedSucceeded, uncountedFailed sets.Set[types.UID]
	// removing are pods whose finalizer this controller removed and whose
	// update the pod cache has not shown yet: they count as finalizer-free.
	removing sets.Set[types.UID]
	// prevSucceeded and succeededIdx are an indexed job's completed indexes
	// according to the status and including newly succeeded pods.
	prevSucceeded, succeededIdx intervals
	// finished is the condition the job is heading for, if any: an interim
	// SuccessCriteriaMet or FailureTarget, or Failed once FailureTarget is
	// recorded.
	finished *batchv1.JobCondition
}

// newState counts the job's pods. removing lists pods whose tracking
// finalizer was removed but whose update is not in the cache yet.
func newState(j *batchv1.Job, pods []*corev1.Pod, removing sets.Set[types.UID]) *state {
	if j.Status.UncountedTerminatedPods == nil {
		j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	u := j.Status.UncountedTerminatedPods
	st := &state{job: j, pods: pods, removing: removing,
		uncountedSucceeded: sets.New(u.Succeeded...), uncountedFailed: sets.New(u.Failed...)}
	for _, p := range pods {
		switch {
		case isActive(p):
			st.active = append(st.active, p)
			if isReady(p) {
				st.ready++
			}
		case isTerminating(p):
			st.terminating++
		}
	}
	st.succeeded = j.Status.Succeeded + int32(len(u.Succeeded))
	st.failed = j.Status.Failed + int32(len(u.Failed))
	for _, p := range pods {
		if !st.untracked(p) {
			continue
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded && !st.uncountedSucceeded.Has(p.UID):
			st.succeeded++
		case isFailed(p, j) && !st.uncountedFailed.Has(p.UID) && judgeFailure(j.Spec.PodFailurePolicy, p).count:
			st.failed++
		}
	}
	if isIndexed(j) {
		completions := int(*j.Spec.Completions)
		st.prevSucceeded = parseIntervals(j.Status.CompletedIndexes, completions)
		var idx []int
		for _, p := range pods {
			if i, ok := validIndex(p, *j.Spec.Completions); ok && p.Status.Phase == corev1.PodSucceeded && hasTrackingFinalizer(p) {
				idx = append(idx, i)
			}
		}
		st.succeededIdx = st.prevSucceeded.with(idx)
		st.succeeded = int32(st.succeededIdx.total())
	}
	return st
}

// untracked reports whether a pod still carries the tracking finalizer as
// far as this sync knows and, for an indexed job, has a valid index: such
// a pod's outcome is not in the status counters yet.
func (st *state) untracked(p *corev1.Pod) bool {
	if !hasTrackingFinalizer(p) || st.removing.Has(p.UID) {
		return false
	}
	if isIndexed(st.job) {
		_, ok := validIndex(p, *st.job.Spec.Completions)
		return ok
	}
	return true
}

// newCondition is a job condition that changed at now.
func newCondition(t batchv1.JobConditionType, reason, msg string, now time.Time) *batchv1.JobCondition {
	return &batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
		LastProbeTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now)}
}

// findCondition returns the job's condition of type t with status True.
func findCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// isFinished reports whether the job has Complete=True or Failed=True.
func isFinished(j *batchv1.Job) bool {
	return findCondition(j, batchv1.JobComplete) != nil || findCondition(j, batchv1.JobFailed) != nil
}

// finishCondition decides whether the job has met its end before any pods
// are created: success criteria already met, a failure target already
// recorded (which becomes Failed), a FailJob rule matched, the backoff
// limit or the active deadline passed, or the success policy met.
func finishCondition(st *state, now time.Time) *batchv1.JobCondition {
	j := st.job
	if c := findCondition(j, batchv1.JobSuccessCriteriaMet); c != nil {
		return c.DeepCopy()
	}
	if c := findCondition(j, batchv1.JobFailureTarget); c != nil {
		return newCondition(batchv1.JobFailed, c.Reason, c.Message, now)
	}
	if j.Spec.PodFailurePolicy != nil {
		for _, p := range st.pods {
			if isFailed(p, j) {
				if v := judgeFailure(j.Spec.PodFailurePolicy, p); v.failJob != "" {
					return newCondition(batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy, v.failJob, now)
				}
			}
		}
	}
	if st.failed > backoffLimit(j) || pastBackoffLimitOnFailure(j, st.pods) {
		return newCondition(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit, now)
	}
	if left, ok := deadlineLeft(j, now); ok && left <= 0 {
		return newCondition(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded, msgDeadline, now)
	}
	if isIndexed(j) {
		if msg, ok := matchSuccessPolicy(j.Spec.SuccessPolicy, *j.Spec.Completions, st.succeededIdx); ok {
			return newCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy, msg, now)
		}
	}
	return nil
}

func backoffLimit(j *batchv1.Job) int32 {
	if j.Spec.BackoffLimit == nil {
		return 6
	}
	return *j.Spec.BackoffLimit
}

// pastBackoffLimitOnFailure reports whether the container restarts of the
// running and pending pods of a restartPolicy=OnFailure job reached the
// backoff limit.
func pastBackoffLimitOnFailure(j *batchv1.Job, pods []*corev1.Pod) bool {
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodPending {
			continue
		}
		for _, cs := range p.Status.InitContainerStatuses {
			restarts += cs.RestartCount
		}
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
	}
	if limit := backoffLimit(j); limit > 0 {
		return restarts >= limit
	}
	return restarts > 0
}

// deadlineLeft is how long a started, unsuspended job with an active
// deadline has left (ok is false when no deadline applies).
func deadlineLeft(j *batchv1.Job, now time.Time) (time.Duration, bool) {
	if j.Spec.ActiveDeadlineSeconds == nil || j.Status.StartTime == nil || suspended(j) {
		return 0, false
	}
	return time.Duration(*j.Spec.ActiveDeadlineSeconds)*time.Second - now.Sub(j.Status.StartTime.Time), true
}

func suspended(j *batchv1.Job) bool { return j.Spec.Suspend != nil && *j.Spec.Suspend }

// completed reports whether the job's succeeded pods meet its completions
// (any success, when completions is unset) with no pod left running.
func completed(j *batchv1.Job, succeeded, active int32) bool {
	if active > 0 {
		return false
	}
	if j.Spec.Completions == nil {
		return succeeded > 0
	}
	return succeeded >= *j.Spec.Completions
}

// wantActive is how many pods should run: parallelism, capped by the
// completions still missing. A job without completions keeps parallelism
// pods until one succeeds, then lets the running ones finish.
func wantActive(j *batchv1.Job, succeeded, active int32) int32 {
	parallelism := int32(1)
	if j.Spec.Parallelism != nil {
		parallelism = *j.Spec.Parallelism
	}
	if j.Spec.Completions == nil {
		if succeeded > 0 {
			return active
		}
		return parallelism
	}
	return max(0, min(*j.Spec.Completions-succeeded, parallelism))
}

// backoffLeft is how long pod creation must wait after failures: the base
// delay doubles with each failure since the last success, up to maxDelay,
// and counts from the last failure.
func backoffLeft(j *batchv1.Job, pods []*corev1.Pod, now time.Time, base, maxDelay time.Duration) time.Duration {
	var lastSuccess, lastFailure time.Time
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded {
			if t := finishTime(p); t.After(lastSuccess) {
				lastSuccess = t
			}
		}
	}
	failures := 0
	for _, p := range pods {
		if !isFailed(p, j) {
			continue
		}
		if t := finishTime(p); t.After(lastSuccess) {
			failures++
			if t.After(lastFailure) {
				lastFailure = t
			}
		}
	}
	if failures == 0 {
		return 0
	}
	delay := base
	for i := 1; i < failures && delay < maxDelay; i++ {
		delay *= 2
	}
	delay = min(delay, maxDelay)
	return max(0, delay-now.Sub(lastFailure))
}

// pendingIndexes returns up to n of the lowest indexes that have neither
// succeeded nor a pod working on them (or, when only failed pods are
// replaced, a pod still terminating).
func pendingIndexes(st *state, n int) []int {
	j := st.job
	busy := sets.New[int]()
	for _, p := range st.pods {
		if isActive(p) || (onlyReplaceFailed(j) && isTerminating(p)) {
			if i, ok := validIndex(p, *j.Spec.Completions); ok {
				busy.Insert(i)
			}
		}
	}
	var out []int
	for i := 0; i < int(*j.Spec.Completions) && len(out) < n; i++ {
		if !busy.Has(i) && !st.succeededIdx.has(i) {
			out = append(out, i)
		}
	}
	return out
}

// setCondition sets a condition of type t to the given status, reason and
// message, moving its transition time only when something changed. A
// False condition is only written over an existing one. It reports whether
// the list changed.
func setCondition(j *batchv1.Job, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status == status && c.Reason == reason && c.Message == msg {
			return false
		}
		nc := newCondition(t, reason, msg, now)
		nc.Status = status
		*c = *nc
		return true
	}
	if status == corev1.ConditionFalse {
		return false
	}
	nc := newCondition(t, reason, msg, now)
	nc.Status = status
	j.Status.Conditions = append(j.Status.Conditions, *nc)
	return true
}
