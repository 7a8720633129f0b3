package statefulset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The decisions of the stateful set controller, as pure functions of the
// set, its two revisions' templates, its pods by ordinal and the claims in
// its namespace.

// state is what a sync decides from.
type state struct {
	set *appsv1.StatefulSet
	// current and update are the templates of the current and update
	// revisions, named currentRev and updateRev.
	current, update       *corev1.PodTemplateSpec
	currentRev, updateRev string
	// pods are the set's pods by ordinal.
	pods map[int]*corev1.Pod
	// claims are the namespace's claims by name.
	claims map[string]*corev1.PersistentVolumeClaim
	now    time.Time
}

// stepKind is one kind of write.
type stepKind int

const (
	// createPod creates the step's missing claims, then its pod.
	createPod stepKind = iota
	// deletePod deletes the pod.
	deletePod
	// recreatePod deletes a finished pod so it is made again.
	recreatePod
	// fixIdentity updates the pod to the given copy with its identity
	// labels restored.
	fixIdentity
	// createClaims creates a pending pod's missing claims.
	createClaims
	// fixClaims updates claims to the given copies (owner references for
	// the retention policy).
	fixClaims
)

// step is one write of a sync.
type step struct {
	kind   stepKind
	pod    *corev1.Pod
	claims []*corev1.PersistentVolumeClaim
}

// plan is what one sync does.
type plan struct {
	steps []step
	// wait is how long until the plan may change with no event to tell:
	// a claim being deleted blocks a pod, or a pod becomes available after
	// minReadySeconds.
	wait time.Duration
}

func (p *plan) waitFor(d time.Duration) {
	if d > 0 && (p.wait == 0 || d < p.wait) {
		p.wait = d
	}
}

// claimRecheck is how often a pod blocked by a claim being deleted is
// looked at again.
const claimRecheck = time.Second

