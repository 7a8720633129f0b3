package simulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/skiff-io/skiff/internal/agent/node"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	sum := sha256.Sum256([]byte(cfg.NamePrefix + cur.Name))
	id := hex.EncodeToString(sum[:16])
	return node.Status(node.Facts{
		CPU: cfg.CPU, Memory: cfg.Memory, EphemeralStorage: cfg.EphemeralStorage, Pods: cfg.Pods,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP(cfg.NamePrefix, i).String()},
			{Type: corev1.NodeHostName, Address: cur.Name},
		},
		Port: 10250,
		Info: corev1.NodeSystemInfo{
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
	}, cur, now)
}

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
	stale, next := node.Stale(cur, want, now, s.cfg.StatusInterval)
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
