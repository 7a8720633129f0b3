package job

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// Reconcile implements controller.Reconciler for a job key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || ns == "" {
		return nil
	}
	shared, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return c.releaseOrphans(ctx, ns, name)
	}
	if err != nil {
		return err
	}
	if m := shared.Spec.ManagedBy; m != nil && *m != batchv1.JobControllerName {
		return nil
	}
	owned, orphans, err := c.podsOf(shared)
	if err != nil {
		return err
	}
	if isFinished(shared) {
		// Pods of a finished job are all counted: any finalizer left
		// (e.g. after a crash) just goes.
		c.exp.forget(key)
		_, err := c.removeFinalizers(ctx, key, append(owned, orphans...))
		return err
	}
	if _, err := c.removeFinalizers(ctx, key, orphans); err != nil {
		return err
	}
	err = c.sync(ctx, key, shared.DeepCopy(), owned)
	if apierrors.IsConflict(err) {
		// The cached job was behind; its newer version is on the way and
		// will trigger a sync of its own.
		c.cfg.Logger.Debug("job status conflict; retrying", "job", key)
		return controller.RequeueAfter(time.Second)
	}
	return err
}

// podsOf splits the namespace's pods into those the job controls and
// orphans left with the tracking finalizer by an earlier job of the same
// name.
func (c *Controller) podsOf(j *batchv1.Job) (owned, orphans []*corev1.Pod, err error) {
	all, err := c.pods.Pods(j.Namespace).List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	for _, p := range all {
		if ref := metav1.GetControllerOf(p); ref != nil && ref.UID == j.UID {
			owned = append(owned, p)
			continue
		}
		if key, ok := jobKeyOf(p); ok && hasTrackingFinalizer(p) && key == j.Namespace+"/"+j.Name && ownerUID(p) != j.UID {
			orphans = append(orphans, p)
		}
	}
	return owned, orphans, nil
}

// ownerUID is the UID of the job a pod was made for.
func ownerUID(p *corev1.Pod) types.UID {
	if ref := metav1.GetControllerOf(p); ref != nil {
		return ref.UID
	}
	return types.UID(p.Labels[batchv1.ControllerUidLabel])
}

