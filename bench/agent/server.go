package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// newClient is an unthrottled protobuf client for the kubeconfig.
func newClient(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = cfg.ContentType + ",application/json"
	cfg.UserAgent = "skiff-agent-bench"
	return kubernetes.NewForConfig(cfg)
}

// nodeReady returns the node's pod CIDR once its Ready condition is True
// and it has one; "" otherwise.
func nodeReady(n *corev1.Node) string {
	if n.Spec.PodCIDR == "" {
		return ""
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return n.Spec.PodCIDR
		}
	}
	return ""
}

// waitNodeReady polls the node until it is Ready with a pod CIDR.
func waitNodeReady(ctx context.Context, cs kubernetes.Interface, name string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	last := "not registered"
	for time.Now().Before(deadline) {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			if cidr := nodeReady(n); cidr != "" {
				return cidr, nil
			}
			last = fmt.Sprintf("podCIDR %q, conditions %v", n.Spec.PodCIDR, n.Status.Conditions)
		case !apierrors.IsNotFound(err):
			last = err.Error()
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("node %s not Ready after %v: %s", name, timeout, last)
}
