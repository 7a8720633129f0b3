package simulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// buildNode returns the Node the i-th simulated node registers.
func buildNode(cfg *Config, name string, i int, now time.Time) *corev1.Node {
	lbls := map[string]string{
		corev1.LabelHostname:           name,
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         "amd64",
		"beta.kubernetes.io/os":        "linux",
		"beta.kubernetes.io/arch":      "amd64",
		corev1.LabelInstanceTypeStable: "skiff-simulated",
		LabelSimulated:                 "true",
	}
	if len(cfg.Zones) > 0 {
		lbls[corev1.LabelTopologyZone] = cfg.Zones[i%len(cfg.Zones)]
	}
	for k, v := range cfg.Labels {
		lbls[k] = v
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: lbls,
			Annotations: map[string]string{
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		Spec: corev1.NodeSpec{
			ProviderID: "skiff-sim://" + name,
			Taints:     append([]corev1.Taint(nil), cfg.Taints...),
		},
	}
	n.Status = desiredNodeStatus(cfg, n, i, now)
	return n
}

// desiredNodeStatus is the status the node agent reports: the node's
// current conditions refreshed (heartbeat now, transition kept where the
// status is unchanged), plus capacity, addresses and node info.
func desiredNodeStatus(cfg *Config, cur *corev1.Node, i int, now time.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              cfg.CPU,
		corev1.ResourceMemory:           cfg.Memory,
		corev1.ResourceEphemeralStorage: cfg.EphemeralStorage,
		corev1.ResourcePods:             *resource.NewQuantity(int64(cfg.Pods), resource.DecimalSI),
		"hugepages-1Gi":                 resource.MustParse("0"),
		"hugepages-2Mi":                 resource.MustParse("0"),
	}
	t := metav1.NewTime(now.Truncate(time.Second))
	cond := func(typ corev1.NodeConditionType, status corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastHeartbeatTime: t, LastTransitionTime: t}
		if old := nodeCondition(cur.Status.Conditions, typ); old != nil && old.Status == status && !old.LastTransitionTime.IsZero() {
			c.LastTransitionTime = old.LastTransitionTime
		}
		return c
	}
	sum := sha256.Sum256([]byte(cfg.NamePrefix + cur.Name))
	id := hex.EncodeToString(sum[:16])
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity.DeepCopy(),
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP(cfg.NamePrefix, i).String()},
			{Type: corev1.NodeHostName, Address: cur.Name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               id,
			SystemUUID:              id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32],
			BootID:                  id,
			KernelVersion:           "6.8.0-skiff",
			OSImage:                 "Skiff simulated node",
			ContainerRuntimeVersion: "skiff-sim://1.0.0",
			KubeletVersion:          cfg.KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

// nodeStatusStale reports whether the node's posted status must be
// written again: something differs from what the agent reports, or the
// heartbeat is older than interval. Otherwise it returns how long until
// the heartbeat is due.
func nodeStatusStale(cur *corev1.Node, want corev1.NodeStatus, now time.Time, interval time.Duration) (bool, time.Duration) {
	s := cur.Status
	if !equality.Semantic.DeepEqual(s.Capacity, want.Capacity) || !equality.Semantic.DeepEqual(s.Allocatable, want.Allocatable) ||
		!equality.Semantic.DeepEqual(s.NodeInfo, want.NodeInfo) || !equality.Semantic.DeepEqual(s.Addresses, want.Addresses) ||
		s.DaemonEndpoints != want.DaemonEndpoints {
		return true, 0
	}
	var oldest time.Time
	for _, w := range want.Conditions {
		c := nodeCondition(s.Conditions, w.Type)
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

func nodeCondition(conds []corev1.NodeCondition, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// syncNode registers the node if needed and keeps its status fresh.
func (s *Simulator) syncNode(ctx context.Context, name string) error {
	n := s.byName[name]
	if n == nil || n.stopped.Load() {
		return nil
	}
	n.mu.Lock()
	gone, created := n.gone, n.created
	n.mu.Unlock()
	if gone {
		return nil
	}
	now := s.cfg.Now()
	cur, err := s.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		if created {
			return s.checkDeleted(ctx, n)
		}
		node := buildNode(&s.cfg, name, n.index, now)
		_, err := s.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("registering node %s: %w", name, err)
		}
		n.mu.Lock()
		n.created = true
		n.mu.Unlock()
		s.ctrl.Enqueue(leaseKeyPrefix + name)
		// The informer's add event brings the key back; this is a backstop.
		return controller.RequeueAfter(s.cfg.StatusInterval)
	}
	if err != nil {
		return err
	}
	if !created {
		// Found at start-up (a restart): adopt it and start its lease.
		n.mu.Lock()
		n.created = true
		n.mu.Unlock()
		s.ctrl.Enqueue(leaseKeyPrefix + name)
	}
	want := desiredNodeStatus(&s.cfg, cur, n.index, now)
	stale, next := nodeStatusStale(cur, want, now, s.cfg.StatusInterval)
	if !stale {
		return controller.RequeueAfter(next)
	}
	patch, err := json.Marshal(map[string]any{"status": want})
	if err != nil {
		return err
	}
	_, err = s.client.CoreV1().Nodes().Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) {
		return s.checkDeleted(ctx, n)
	}
	if err != nil {
		return fmt.Errorf("posting status of node %s: %w", name, err)
	}
	return controller.RequeueAfter(s.cfg.StatusInterval)
}

// checkDeleted confirms with the API server that a node we registered is
// gone; a deleted node is not registered again (as `kubectl delete node`
// would expect), and its agent stops.
func (s *Simulator) checkDeleted(ctx context.Context, n *simNode) error {
	_, err := s.client.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
	if err == nil {
		return controller.RequeueAfter(time.Second) // informer lagging
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	n.mu.Lock()
	n.gone = true
	n.mu.Unlock()
	s.cfg.Logger.Info("simulated node was deleted; no longer serving it", "node", n.name)
	return nil
}
