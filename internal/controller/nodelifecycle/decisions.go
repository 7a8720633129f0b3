package nodelifecycle

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition reasons and messages Kubernetes' node controller writes.
const (
	reasonStatusUnknown       = "NodeStatusUnknown"
	messageStatusUnknown      = "Kubelet stopped posting node status."
	reasonStatusNeverUpdated  = "NodeStatusNeverUpdated"
	messageStatusNeverUpdated = "Kubelet never posted node status."
)

// nodeHealth is what the controller remembers about a node's heartbeats.
// Times of the node's own clock are only compared for change; staleness
// is measured on the controller's clock (probe), so skew does not matter.
type nodeHealth struct {
	probe          time.Time   // local time the last heartbeat was observed
	readyHeartbeat metav1.Time // Ready condition's lastHeartbeatTime last seen
	leaseRenew     time.Time   // lease renewTime last seen
	hadReady       bool        // the node had a Ready condition last time
}

// observeHealth folds the node's current heartbeats into h (known: h is
// not the zero value of a node seen for the first time) and returns it
// with the grace period that applies: a node that never posted status
// gets the startup grace, counted from its creation.
func observeHealth(h nodeHealth, known bool, node *corev1.Node, lease *metav1.MicroTime, now time.Time, grace, startupGrace time.Duration) (nodeHealth, time.Duration) {
	ready := nodeCondition(node.Status.Conditions, corev1.NodeReady)
	period := grace
	if ready == nil {
		period = startupGrace
	}
	switch {
	case !known && ready == nil:
		h = nodeHealth{probe: node.CreationTimestamp.Time}
	case !known:
		h = nodeHealth{probe: now, readyHeartbeat: ready.LastHeartbeatTime}
	case ready != nil && (!h.hadReady || !ready.LastHeartbeatTime.Equal(&h.readyHeartbeat)):
		h.probe, h.readyHeartbeat = now, ready.LastHeartbeatTime
	}
	h.hadReady = ready != nil
	if lease != nil && lease.Time.After(h.leaseRenew) {
		h.probe, h.leaseRenew = now, lease.Time
	}
	return h, period
}

// markUnknown sets the node agent's conditions to Unknown, as the node
// controller does when heartbeats stop; it reports whether anything
// changed. NetworkUnavailable belongs to the network plug-in and is left
// alone.
func markUnknown(status *corev1.NodeStatus, created metav1.Time, now time.Time) bool {
	changed := false
	t := metav1.NewTime(now)
	for _, typ := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		c := nodeCondition(status.Conditions, typ)
		switch {
		case c == nil:
			status.Conditions = append(status.Conditions, corev1.NodeCondition{Type: typ, Status: corev1.ConditionUnknown,
				Reason: reasonStatusNeverUpdated, Message: messageStatusNeverUpdated, LastHeartbeatTime: created, LastTransitionTime: t})
			changed = true
		case c.Status != corev1.ConditionUnknown:
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, reasonStatusUnknown, messageStatusUnknown, t
			changed = true
		}
	}
	return changed
}

// conditionTaints maps node conditions (and spec.unschedulable) to the
// NoSchedule taint keys Kubernetes' "taint nodes by condition" applies.
func conditionTaints(node *corev1.Node) []string {
	var keys []string
	for _, c := range node.Status.Conditions {
		switch {
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionFalse:
			keys = append(keys, corev1.TaintNodeNotReady)
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionUnknown:
			keys = append(keys, corev1.TaintNodeUnreachable)
		case c.Type == corev1.NodeMemoryPressure && c.Status == corev1.ConditionTrue:
			keys = append(keys, corev1.TaintNodeMemoryPressure)
		case c.Type == corev1.NodeDiskPressure && c.Status == corev1.ConditionTrue:
			keys = append(keys, corev1.TaintNodeDiskPressure)
		case c.Type == corev1.NodePIDPressure && c.Status == corev1.ConditionTrue:
			keys = append(keys, corev1.TaintNodePIDPressure)
		case c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue:
			keys = append(keys, corev1.TaintNodeNetworkUnavailable)
		}
	}
	if node.Spec.Unschedulable {
		keys = append(keys, corev1.TaintNodeUnschedulable)
	}
	return keys
}