// partitionOf is the rolling update's partition (0 when unset).
func partitionOf(set *appsv1.StatefulSet) int {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

// maxUnavailableOf is the rolling update's maxUnavailable as a pod count
// (percentages of replicas round up; at least 1).
func maxUnavailableOf(set *appsv1.StatefulSet) int {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.MaxUnavailable == nil {
		return 1
	}
	start, end := ordinalRange(set)
	n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, end-start, true)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// versionedPod is the pod to create for ordinal: of the current revision
// below a rolling update's partition, else of the update revision.
func versionedPod(s state, ordinal int) *corev1.Pod {
	start, _ := ordinalRange(s.set)
	if s.set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ordinal < start+partitionOf(s.set) {
		return newPod(s.set, s.current, ordinal, s.currentRev)
	}
	return newPod(s.set, s.update, ordinal, s.updateRev)
}

// missingClaims are the claims of pod (with ordinal) that do not exist,
// with owner references for the retention policy; stale is true when an
// existing claim blocks the pod (see claimStale).
func missingClaims(s state, pod *corev1.Pod, ordinal int) (missing []*corev1.PersistentVolumeClaim, stale bool) {
	start, end := ordinalRange(s.set)
	for _, want := range wantClaims(s.set, ordinal) {
		have, ok := s.claims[want.Name]
		if !ok {
			setClaimRefs(want, s.set, pod, ordinal >= start && ordinal < end)
			missing = append(missing, want)
			continue
		}
		if claimStale(have, s.set, pod) {
			stale = true
		}
	}
	return missing, stale
}

// claimFixes are updated copies of pod's existing claims whose owner
// references do not follow the retention policy.
func claimFixes(s state, pod *corev1.Pod, ordinal int) []*corev1.PersistentVolumeClaim {
	start, end := ordinalRange(s.set)
	var out []*corev1.PersistentVolumeClaim
	for _, want := range wantClaims(s.set, ordinal) {
		have, ok := s.claims[want.Name]
		if !ok || have.DeletionTimestamp != nil {
			continue
		}
		next := have.DeepCopy()
		if setClaimRefs(next, s.set, pod, ordinal >= start && ordinal < end) {
			out = append(out, next)
		}
	}
	return out
}

// planSync decides the writes of one sync, following Kubernetes'
// StatefulSet guarantees. Pods in the ordinal range are created (with
// their claims) in ascending order and pods beyond it deleted in
// descending order; finished pods are deleted to be recreated. Under
// OrderedReady the plan stops at the first pod that is not yet running,
// ready and available (or at the first write), so each pod starts only
// after its predecessors are ready and goes only after its successors are
// gone; under Parallel everything is planned at once. Then a RollingUpdate
// deletes pods of other revisions from the highest ordinal down to the
// partition, as long as fewer than maxUnavailable pods in the range are
// unavailable (an unavailable old pod may always go); the core loop
// recreates them from the update revision. OnDelete leaves that to the
// user.
func planSync(s state) plan {
	set := s.set
	start, end := ordinalRange(set)
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	minReady := set.Spec.MinReadySeconds
	var p plan

	var condemned []int
	for ord := range s.pods {
		if ord < start || ord >= end {
			condemned = append(condemned, ord)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(condemned)))
	// The lowest-ordinal unhealthy pod: in range first, then beyond.
	firstUnhealthy := -1
	for ord := start; ord < end && firstUnhealthy < 0; ord++ {
		if !healthy(s.pods[ord], minReady, s.now) {
			firstUnhealthy = ord
		}
	}
	for i := len(condemned) - 1; i >= 0 && firstUnhealthy < 0; i-- {
		if !healthy(s.pods[condemned[i]], minReady, s.now) {
			firstUnhealthy = condemned[i]
		}
	}

	for ord := start; ord < end; ord++ {
		pod := s.pods[ord]
		if pod == nil {
			want := versionedPod(s, ord)
			missing, stale := missingClaims(s, want, ord)
			if stale {
				p.waitFor(claimRecheck)
				if monotonic {
					return p
				}
				continue
			}
			p.steps = append(p.steps, step{kind: createPod, pod: want, claims: missing})
			if monotonic {
				return p
			}
			continue
		}
		if finished(pod) {
			if !terminating(pod) {
				p.steps = append(p.steps, step{kind: recreatePod, pod: pod})
			}
			if monotonic {
				return p
			}
			continue
		}
		if pod.Status.Phase == corev1.PodPending {
			if missing, _ := missingClaims(s, pod, ord); len(missing) > 0 {
				p.steps = append(p.steps, step{kind: createClaims, pod: pod, claims: missing})
			}
		}
		if terminating(pod) {
			if monotonic {
				return p
			}
			continue
		}
		if wait := availableIn(pod, minReady, s.now); wait != 0 && monotonic {
			p.waitFor(wait)
			return p
		}
		if !identityMatches(set, pod, ord) {
			fixed := pod.DeepCopy()
			setIdentity(set, fixed, ord)
			p.steps = append(p.steps, step{kind: fixIdentity, pod: fixed})
		}
		if fixes := claimFixes(s, pod, ord); len(fixes) > 0 {
			p.steps = append(p.steps, step{kind: fixClaims, pod: pod, claims: fixes})
		}
	}

	// Claims of condemned pods follow the retention policy before the
	// pods go, so that whenScaled=Delete hands them to their pods.
	for _, ord := range condemned {
		if fixes := claimFixes(s, s.pods[ord], ord); len(fixes) > 0 {
			p.steps = append(p.steps, step{kind: fixClaims, pod: s.pods[ord], claims: fixes})
		}
	}
	for _, ord := range condemned {
		pod := s.pods[ord]
		if terminating(pod) {
			if monotonic {
				return p
			}
			continue
		}
		if monotonic && ord != firstUnhealthy {
			if wait := availableIn(pod, minReady, s.now); wait != 0 {
				p.waitFor(wait)
				return p
			}
		}
		p.steps = append(p.steps, step{kind: deletePod, pod: pod})
		if monotonic {
			return p
		}
	}

	if set.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return p
	}
	unavailable := 0
	for ord := start; ord < end; ord++ {
		if !healthy(s.pods[ord], minReady, s.now) {
			unavailable++
		}
	}
	budget := maxUnavailableOf(set) - unavailable
	for ord := end - 1; ord >= start+partitionOf(set); ord-- {
		pod := s.pods[ord]
		if pod == nil || terminating(pod) || revisionOf(pod) == s.updateRev {
			continue
		}
		if healthy(pod, minReady, s.now) {
			if budget <= 0 {
				break
			}
			budget--
		}
		p.steps = append(p.steps, step{kind: deletePod, pod: pod})
	}
	return p
}

// computeStatus derives a stateful set's status from its pods. A rolling
// update is complete, and the update revision becomes the current one,
// when every pod is updated and ready. requeue is positive when ready pods
// become available later.
func computeStatus(set *appsv1.StatefulSet, pods []*corev1.Pod, currentRev, updateRev string, collisions *int32, now time.Time) (appsv1.StatefulSetStatus, time.Duration) {
	st := appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    currentRev,
		UpdateRevision:     updateRev,
		CollisionCount:     collisions,
		Conditions:         set.Status.Conditions,
	}
	var requeue time.Duration
	for _, pod := range pods {
		st.Replicas++
		if runningAndReady(pod) {
			st.ReadyReplicas++
			switch wait := availableIn(pod, set.Spec.MinReadySeconds, now); {
			case wait == 0:
				st.AvailableReplicas++
			case wait > 0 && (requeue == 0 || wait < requeue):
				requeue = wait
			}
		}
		if !terminating(pod) {
			if revisionOf(pod) == currentRev {
				st.CurrentReplicas++
			}
			if revisionOf(pod) == updateRev {
				st.UpdatedReplicas++
			}
		}
	}
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas {
		st.CurrentReplicas = st.UpdatedReplicas
		st.CurrentRevision = st.UpdateRevision
	}
	return st, requeue
}
