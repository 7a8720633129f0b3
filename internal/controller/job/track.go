package job

import (
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Finished pods are counted exactly once through the tracking finalizer:
//
//  1. a finished pod that still has the finalizer is added to
//     status.uncountedTerminatedPods (an indexed job's successes go
//     straight into completedIndexes), and the status is written;
//  2. the finalizer is removed from the pod;
//  3. pods listed as uncounted that no longer have the finalizer move into
//     the succeeded and failed counters, and the status is written again.
//
// A crash between any two steps is repaired by the next sync, and a pod is
// never counted twice because a pod without the finalizer is never listed
// again.

// trackPlan is step 1's outcome: the pods whose finalizer can go, and
// whether the status changed.
type trackPlan struct {
	remove     []*corev1.Pod
	flush      bool
	reachedMax bool
}

// withFinalizer is the set of pods that still carry the tracking finalizer
// as far as this sync knows.
func withFinalizer(st *state) sets.Set[types.UID] {
	s := sets.New[types.UID]()
	for _, p := range st.pods {
		if hasTrackingFinalizer(p) && !st.removing.Has(p.UID) {
			s.Insert(p.UID)
		}
	}
	return s
}

// countUncounted moves uncounted pods that no longer carry the finalizer
// into the status counters and reports whether anything moved.
func countUncounted(status *batchv1.JobStatus, withFinalizer sets.Set[types.UID]) bool {
	u := status.UncountedTerminatedPods
	if u == nil {
		return false
	}
	keep := func(uids []types.UID) []types.UID {
		var out []types.UID
		for _, uid := range uids {
			if withFinalizer.Has(uid) {
				out = append(out, uid)
			}
		}
		return out
	}
	s, f := keep(u.Succeeded), keep(u.Failed)
	changed := len(s) != len(u.Succeeded) || len(f) != len(u.Failed)
	status.Succeeded += int32(len(u.Succeeded) - len(s))
	status.Failed += int32(len(u.Failed) - len(f))
	u.Succeeded, u.Failed = s, f
	return changed
}

// planTracking records finished pods in the working status (step 1) and
// picks the pods whose finalizer can be removed: succeeded and failed pods,
// and every pod once the job is finishing or being deleted.
func planTracking(st *state) trackPlan {
	j := st.job
	u := j.Status.UncountedTerminatedPods
	var plan trackPlan
	pods := st.pods
	indexed := isIndexed(j)
	if indexed {
		pods = append([]*corev1.Pod(nil), pods...)
		sort.SliceStable(pods, func(a, b int) bool { return completionIndex(pods[a]) < completionIndex(pods[b]) })
	}
	failing := st.finished != nil && st.finished.Type != batchv1.JobSuccessCriteriaMet && st.finished.Type != batchv1.JobComplete
	var newIdx []int
	for _, p := range pods {
		if !hasTrackingFinalizer(p) || st.removing.Has(p.UID) {
			continue
		}
		failed := isFailed(p, j)
		if j.DeletionTimestamp == nil && st.finished == nil && p.Status.Phase != corev1.PodSucceeded && !failed {
			continue
		}
		plan.remove = append(plan.remove, p)
		idx, validIdx := 0, true
		if indexed {
			idx, validIdx = validIndex(p, *j.Spec.Completions)
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded && !st.uncountedFailed.Has(p.UID):
			if indexed {
				if validIdx && !st.prevSucceeded.has(idx) {
					newIdx = append(newIdx, idx)
					plan.flush = true
				}
			} else if !st.uncountedSucceeded.Has(p.UID) {
				u.Succeeded = append(u.Succeeded, p.UID)
				plan.flush = true
			}
		case failed || failing:
			if !st.uncountedFailed.Has(p.UID) && validIdx && judgeFailure(j.Spec.PodFailurePolicy, p).count {
				u.Failed = append(u.Failed, p.UID)
				plan.flush = true
			}
		}
		if len(newIdx)+len(u.Succeeded)+len(u.Failed) >= maxUncountedPods {
			plan.reachedMax = true
			break
		}
	}
	if indexed {
		st.succeededIdx = st.succeededIdx.with(newIdx)
		if s := st.succeededIdx.String(); s != j.Status.CompletedIndexes {
			j.Status.CompletedIndexes = s
			plan.flush = true
		}
		j.Status.Succeeded = int32(st.succeededIdx.total())
	}
	return plan
}

// recordInterimCondition writes the interim condition of a finishing job
// (FailureTarget or SuccessCriteriaMet) into the working status, before
// finalizers are removed, and turns st.finished into the terminal
// condition (Failed or Complete) to set once all pods are accounted for.
func recordInterimCondition(st *state, now time.Time) bool {
	f := st.finished
	if f == nil {
		return false
	}
	j := st.job
	switch f.Type {
	case batchv1.JobFailureTarget:
		j.Status.Conditions = append(j.Status.Conditions, *f)
		st.finished = newCondition(batchv1.JobFailed, f.Reason, f.Message, now)
		return true
	case batchv1.JobSuccessCriteriaMet:
		changed := false
		if findCondition(j, batchv1.JobSuccessCriteriaMet) == nil {
			j.Status.Conditions = append(j.Status.Conditions, *f)
			changed = true
		}
		st.finished = newCondition(batchv1.JobComplete, f.Reason, f.Message, now)
		return changed
	}
	return false
}

// enactFinished sets the terminal condition once no pod is left uncounted
// or terminating, with the completion time for Complete. It reports
// whether the job is now finished.
func enactFinished(st *state, now time.Time) bool {
	f := st.finished
	if f == nil {
		return false
	}
	j := st.job
	if u := j.Status.UncountedTerminatedPods; u != nil && len(u.Succeeded)+len(u.Failed) > 0 {
		return false
	}
	if st.terminating > 0 {
		return false
	}
	setCondition(j, f.Type, corev1.ConditionTrue, f.Reason, f.Message, now)
	if f.Type == batchv1.JobComplete {
		c := findCondition(j, batchv1.JobComplete)
		t := c.LastTransitionTime
		j.Status.CompletionTime = &t
	}
	return true
}
