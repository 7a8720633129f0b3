package deployment

import (
	"math"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// isRollingUpdate reports whether d uses the RollingUpdate strategy.
func isRollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType
}

// fenceposts resolves maxSurge and maxUnavailable against desired
// replicas: percentages of surge round up, of unavailability down, and if
// both come to zero one pod may be unavailable so the rollout can move.
func fenceposts(surge, unavailable *intstr.IntOrString, desired int32) (int32, int32) {
	zero := intstr.FromInt32(0)
	if surge == nil {
		surge = &zero
	}
	if unavailable == nil {
		unavailable = &zero
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(surge, int(desired), true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(unavailable, int(desired), false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

// maxSurge is how many pods above spec.replicas a rolling update may run.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	s, _ := fenceposts(rollingParams(d))
	return s
}

// rollingParams are the rolling-update parameters and spec.replicas.
func rollingParams(d *appsv1.Deployment) (surge, unavailable *intstr.IntOrString, desired int32) {
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		surge, unavailable = ru.MaxSurge, ru.MaxUnavailable
	}
	return surge, unavailable, replicasOf(d)
}

// maxUnavailable is how many of spec.replicas may be unavailable during a
// rolling update, at most all of them.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || replicasOf(d) == 0 {
		return 0
	}
	_, u := fenceposts(rollingParams(d))
	return min(u, replicasOf(d))
}

// newRSNewReplicas is the size the new replica set may grow to now. For
// a rolling update, no more than spec.replicas+maxSurge pods may exist, a
// count that includes pods of scaled-down replica sets not yet deleted;
// Recreate goes straight to spec.replicas.
func newRSNewReplicas(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRollingUpdate(d) {
		return replicasOf(d)
	}
	current := sum(allRSs, podsUpperBound)
	maxTotal := replicasOf(d) + maxSurge(d)
	if current >= maxTotal {
		return specReplicas(newRS)
	}
	up := min(maxTotal-current, replicasOf(d)-specReplicas(newRS))
	return specReplicas(newRS) + max(up, 0)
}

// isSaturated reports whether rs alone runs the whole deployment: sized
// for it and all pods available.
func isSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := intAnnotation(rs, DesiredReplicasAnnotation)
	return ok && desired == replicasOf(d) && specReplicas(rs) == replicasOf(d) && rs.Status.AvailableReplicas == replicasOf(d)
}

// resize is a planned size for one replica set.
type resize struct {
	rs *appsv1.ReplicaSet
	to int32
	// refresh applies the replica annotations even when to is unchanged.
	refresh bool
}