// conditionTaintKeys are the NoSchedule taints the controller owns.
var conditionTaintKeys = []string{
	corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeMemoryPressure, corev1.TaintNodeDiskPressure,
	corev1.TaintNodePIDPressure, corev1.TaintNodeNetworkUnavailable, corev1.TaintNodeUnschedulable,
}

// noExecuteTaint is the NoExecute taint key the node's Ready condition
// calls for ("" for none): not-ready when False, unreachable when
// Unknown. In master disruption mode (every zone fully down, which is
// more likely the control plane's problem than the nodes') there is none.
func noExecuteTaint(node *corev1.Node, allDisrupted bool) string {
	ready := nodeCondition(node.Status.Conditions, corev1.NodeReady)
	if allDisrupted || ready == nil {
		return ""
	}
	switch ready.Status {
	case corev1.ConditionFalse:
		return corev1.TaintNodeNotReady
	case corev1.ConditionUnknown:
		return corev1.TaintNodeUnreachable
	}
	return ""
}

// hasNoExecute reports whether taints hold one of the controller's
// NoExecute taints; adding the first one is what the eviction rate limit
// paces.
func hasNoExecute(taints []corev1.Taint) bool {
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute && (t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable) {
			return true
		}
	}
	return false
}

// reconcileTaints returns the node's taints with the controller-owned
// ones brought in line with noSchedule (keys) and noExecute (a key or
// ""). When addNoExecute is false a missing NoExecute taint is not added
// unless it replaces the other one (an unreachable node turning not-ready
// swaps at once). Taints the controller does not own are kept in order.
func reconcileTaints(cur []corev1.Taint, noSchedule []string, noExecute string, addNoExecute bool, now time.Time) ([]corev1.Taint, bool) {
	t := metav1.NewTime(now)
	swap := hasNoExecute(cur)
	var out []corev1.Taint
	changed := false
	have := map[string]bool{}
	for _, taint := range cur {
		switch {
		case taint.Effect == corev1.TaintEffectNoSchedule && slices.Contains(conditionTaintKeys, taint.Key):
			if !slices.Contains(noSchedule, taint.Key) || have[taint.Key+"/NoSchedule"] {
				changed = true
				continue
			}
			have[taint.Key+"/NoSchedule"] = true
		case taint.Effect == corev1.TaintEffectNoExecute && (taint.Key == corev1.TaintNodeNotReady || taint.Key == corev1.TaintNodeUnreachable):
			if taint.Key != noExecute || have[taint.Key+"/NoExecute"] {
				changed = true
				continue
			}
			have[taint.Key+"/NoExecute"] = true
		}
		out = append(out, taint)
	}
	for _, k := range noSchedule {
		if !have[k+"/NoSchedule"] {
			out = append(out, corev1.Taint{Key: k, Effect: corev1.TaintEffectNoSchedule, TimeAdded: &t})
			have[k+"/NoSchedule"] = true
			changed = true
		}
	}
	if noExecute != "" && !have[noExecute+"/NoExecute"] && (addNoExecute || swap) {
		out = append(out, corev1.Taint{Key: noExecute, Effect: corev1.TaintEffectNoExecute, TimeAdded: &t})
		changed = true
	}
	return out, changed
}

// podsToMarkNotReady returns copies of the pods whose Ready condition is
// True, with it set to False, for a node that is not Ready.
func podsToMarkNotReady(pods []*corev1.Pod, now time.Time) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		for i, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				cp := p.DeepCopy()
				cp.Status.Conditions[i].Status = corev1.ConditionFalse
				cp.Status.Conditions[i].LastTransitionTime = metav1.NewTime(now)
				out = append(out, cp)
				break
			}
		}
	}
	return out
}

func nodeCondition(conds []corev1.NodeCondition, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}
