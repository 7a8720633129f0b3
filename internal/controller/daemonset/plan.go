package daemonset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The decisions of the daemon set controller, as pure functions of the
// daemon set, the nodes and the daemon pods grouped by the node they are
// for (bound or pinned by affinity).

// nodeEligibility is shouldRun's verdict for each node, by name.
type nodeEligibility map[string]struct{ run, keep bool }

func eligibility(ds *appsv1.DaemonSet, nodes []*corev1.Node) nodeEligibility {
	out := make(nodeEligibility, len(nodes))
	for _, n := range nodes {
		run, keep := shouldRun(n, ds)
		out[n.Name] = struct{ run, keep bool }{run, keep}
	}
	return out
}

// desired counts the nodes that should run a daemon pod.
func (e nodeEligibility) desired() int {
	n := 0
	for _, v := range e {
		if v.run {
			n++
		}
	}
	return n
}

// managePlan is what the core loop does: create daemon pods on nodes that
// need one and delete pods that must go. failed are failed pods to delete
// subject to a per-node back-off.
type managePlan struct {
	create []string
	delete []*corev1.Pod
	failed []*corev1.Pod
}

// planManage places one daemon pod on every eligible node and removes
// daemon pods where they may not stay: on ineligible nodes, on nodes that
// no longer exist, finished ones, and surplus ones on a node (all but the
// oldest; when surging, the oldest current and oldest old pod may
// coexist until the new one is available). A node whose pods are all
// still terminating gets its new pod only once they are gone.
func planManage(ds *appsv1.DaemonSet, elig nodeEligibility, byNode map[string][]*corev1.Pod, hash string, surge bool, now time.Time) managePlan {
	var p managePlan
	names := make([]string, 0, len(elig))
	for name := range elig {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e := elig[name]
		pods := byNode[name]
		switch {
		case e.run && len(pods) == 0:
			p.create = append(p.create, name)
		case e.keep:
			var running []*corev1.Pod
			for _, pod := range pods {
				switch {
				case pod.DeletionTimestamp != nil:
				case pod.Status.Phase == corev1.PodFailed:
					p.failed = append(p.failed, pod)
				case pod.Status.Phase == corev1.PodSucceeded:
					p.delete = append(p.delete, pod)
				default:
					running = append(running, pod)
				}
			}
			p.delete = append(p.delete, surplus(ds, running, hash, surge, now)...)
		default:
			for _, pod := range pods {
				if pod.DeletionTimestamp == nil {
					p.delete = append(p.delete, pod)
				}
			}
		}
	}
	// Daemon pods for nodes that no longer exist.
	var gone []string
	for name := range byNode {
		if _, ok := elig[name]; !ok {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		for _, pod := range byNode[name] {
			if pod.DeletionTimestamp == nil {
				p.delete = append(p.delete, pod)
			}
		}
	}
	return p
}

// surplus picks the running daemon pods on one node to delete.
func surplus(ds *appsv1.DaemonSet, running []*corev1.Pod, hash string, surge bool, now time.Time) []*corev1.Pod {
	if len(running) <= 1 {
		return nil
	}
	running = append([]*corev1.Pod(nil), running...)
	sortPods(running)
	if !surge {
		return running[1:]
	}
	var out []*corev1.Pod
	var newest, oldest *corev1.Pod // oldest pod of the current and of an old revision
	for _, pod := range running {
		switch {
		case podUpdated(pod, ds, hash) && newest == nil:
			newest = pod
		case !podUpdated(pod, ds, hash) && oldest == nil:
			oldest = pod
		default:
			out = append(out, pod)
		}
	}
	if newest != nil && oldest != nil && (!podReady(oldest) || podAvailable(newest, ds.Spec.MinReadySeconds, now)) {
		out = append(out, oldest)
	}
	return out
}

// updateBudget returns the rolling update's maxSurge and maxUnavailable as
// pod counts for desired nodes (percentages round up); an impossible 0/0
// falls back to one unavailable.
func updateBudget(ds *appsv1.DaemonSet, desired int) (maxSurge, maxUnavailable int) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, 1
	}
	scaled := func(v *intstr.IntOrString) int {
		if v == nil {
			return 0
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(v, desired, true)
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	maxSurge, maxUnavailable = scaled(ru.MaxSurge), scaled(ru.MaxUnavailable)
	if desired > 0 && maxSurge == 0 && maxUnavailable == 0 {
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable
}

// nodePods splits the live (not terminating) daemon pods on a node into
// the one of the current revision and the one of an old revision; ok is
// false when there are several of either, which the core loop prunes
// first.
func nodePods(ds *appsv1.DaemonSet, pods []*corev1.Pod, hash string) (cur, old *corev1.Pod, ok bool) {
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if podUpdated(pod, ds, hash) {
			if cur != nil {
				return nil, nil, false
			}
			cur = pod
		} else {
			if old != nil {
				return nil, nil, false
			}
			old = pod
		}
	}
	return cur, old, true
}

// rollPlan is one step of a rolling update: old pods to delete and nodes
// to surge a new pod onto.
type rollPlan struct {
	delete []*corev1.Pod
	create []string
}

// planRollingUpdate replaces old daemon pods within the budget. Without
// surge it deletes old pods (unavailable ones first, then available ones
// while fewer than maxUnavailable nodes lack an available pod) and lets
// the core loop create their replacements. With surge it creates new pods
// next to old ones (at once where the old pod is unavailable, else up to
// maxSurge at a time) and deletes each old pod once its replacement is
// available.
func planRollingUpdate(ds *appsv1.DaemonSet, elig nodeEligibility, byNode map[string][]*corev1.Pod, hash string, now time.Time) rollPlan {
	maxSurge, maxUnavailable := updateBudget(ds, elig.desired())
	names := map[string]bool{}
	for name := range byNode {
		names[name] = true
	}
	for name, e := range elig {
		if e.run {
			names[name] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	sort.Strings(sorted)
	min := ds.Spec.MinReadySeconds
	var p rollPlan
	if maxSurge == 0 {
		unavailable := 0
		var replace, candidates []*corev1.Pod
		for _, name := range sorted {
			cur, old, ok := nodePods(ds, byNode[name], hash)
			switch {
			case !ok || (cur == nil) == (old == nil):
				unavailable++ // the core loop creates or prunes here
			case cur != nil:
				if !podAvailable(cur, min, now) {
					unavailable++
				}
			case !podAvailable(old, min, now):
				replace = append(replace, old)
				unavailable++
			default:
				candidates = append(candidates, old)
			}
		}
		room := maxUnavailable - unavailable
		if room < 0 {
			room = 0
		}
		if room > len(candidates) {
			room = len(candidates)
		}
		p.delete = append(replace, candidates[:room]...)
		return p
	}
	surging := 0
	var allowed, candidates []string
	for _, name := range sorted {
		cur, old, ok := nodePods(ds, byNode[name], hash)
		switch {
		case !ok:
			surging++
		case old == nil:
		case cur == nil:
			switch {
			case !podAvailable(old, min, now):
				if !elig[name].run {
					p.delete = append(p.delete, old)
					continue
				}
				allowed = append(allowed, name)
			default:
				candidates = append(candidates, name)
			}
		case !podAvailable(cur, min, now):
			surging++
		default:
			p.delete = append(p.delete, old)
		}
	}
	room := maxSurge - surging
	if room < 0 {
		room = 0
	}
	if room > len(candidates) {
		room = len(candidates)
	}
	p.create = append(allowed, candidates[:room]...)
	return p
}

// computeStatus derives a daemon set's status from the nodes and its
// pods. requeue is positive when some ready pods will become available
// later (minReadySeconds) and the status must be computed again then.
func computeStatus(ds *appsv1.DaemonSet, elig nodeEligibility, byNode map[string][]*corev1.Pod, hash string, now time.Time) (appsv1.DaemonSetStatus, time.Duration) {
	st := appsv1.DaemonSetStatus{
		ObservedGeneration: ds.Generation,
		CollisionCount:     ds.Status.CollisionCount,
		Conditions:         ds.Status.Conditions,
	}
	for name, e := range elig {
		pods := byNode[name]
		if e.run {
			st.DesiredNumberScheduled++
		}
		if len(pods) == 0 {
			continue
		}
		if !e.run {
			st.NumberMisscheduled++
			continue
		}
		st.CurrentNumberScheduled++
		pods = append([]*corev1.Pod(nil), pods...)
		sortPods(pods)
		pod := pods[0]
		if podReady(pod) {
			st.NumberReady++
			if podAvailable(pod, ds.Spec.MinReadySeconds, now) {
				st.NumberAvailable++
			}
		}
		if podUpdated(pod, ds, hash) {
			st.UpdatedNumberScheduled++
		}
	}
	if u := st.DesiredNumberScheduled - st.NumberAvailable; u > 0 {
		st.NumberUnavailable = u
	}
	var requeue time.Duration
	if ds.Spec.MinReadySeconds > 0 && st.NumberReady != st.NumberAvailable {
		requeue = time.Duration(ds.Spec.MinReadySeconds) * time.Second
	}
	return st, requeue
}
