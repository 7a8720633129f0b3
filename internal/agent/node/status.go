// Package node holds what a node agent reports about its machine: the
// Node's status (capacity, conditions, addresses, system info), when that
// status must be posted again, and the heartbeat Lease. The real agent and
// the simulator share it.
package node

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Facts are what the agent knows about its machine.
type Facts struct {
	CPU, Memory, EphemeralStorage resource.Quantity
	// Pods is the node's pod capacity (Kubernetes' default is 110).
	Pods      int
	Addresses []corev1.NodeAddress
	Port      int32
	Info      corev1.NodeSystemInfo
	// Pressure conditions; false on a healthy machine.
	MemoryPressure, DiskPressure, PIDPressure bool
	// NotReady, when non-empty, is why the node is not ready (the runtime
	// or the network is down); the Ready condition carries it.
	NotReady string
}

// Status is the status the agent posts: cur's conditions refreshed
// (heartbeat now, transition time kept where the status is unchanged),
// plus capacity, addresses and node info from facts.
func Status(facts Facts, cur *corev1.Node, now time.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              facts.CPU,
		corev1.ResourceMemory:           facts.Memory,
		corev1.ResourceEphemeralStorage: facts.EphemeralStorage,
		corev1.ResourcePods:             *resource.NewQuantity(int64(facts.Pods), resource.DecimalSI),
		"hugepages-1Gi":                 resource.MustParse("0"),
		"hugepages-2Mi":                 resource.MustParse("0"),
	}
	t := metav1.NewTime(now.Truncate(time.Second))
	cond := func(typ corev1.NodeConditionType, status corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastHeartbeatTime: t, LastTransitionTime: t}
		if old := Condition(cur.Status.Conditions, typ); old != nil && old.Status == status && !old.LastTransitionTime.IsZero() {
			c.LastTransitionTime = old.LastTransitionTime
		}
		return c
	}
	pressure := func(typ corev1.NodeConditionType, on bool, okReason, okMsg, badReason, badMsg string) corev1.NodeCondition {
		if on {
			return cond(typ, corev1.ConditionTrue, badReason, badMsg)
		}
		return cond(typ, corev1.ConditionFalse, okReason, okMsg)
	}
	ready := cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status")
	if facts.NotReady != "" {
		ready = cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady", facts.NotReady)
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity.DeepCopy(),
		Conditions: []corev1.NodeCondition{
			pressure(corev1.NodeMemoryPressure, facts.MemoryPressure, "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
				"KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
			pressure(corev1.NodeDiskPressure, facts.DiskPressure, "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
				"KubeletHasDiskPressure", "kubelet has disk pressure"),
			pressure(corev1.NodePIDPressure, facts.PIDPressure, "KubeletHasSufficientPID", "kubelet has sufficient PID available",
				"KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
			ready,
		},
		Addresses:       append([]corev1.NodeAddress(nil), facts.Addresses...),
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: facts.Port}},
		NodeInfo:        facts.Info,
		Images:          cur.Status.Images,
	}
}

// Stale reports whether the node's posted status must be written again:
// something differs from what the agent reports, or the heartbeat is older
// than interval. Otherwise it returns how long until the heartbeat is due.
func Stale(cur *corev1.Node, want corev1.NodeStatus, now time.Time, interval time.Duration) (bool, time.Duration) {
	s := cur.Status
	if !equality.Semantic.DeepEqual(s.Capacity, want.Capacity) || !equality.Semantic.DeepEqual(s.Allocatable, want.Allocatable) ||
		!equality.Semantic.DeepEqual(s.NodeInfo, want.NodeInfo) || !equality.Semantic.DeepEqual(s.Addresses, want.Addresses) ||
		s.DaemonEndpoints != want.DaemonEndpoints || !equality.Semantic.DeepEqual(s.Images, want.Images) {
		return true, 0
	}
	var oldest time.Time
	for _, w := range want.Conditions {
		c := Condition(s.Conditions, w.Type)
		if c == nil || c.Status != w.Status || c.Reason != w.Reason || c.Message != w.Message {
			return true, 0
		}
		if oldest.IsZero() || c.LastHeartbeatTime.Time.Before(oldest) {
			oldest = c.LastHeartbeatTime.Time
		}
	}
	due := oldest.Add(interval).Sub(now)
	if due <= 0 {
		return true, 0
	}
	return false, due
}

// Condition returns the condition of type t, or nil.
func Condition(conds []corev1.NodeCondition, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// Lease returns the heartbeat Lease of a node, owned by the Node so that
// it goes away with it.
func Lease(node *corev1.Node, duration time.Duration, now time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:      node.Name,
			Namespace: corev1.NamespaceNodeLease,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
			}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(node.Name),
			LeaseDurationSeconds: ptr.To(int32(duration / time.Second)),
			RenewTime:            &metav1.MicroTime{Time: now},
		},
	}
}