// planScale decides how to follow a change of spec.replicas (or a paused
// deployment's) without starting a rollout: a lone active (or the latest)
// replica set takes the new size; a saturated new replica set leaves the
// old ones at zero; otherwise, during a rolling update, the change is
// spread over the active replica sets in proportion to their sizes, the
// rounding leftovers going to the largest. op is "up" or "down" for the
// proportional case.
func planScale(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []resize {
	if rs := findActiveOrLatest(newRS, oldRSs); rs != nil {
		if specReplicas(rs) == replicasOf(d) {
			return nil
		}
		return []resize{{rs: rs, to: replicasOf(d)}}
	}
	if isSaturated(d, newRS) {
		var out []resize
		for _, rs := range active(oldRSs) {
			out = append(out, resize{rs: rs, to: 0})
		}
		return out
	}
	if !isRollingUpdate(d) {
		return nil
	}
	all := active(withNew(oldRSs, newRS))
	total := sum(all, specReplicas)
	allowed := int32(0)
	if replicasOf(d) > 0 {
		allowed = replicasOf(d) + maxSurge(d)
	}
	toAdd := allowed - total
	// Larger first; on equal size, newer first when growing and older
	// first when shrinking.
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if specReplicas(a) != specReplicas(b) {
			return specReplicas(a) > specReplicas(b)
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			if toAdd > 0 {
				return a.Name > b.Name
			}
			return a.Name < b.Name
		}
		if toAdd > 0 {
			return b.CreationTimestamp.Before(&a.CreationTimestamp)
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
	sizes := make([]int32, len(all))
	added := int32(0)
	for i, rs := range all {
		sizes[i] = specReplicas(rs)
		if toAdd != 0 {
			p := proportion(d, rs, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	if added != toAdd && len(all) > 0 {
		sizes[0] = max(sizes[0]+toAdd-added, 0)
	}
	out := make([]resize, len(all))
	for i, rs := range all {
		out[i] = resize{rs: rs, to: sizes[i], refresh: true}
	}
	return out
}

// proportion is rs's share of toAdd (negative when scaling down), bounded
// by what is left after added.
func proportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if rs == nil || specReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	frac := fraction(d, rs)
	left := toAdd - added
	if toAdd > 0 {
		return min(frac, left)
	}
	return max(frac, left)
}

// fraction is how many replicas rs gains (or loses) if it keeps its share
// of the deployment at the new size. The share is relative to the
// max-replicas rs was annotated with, or to the deployment's current
// replicas.
func fraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	if replicasOf(d) == 0 {
		return -specReplicas(rs)
	}
	target := replicasOf(d) + maxSurge(d)
	base, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok {
		base = d.Status.Replicas
	}
	if base == 0 {
		return 0
	}
	size := float64(specReplicas(rs)*target) / float64(base)
	return int32(math.Round(size)) - specReplicas(rs)
}

// planNewReplicaSet is the size to give the new replica set in a rolling
// update, and whether it differs from the current one.
func planNewReplicaSet(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (int32, bool) {
	switch cur := specReplicas(newRS); {
	case cur == replicasOf(d):
		return cur, false
	case cur > replicasOf(d):
		return replicasOf(d), true
	default:
		n := newRSNewReplicas(d, allRSs, newRS)
		return n, n != cur
	}
}

// planOldReplicaSets decides how far a rolling update scales the active old
// replica sets down now, oldest first. Never below
// spec.replicas-maxUnavailable available pods, counting the new replica
// set's unavailable pods as lost: first it removes old pods that are not
// available (they cost nothing), then available ones down to the minimum.
// It returns the new sizes, one per changed replica set.
func planOldReplicaSets(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []resize {
	oldRSs = byCreation(active(oldRSs))
	if sum(oldRSs, specReplicas) == 0 {
		return nil
	}
	allPods := sum(withNew(oldRSs, newRS), specReplicas)
	minAvailable := replicasOf(d) - maxUnavailable(d)
	newUnavailable := int32(0)
	if newRS != nil {
		newUnavailable = max(specReplicas(newRS)-newRS.Status.AvailableReplicas, 0)
	}
	budget := allPods - minAvailable - newUnavailable
	if budget <= 0 {
		return nil
	}
	sizes := make([]int32, len(oldRSs))
	for i, rs := range oldRSs {
		sizes[i] = specReplicas(rs)
	}
	// Unhealthy pods first.
	cleaned := int32(0)
	for i, rs := range oldRSs {
		if cleaned >= budget {
			break
		}
		unhealthy := max(sizes[i]-rs.Status.AvailableReplicas, 0)
		n := min(budget-cleaned, unhealthy)
		sizes[i] -= n
		cleaned += n
	}
	// Then available pods, down to minAvailable.
	availableNow := int32(0)
	for i, rs := range oldRSs {
		availableNow += min(sizes[i], rs.Status.AvailableReplicas)
	}
	if newRS != nil {
		availableNow += availableLowerBound(newRS)
	}
	if excess := availableNow - minAvailable; excess > 0 {
		for i := range oldRSs {
			if excess <= 0 {
				break
			}
			n := min(sizes[i], excess)
			sizes[i] -= n
			excess -= n
		}
	}
	var out []resize
	for i, rs := range oldRSs {
		if sizes[i] != specReplicas(rs) {
			out = append(out, resize{rs: rs, to: sizes[i]})
		}
	}
	return out
}
