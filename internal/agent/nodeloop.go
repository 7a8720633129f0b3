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

func (a *Agent) postNodeStatus(ctx context.Context, facts node.Facts) {
	cur, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = a.register(ctx, facts)
		return
	}
	if err != nil {
		a.log.Warn("reading node", "err", err)
		return
	}
	want := node.Status(facts, cur, time.Now())
	if stale, _ := node.Stale(cur, want, time.Now(), statusReport); !stale {
		return
	}
	cur.Status = want
	if _, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		a.log.Warn("posting node status", "err", err)
	}
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