// releaseOrphans removes the tracking finalizer from pods of a job that no
// longer exists, after checking with the API server that it is gone.
func (c *Controller) releaseOrphans(ctx context.Context, ns, name string) error {
	all, err := c.pods.Pods(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	var candidates []*corev1.Pod
	for _, p := range all {
		if key, ok := jobKeyOf(p); ok && key == ns+"/"+name && hasTrackingFinalizer(p) {
			candidates = append(candidates, p)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	var live types.UID
	j, err := c.cfg.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("checking job %s/%s: %w", ns, name, err)
	case !isFinished(j):
		// The cache is behind: the job's own sync handles its pods.
		live = j.UID
	}
	var orphans []*corev1.Pod
	for _, p := range candidates {
		if live == "" || ownerUID(p) != live {
			orphans = append(orphans, p)
		}
	}
	_, err = c.removeFinalizers(ctx, ns+"/"+name, orphans)
	return err
}

// sync brings one unfinished job forward: decide whether it is finishing,
// create or delete pods, and track finished pods into the status.
func (c *Controller) sync(ctx context.Context, key string, j *batchv1.Job, owned []*corev1.Pod) error {
	now := c.cfg.Clock.Now()
	satisfied := c.exp.satisfied(key)
	st := newState(j, owned, c.exp.removing(key))
	if j.Status.StartTime == nil && !suspended(j) {
		j.Status.StartTime = &metav1.Time{Time: now}
	}
	st.finished = finishCondition(st, now)
	var requeue time.Duration
	if left, ok := deadlineLeft(j, now); ok && st.finished == nil {
		requeue = left
	}
	active := int32(len(st.active))
	var manageErr error
	suspendChanged := false
	if st.finished != nil {
		// Failing or succeeding early: stop whatever still runs.
		ready, deleted, err := c.deletePods(ctx, key, j, st.active, false)
		if deleted != active || !satisfied {
			// Pods may remain, or be in flight: finish on a later sync.
			st.finished = nil
		}
		active -= deleted
		st.terminating += deleted
		st.ready -= ready
		manageErr = err
	} else {
		managed := false
		if satisfied && j.DeletionTimestamp == nil {
			var wait time.Duration
			active, wait, manageErr = c.manage(ctx, key, st, now)
			managed = true
			if wait > 0 && (requeue <= 0 || wait < requeue) {
				requeue = wait
			}
		}
		switch {
		case completed(j, st.succeeded, active):
			st.finished = newCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions, now)
		case managed && suspended(j):
			if setCondition(j, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, msgSuspended, now) {
				suspendChanged = true
				c.cfg.Recorder.Event(j, corev1.EventTypeNormal, "Suspended", msgSuspended)
			}
			// A suspended job has not started: it starts afresh (and its
			// deadline counts from then) when resumed. The API server only
			// lets startTime change while the job is suspended.
			if j.Status.StartTime != nil {
				j.Status.StartTime = nil
				suspendChanged = true
			}
		case managed:
			if setCondition(j, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, msgResumed, now) {
				suspendChanged = true
				c.cfg.Recorder.Event(j, corev1.EventTypeNormal, "Resumed", msgResumed)
				// The active deadline counts from the resumption.
				j.Status.StartTime = &metav1.Time{Time: now}
			}
		}
	}
	flush := suspendChanged || active != j.Status.Active ||
		j.Status.Ready == nil || *j.Status.Ready != st.ready ||
		j.Status.Terminating == nil || *j.Status.Terminating != st.terminating
	j.Status.Active = active
	ready, terminating := st.ready, st.terminating
	j.Status.Ready, j.Status.Terminating = &ready, &terminating
	if err := c.track(ctx, key, st, flush, now); err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	if requeue > 0 {
		return controller.RequeueAfter(requeue)
	}
	return nil
}

// manage creates or deletes pods so that the right number run, and returns
// the resulting active count and, when failures hold creation back, how
// long to wait.
func (c *Controller) manage(ctx context.Context, key string, st *state, now time.Time) (int32, time.Duration, error) {
	j := st.job
	active := int32(len(st.active))
	if suspended(j) {
		ready, deleted, err := c.deletePods(ctx, key, j, st.active, true)
		st.ready -= ready
		st.terminating += deleted
		return active - deleted, 0, err
	}
	want := wantActive(j, st.succeeded, active)
	rm := podsForRemoval(j, st.active, int(max(0, active-want)))
	if len(rm) > maxPodChangesPerSync {
		rm = rm[:maxPodChangesPerSync]
	}
	if len(rm) > 0 {
		// Deleting takes precedence: creations wait for the next sync.
		ready, deleted, err := c.deletePods(ctx, key, j, rm, true)
		st.ready -= ready
		st.terminating += deleted
		return active - deleted, 0, err
	}
	var terminating int32
	if onlyReplaceFailed(j) {
		terminating = st.terminating
	}
	diff := int(want - terminating - active)
	if diff <= 0 {
		return active, 0, nil
	}
	if wait := backoffLeft(j, st.pods, now, c.cfg.PodFailureBackoff, c.cfg.MaxPodFailureBackoff); wait > 0 {
		return active, wait, nil
	}
	diff = min(diff, maxPodChangesPerSync)
	var indexes []int
	if isIndexed(j) {
		indexes = pendingIndexes(st, diff)
		diff = len(indexes)
	}
	if diff == 0 {
		return active, 0, nil
	}
	created, err := c.createPods(ctx, key, j, diff, indexes)
	return active + created, 0, err
}

// track counts finished pods through the status and their finalizers (see
// the comment at the top of track.go), then sets the terminal condition
// when the job is done. flush says the status already needs writing.
func (c *Controller) track(ctx context.Context, key string, st *state, flush bool, now time.Time) error {
	with := withFinalizer(st)
	if countUncounted(&st.job.Status, with) {
		flush = true
	}
	plan := planTracking(st)
	flush = flush || plan.flush
	if recordInterimCondition(st, now) {
		flush = true
	}
	if flush {
		if err := c.updateStatus(ctx, st); err != nil {
			return fmt.Errorf("recording uncounted pods of %s: %w", key, err)
		}
		flush = false
	}
	removed, rmErr := c.removeFinalizers(ctx, key, plan.remove)
	for _, uid := range removed {
		with.Delete(uid)
	}
	if countUncounted(&st.job.Status, with) {
		flush = true
	}
	if rmErr != nil {
		if flush {
			if err := c.updateStatus(ctx, st); err != nil {
				return fmt.Errorf("counting pods of %s: %w", key, err)
			}
		}
		return rmErr
	}
	finished := !plan.reachedMax && enactFinished(st, now)
	if !flush && !finished {
		return nil
	}
	if err := c.updateStatus(ctx, st); err != nil {
		return fmt.Errorf("updating status of %s: %w", key, err)
	}
	if finished {
		c.recordFinished(st)
	}
	return nil
}

// updateStatus writes the working status and continues from what the API
// server stored.
func (c *Controller) updateStatus(ctx context.Context, st *state) error {
	out, err := c.cfg.Client.BatchV1().Jobs(st.job.Namespace).UpdateStatus(ctx, st.job, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	if out.Status.UncountedTerminatedPods == nil {
		out.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	st.job = out
	return nil
}

// recordFinished emits the events of a job that just finished.
func (c *Controller) recordFinished(st *state) {
	j, f := st.job, st.finished
	if f.Type == batchv1.JobComplete {
		if j.Spec.Completions != nil && j.Status.Succeeded > *j.Spec.Completions {
			c.cfg.Recorder.Event(j, corev1.EventTypeWarning, "TooManySucceededPods", "Too many succeeded pods running after completion count reached")
		}
		c.cfg.Recorder.Event(j, corev1.EventTypeNormal, "Completed", "Job completed")
		return
	}
	c.cfg.Recorder.Event(j, corev1.EventTypeWarning, f.Reason, f.Message)
}
