package simulator

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// syncPod plays the node agent for one pod bound to a simulated node.
func (s *Simulator) syncPod(ctx context.Context, key string) error {
	ns, name, ok := strings.Cut(key, "/")
	if !ok {
		return nil
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.releaseDeleted(key)
		return nil
	}
	if err != nil {
		return err
	}
	n := s.byName[pod.Spec.NodeName]
	if n == nil || n.stopped.Load() {
		return nil
	}
	n.mu.Lock()
	gone := n.gone
	n.mu.Unlock()
	if gone {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		return s.finishDeletion(ctx, n, pod, key)
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		n.release(key) // the sandbox is gone; its IP is free again
		return nil
	}
	node, err := s.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		// Bound before we registered, or the informer lags: wait for the node.
		return controller.RequeueAfter(s.cfg.RenewInterval / 10)
	}
	env := podEnv{hostIP: nodeIP(s.cfg.NamePrefix, n.index), now: s.cfg.Now(), jobDuration: s.cfg.JobDuration}
	if len(pod.Status.PodIPs) == 0 && !pod.Spec.HostNetwork {
		if env.podIPs, err = s.assignIPs(n, node, pod, key); err != nil {
			return fmt.Errorf("pod %s: %w", key, err)
		}
	} else if !pod.Spec.HostNetwork {
		s.recordIPs(n, pod, key)
	}
	want, again := planPodStatus(pod, env)
	if want != nil {
		upd := pod.DeepCopy()
		upd.Status = *want
		if _, err := s.client.CoreV1().Pods(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("updating status of pod %s: %w", key, err)
		}
	}
	if again > 0 {
		return controller.RequeueAfter(again)
	}
	return nil
}

// finishDeletion plays the agent's part of a graceful deletion: the
// containers are stopped at once; a pod that finalizers keep around is
// first given a terminal status (as the kubelet reports stopped pods),
// then the deletion is completed with grace period 0.
func (s *Simulator) finishDeletion(ctx context.Context, n *simNode, pod *corev1.Pod, key string) error {
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if len(pod.Finalizers) > 0 && !terminal {
		upd := pod.DeepCopy()
		upd.Status = *stoppedStatus(pod, podEnv{hostIP: nodeIP(s.cfg.NamePrefix, n.index), now: s.cfg.Now()})
		if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("stopping pod %s: %w", key, err)
		}
	}
	if g := pod.DeletionGracePeriodSeconds; g == nil || *g != 0 {
		err := s.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To(int64(0)),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting pod %s: %w", key, err)
		}
	}
	n.release(key)
	return nil
}

// assignIPs gives a pod an address from each of its node's pod CIDRs (or
// the node's private fallback range while it has none).
func (s *Simulator) assignIPs(n *simNode, node *corev1.Node, pod *corev1.Pod, key string) ([]netip.Addr, error) {
	var ranges []netip.Prefix
	for _, c := range node.Spec.PodCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			ranges = append(ranges, p)
		}
	}
	if len(ranges) == 0 {
		ranges = []netip.Prefix{fallbackPodCIDR(n.index)}
	}
	s.podNode.Store(key, n)
	n.mu.Lock()
	defer n.mu.Unlock()
	s.seedIPsLocked(n)
	return n.ips.assign(key, string(pod.UID), ranges)
}

// recordIPs notes the addresses a pod already reports.
func (s *Simulator) recordIPs(n *simNode, pod *corev1.Pod, key string) {
	s.podNode.Store(key, n)
	n.mu.Lock()
	defer n.mu.Unlock()
	s.seedIPsLocked(n)
	if _, ok := n.ips.lookup(key, string(pod.UID)); !ok {
		n.ips.record(key, string(pod.UID), statusIPs(pod))
	}
}

// seedIPsLocked loads, once per node, the addresses its live pods already
// hold, so that after a restart no address is handed out twice.
func (s *Simulator) seedIPsLocked(n *simNode) {
	if n.ips.byPod != nil {
		return
	}
	n.ips.init()
	objs, _ := s.podIdx.ByIndex(nodeNameIndex, n.name)
	for _, o := range objs {
		pod := o.(*corev1.Pod)
		if pod.Spec.HostNetwork || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		if ips := statusIPs(pod); len(ips) > 0 {
			n.ips.record(pod.Namespace+"/"+pod.Name, string(pod.UID), ips)
		}
	}
}

func statusIPs(pod *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	for _, ip := range pod.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func (n *simNode) release(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ips.byPod != nil {
		n.ips.release(key)
	}
}

// releaseDeleted frees the addresses of a pod that is gone from the cache.
func (s *Simulator) releaseDeleted(key string) {
	if n, ok := s.podNode.LoadAndDelete(key); ok {
		n.(*simNode).release(key)
	}
}
