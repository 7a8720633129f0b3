package replicaset

import (
	"errors"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// PodDeletionCostAnnotation lets users rank pods of one set for deletion:
// lower costs go first.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// isPodActive reports whether a pod counts towards replicas: not finished
// and not being deleted.
func isPodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// activePods filters pods with isPodActive.
func activePods(pods []*corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(pods))
	for _, p := range pods {
		if isPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// readyCondition is the pod's Ready condition, or nil.
func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now. A ready pod with an unknown transition time is
// available only when minReadySeconds is 0.
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsPodReady(p) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := readyCondition(p)
	return !c.LastTransitionTime.IsZero() &&
		c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}

// untilAvailable returns how long after now the first ready but not yet
// available pod becomes available; ok is false when no pod is waiting.
func untilAvailable(pods []*corev1.Pod, minReadySeconds int32, now time.Time) (wait time.Duration, ok bool) {
	if minReadySeconds == 0 {
		return 0, false
	}
	for _, p := range pods {
		if !IsPodReady(p) || IsPodAvailable(p, minReadySeconds, now) {
			continue
		}
		c := readyCondition(p)
		if c.LastTransitionTime.IsZero() {
			continue
		}
		d := c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second).Sub(now)
		if d < 0 {
			d = 0
		}
		if !ok || d < wait {
			wait, ok = d, true
		}
	}
	// Availability is strict ("before now"): look just after the instant.
	return wait + 10*time.Millisecond, ok
}

// podFromTemplate is the pod a set creates: the template's metadata and
// spec, a generated name prefixed "<set>-", and a controller reference.
func podFromTemplate(s *set, gvk schema.GroupVersionKind) (*corev1.Pod, error) {
	t := s.Template
	if len(t.Labels) == 0 {
		return nil, errors.New("unable to create pods, no labels")
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       s.Namespace,
			GenerateName:    s.Name + "-",
			Labels:          maps.Clone(t.Labels),
			Annotations:     maps.Clone(t.Annotations),
			Finalizers:      slices.Clone(t.Finalizers),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(&s.ObjectMeta, gvk)},
		},
		Spec: *t.Spec.DeepCopy(),
	}, nil
}

// batchSizes splits count creations into slow-start batches 1, 2, 4, ...
// so that a failing create (quota, admission) is discovered after one
// call instead of hundreds.
func batchSizes(count int) []int {
	var out []int
	for size := min(count, 1); size > 0; size = min(2*size, count) {
		out = append(out, size)
		count -= size
	}
	return out
}

// podsToDelete chooses n pods of pods to delete, most expendable first:
// unscheduled before scheduled; Pending before Unknown before Running; not
// ready before ready; lower pod-deletion-cost first; pods sharing a node
// with more related pods first; ready for less time first; more container
// restarts first; newer first. Ready and creation times compare in
// logarithmic buckets relative to now, ties broken by UID, as Kubernetes
// does. related are the pods of all sets with the same owner.
func podsToDelete(pods, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	if n >= len(pods) {
		return slices.Clone(pods)
	}
	onNode := map[string]int{}
	for _, p := range related {
		if isPodActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		ranked[i] = rankedPod{pod: p, rank: onNode[p.Spec.NodeName]}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return deleteFirst(ranked[i], ranked[j], now) })
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = ranked[i].pod
	}
	return out
}

// rankedPod is a pod and the number of related pods on its node.
type rankedPod struct {
	pod  *corev1.Pod
	rank int
}

var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// deleteFirst reports whether a should be deleted before b.
func deleteFirst(a, b rankedPod, now time.Time) bool {
	pa, pb := a.pod, b.pod
	if (pa.Spec.NodeName == "") != (pb.Spec.NodeName == "") {
		return pa.Spec.NodeName == ""
	}
	if oa, ob := phaseOrder[pa.Status.Phase], phaseOrder[pb.Status.Phase]; oa != ob {
		return oa < ob
	}
	ra, rb := IsPodReady(pa), IsPodReady(pb)
	if ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(pa), deletionCost(pb); ca != cb {
		return ca < cb
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if ra && rb {
		ta, tb := readyCondition(pa).LastTransitionTime, readyCondition(pb).LastTransitionTime
		if !ta.Equal(&tb) {
			if c, ok := newerFirst(ta.Time, tb.Time, now, pa.UID, pb.UID); ok {
				return c
			}
		}
	}
	if ma, mb := maxRestarts(pa), maxRestarts(pb); ma != mb {
		return ma > mb
	}
	if !pa.CreationTimestamp.Equal(&pb.CreationTimestamp) {
		if c, ok := newerFirst(pa.CreationTimestamp.Time, pb.CreationTimestamp.Time, now, pa.UID, pb.UID); ok {
			return c
		}
	}
	return false
}

// newerFirst orders two different timestamps newest first (unset before
// set), comparing them by log2 of their age at now and breaking ties in a
// bucket by UID. ok is false only when the order is undecided.
func newerFirst(a, b, now time.Time, ua, ub types.UID) (less bool, ok bool) {
	if a.IsZero() || b.IsZero() {
		return a.IsZero(), true
	}
	if now.IsZero() {
		return a.After(b), true
	}
	if da, db := logBucket(now.Sub(a)), logBucket(now.Sub(b)); da != db {
		return da < db, true
	}
	if ua == ub {
		return false, false
	}
	return ua < ub, true
}

// logBucket is floor(log2(d in ns)), or -1 for a non-positive age.
func logBucket(d time.Duration) int64 {
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

// deletionCost is the pod-deletion-cost annotation; invalid or absent is 0.
func deletionCost(p *corev1.Pod) int32 {
	v, ok := p.Annotations[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// maxRestarts is the highest restart count among the pod's containers.
func maxRestarts(p *corev1.Pod) int32 {
	var m int32
	for _, c := range p.Status.ContainerStatuses {
		m = max(m, c.RestartCount)
	}
	return m
}
