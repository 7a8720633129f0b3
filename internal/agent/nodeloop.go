package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/agent/node"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Heartbeats, as the kubelet's defaults: the status is checked every 10s
// and posted when it changed or is a minute old; the Lease is renewed
// every 10s and lasts 40s.
const (
	statusCheck    = 10 * time.Second
	statusReport   = time.Minute
	leaseDuration  = 40 * time.Second
	leaseRenewal   = 10 * time.Second
	registerRetry  = 2 * time.Second
	podCIDRPolling = 500 * time.Millisecond
	// statusUpdateRetries bounds the immediate retries of a status update
	// that conflicted (the kubelet's nodeStatusUpdateRetry).
	statusUpdateRetries = 5
)

// register creates the Node, or adopts an existing one of the same name.
func (a *Agent) register(ctx context.Context, facts node.Facts) (*corev1.Node, error) {
	for {
		n, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			n = a.newNode()
			n.Status = node.Status(facts, n, time.Now())
			n, err = a.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
			if err == nil {
				a.log.Info("registered node", "node", n.Name)
			}
		}
		if err == nil {
			return n, nil
		}
		a.log.Warn("registering node", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(registerRetry):
		}
	}
}

func (a *Agent) newNode() *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:      a.cfg.NodeName,
		corev1.LabelOSStable:      "linux",
		corev1.LabelArchStable:    "amd64",
		"beta.kubernetes.io/os":   "linux",
		"beta.kubernetes.io/arch": "amd64",
	}
	for k, v := range a.cfg.NodeLabels {
		labels[k] = v
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   a.cfg.NodeName,
			Labels: labels,
			Annotations: map[string]string{
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		Spec: corev1.NodeSpec{Taints: a.cfg.NodeTaints},
	}
}

// heartbeat keeps the Node's status and Lease fresh until ctx ends.
func (a *Agent) heartbeat(ctx context.Context, facts func() node.Facts) {
	statusTick := time.NewTicker(statusCheck)
	defer statusTick.Stop()
	leaseTick := time.NewTicker(leaseRenewal)
	defer leaseTick.Stop()
	a.postNodeStatus(ctx, facts())
	a.renewLease(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-statusTick.C:
			a.postNodeStatus(ctx, facts())
		case <-leaseTick.C:
			a.renewLease(ctx)
		case <-a.statusNow:
			a.postNodeStatus(ctx, facts())
		}
	}
}

// postNodeStatus posts the node's status when it changed or is old. A
// conflict (another writer, such as the node lifecycle controller's
// taints) is retried at once on a fresh copy, up to statusUpdateRetries
// times as the kubelet does, so a change such as Ready is not held back
// until the next check.
func (a *Agent) postNodeStatus(ctx context.Context, facts node.Facts) {
	for range statusUpdateRetries {
		err := a.tryPostNodeStatus(ctx, facts)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			a.log.Warn("posting node status", "err", err)
			return
		}
	}
	a.log.Warn("posting node status: conflicts on every attempt", "attempts", statusUpdateRetries)
}

func (a *Agent) tryPostNodeStatus(ctx context.Context, facts node.Facts) error {
	cur, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, _ = a.register(ctx, facts) // deleted: register again, as the kubelet does
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading node: %w", err)
	}
	want := node.Status(facts, cur, time.Now())
	if stale, _ := node.Stale(cur, want, time.Now(), statusReport); !stale {
		return nil
	}
	cur.Status = want
	_, err = a.client.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

func (a *Agent) renewLease(ctx context.Context) {
	leases := a.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{
		"holderIdentity": a.cfg.NodeName, "leaseDurationSeconds": int32(leaseDuration / time.Second),
		"renewTime": metav1.MicroTime{Time: time.Now()},
	}})
	_, err := leases.Patch(ctx, a.cfg.NodeName, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		n, gerr := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if gerr != nil {
			return
		}
		_, err = leases.Create(ctx, node.Lease(n, leaseDuration, time.Now()), metav1.CreateOptions{})
	}
	if err != nil {
		a.log.Warn("renewing node lease", "err", err)
	}
}

// waitPodCIDR waits until the node has a pod CIDR (assigned by the node
// IPAM controller) and returns it.
func (a *Agent) waitPodCIDR(ctx context.Context) (string, error) {
	for {
		n, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			return n.Spec.PodCIDR, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for the node's pod CIDR: %w", ctx.Err())
		case <-time.After(podCIDRPolling):
		}
	}
}
