package job

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// noIndex is the completion index of a pod without a valid one.
const noIndex = -1

// maxGeneratedNameLength is how much of a generateName prefix the API
// server keeps before appending its random suffix.
const maxGeneratedNameLength = 58

// completionIndexEnv is the environment variable that tells an indexed
// job's containers their index.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")

// isActive reports whether a pod still runs or may run: not terminal and
// not being deleted.
func isActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// isTerminating reports whether a pod is being deleted but has not
// finished yet.
func isTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// isReady reports whether a pod has Ready=True.
func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// onlyReplaceFailed reports whether the job waits for pods to reach the
// Failed phase before counting and replacing them (podReplacementPolicy
// Failed, implied by a pod failure policy).
func onlyReplaceFailed(j *batchv1.Job) bool {
	if j.Spec.PodFailurePolicy != nil {
		return true
	}
	return j.Spec.PodReplacementPolicy != nil && *j.Spec.PodReplacementPolicy == batchv1.Failed
}

// isFailed reports whether a pod counts as failed: phase Failed or, unless
// the job only replaces failed pods, deleted before it succeeded.
func isFailed(p *corev1.Pod, j *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailed(j) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

func hasTrackingFinalizer(p *corev1.Pod) bool {
	for _, f := range p.Finalizers {
		if f == batchv1.JobTrackingFinalizer {
			return true
		}
	}
	return false
}

// completionIndex reads a pod's completion index annotation.
func completionIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return noIndex
	}
	return i
}

// validIndex returns the pod's index if it is below completions.
func validIndex(p *corev1.Pod, completions int32) (int, bool) {
	i := completionIndex(p)
	return i, i != noIndex && i < int(completions)
}

// finishTime estimates when a pod finished: the last container exit, the
// time it stopped being ready, its deletion, or (failing all) its creation.
func finishTime(p *corev1.Pod) time.Time {
	var last time.Time
	complete := len(p.Status.ContainerStatuses) > 0
	for _, cs := range p.Status.ContainerStatuses {
		t := cs.State.Terminated
		if t == nil || t.FinishedAt.IsZero() {
			complete = false
			break
		}
		if t.FinishedAt.After(last) {
			last = t.FinishedAt.Time
		}
	}
	if complete {
		return last
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		grace := int64(0)
		if p.DeletionGracePeriodSeconds != nil {
			grace = *p.DeletionGracePeriodSeconds
		}
		return p.DeletionTimestamp.Add(-time.Duration(grace) * time.Second)
	}
	return p.CreationTimestamp.Time
}

// newPod builds a pod for the job from its template: the template's labels,
// annotations and spec, the tracking finalizer, a controller reference and,
// for an indexed job, the completion index (annotation, label, hostname,
// environment and a "<job>-<index>-" name prefix).
func newPod(j *batchv1.Job, index int) *corev1.Pod {
	tmpl := j.Spec.Template.DeepCopy()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       j.Namespace,
			GenerateName:    j.Name + "-",
			Labels:          tmpl.Labels,
			Annotations:     tmpl.Annotations,
			Finalizers:      tmpl.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(j, jobKind)},
		},
		Spec: tmpl.Spec,
	}
	if !hasTrackingFinalizer(p) {
		p.Finalizers = append(p.Finalizers, batchv1.JobTrackingFinalizer)
	}
	if index == noIndex {
		return p
	}
	idx := strconv.Itoa(index)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[batchv1.JobCompletionIndexAnnotation] = idx
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[batchv1.JobCompletionIndexAnnotation] = idx
	p.Spec.Hostname = fmt.Sprintf("%s-%d", j.Name, index)
	p.GenerateName = indexedGenerateName(j.Name, index)
	addIndexEnv(p.Spec.InitContainers)
	addIndexEnv(p.Spec.Containers)
	return p
}

// indexedGenerateName is "<job>-<index>-", shortening the job name so that
// the index survives the API server's truncation of long prefixes.
func indexedGenerateName(job string, index int) string {
	suffix := fmt.Sprintf("-%d-", index)
	if len(job)+len(suffix) > maxGeneratedNameLength {
		job = job[:maxGeneratedNameLength-len(suffix)]
	}
	return job + suffix
}

// addIndexEnv gives each container JOB_COMPLETION_INDEX, read from the
// pod's completion index annotation, unless it sets the variable itself.
func addIndexEnv(cs []corev1.Container) {
	for i := range cs {
		found := false
		for _, e := range cs[i].Env {
			if e.Name == completionIndexEnv {
				found = true
				break
			}
		}
		if !found {
			cs[i].Env = append(cs[i].Env, corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)},
			}})
		}
	}
}

// removeFinalizerPatch is a strategic merge patch that drops the tracking
// finalizer and leaves any others alone.
func removeFinalizerPatch() []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer},
	}})
	return b
}

// rankForRemoval orders active pods so the least advanced come first:
// unscheduled before scheduled, pending before unknown before running, not
// ready before ready, and newer before older.
func rankForRemoval(pods []*corev1.Pod) {
	phaseRank := map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName == ""
		}
		if pa, pb := phaseRank[a.Status.Phase], phaseRank[b.Status.Phase]; pa != pb {
			return pa < pb
		}
		if isReady(a) != isReady(b) {
			return !isReady(a)
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return b.CreationTimestamp.Before(&a.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// podsForRemoval picks at least n active pods to delete. For an indexed
// job it first picks pods without a valid index and all but one pod of
// each repeated index.
func podsForRemoval(j *batchv1.Job, active []*corev1.Pod, n int) []*corev1.Pod {
	var rm, keep []*corev1.Pod
	if isIndexed(j) {
		byIndex := map[int][]*corev1.Pod{}
		for _, p := range active {
			if i, ok := validIndex(p, *j.Spec.Completions); ok {
				byIndex[i] = append(byIndex[i], p)
			} else {
				rm = append(rm, p)
			}
		}
		for _, ps := range byIndex {
			rankForRemoval(ps)
			// Keep the most advanced pod of each index.
			rm = append(rm, ps[:len(ps)-1]...)
			keep = append(keep, ps[len(ps)-1])
		}
	} else {
		keep = append(keep, active...)
	}
	if len(rm) < n {
		rankForRemoval(keep)
		rm = append(rm, keep[:min(n-len(rm), len(keep))]...)
	}
	return rm
}

// isIndexed reports whether the job uses the Indexed completion mode.
func isIndexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion && j.Spec.Completions != nil
}
