package nodelifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reconcileNode checks one node's heartbeats, marks it Unknown when they
// stopped, keeps its condition taints right and marks its pods not Ready
// while it is not Ready.
func (c *Controller) reconcileNode(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(name)
		return nil
	}
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	var renew *metav1.MicroTime
	if l, err := c.leases.Leases(corev1.NamespaceNodeLease).Get(name); err == nil {
		renew = l.Spec.RenewTime
	}
	c.mu.Lock()
	old, known := c.healths[name]
	h, grace := observeHealth(old, known, node, renew, now, c.cfg.GracePeriod, c.cfg.StartupGracePeriod)
	c.healths[name] = h
	allDisrupted, seenDown := c.allDisrupted, c.seenDown[name]
	c.mu.Unlock()
	if !known {
		c.event(node, corev1.EventTypeNormal, "RegisteredNode", "Registered Node %s in Controller", name)
	}

	wasReady := isReady(node)
	if now.After(h.probe.Add(grace)) {
		upd := node.DeepCopy()
		if markUnknown(&upd.Status, node.CreationTimestamp, now) {
			if upd, err = c.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
				if apierrors.IsNotFound(err) {
					return nil
				}
				return fmt.Errorf("marking node %s Unknown: %w", name, err)
			}
			c.cfg.Logger.Info("node stopped posting status", "node", name, "since", h.probe)
			if wasReady {
				c.event(node, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", name)
			}
			node = upd
		}
	}

	if err := c.syncTaints(ctx, node, allDisrupted, seenDown, now); err != nil {
		return err
	}
	if r := nodeCondition(node.Status.Conditions, corev1.NodeReady); r != nil && r.Status != corev1.ConditionTrue {
		if err := c.markPodsNotReady(ctx, node, now); err != nil {
			return err
		}
		// Keep an eye on the node: its NoExecute taint may wait for the
		// zone's rate limit, and the zone state may change.
		return controller.RequeueAfter(c.cfg.MonitorPeriod)
	}
	return controller.RequeueAfter(h.probe.Add(grace).Sub(now) + time.Millisecond)
}

// syncTaints brings the controller-owned taints of a node in line.
// seenDown tells whether the last zone pass counted the node as not
// Ready, i.e. whether its zone's state accounts for it.
func (c *Controller) syncTaints(ctx context.Context, node *corev1.Node, allDisrupted, seenDown bool, now time.Time) error {
	ne := noExecuteTaint(node, allDisrupted)
	// Adding the first NoExecute taint starts evictions. It waits until a
	// zone pass has seen the node down (so that nodes failing together
	// are judged together, as a possible zone or control-plane outage),
	// then for a token of the zone's rate limiter. Removing or swapping
	// the taint does not wait.
	allow := ne == "" || hasNoExecute(node.Spec.Taints) || (seenDown && c.limits.tryAccept(zoneKey(node)))
	taints, changed := reconcileTaints(node.Spec.Taints, conditionTaints(node), ne, allow, now)
	if allow && ne != "" && !hasNoExecute(node.Spec.Taints) {
		c.cfg.Logger.Info("tainting node for eviction", "node", node.Name, "taint", ne)
	}
	if !changed {
		return nil
	}
	upd := node.DeepCopy()
	upd.Spec.Taints = taints
	if _, err := c.cfg.Client.CoreV1().Nodes().Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("updating taints of node %s: %w", node.Name, err)
	}
	return nil
}

// markPodsNotReady sets Ready=False on the node's pods that still claim
// to be Ready.
func (c *Controller) markPodsNotReady(ctx context.Context, node *corev1.Node, now time.Time) error {
	objs, err := c.podIdx.ByIndex(podNodeIndex, node.Name)
	if err != nil {
		return err
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	for _, p := range podsToMarkNotReady(pods, now) {
		_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("marking pod %s/%s not Ready: %w", p.Namespace, p.Name, err)
		}
		c.event(p, corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
	}
	return nil
}

// forget drops what the controller knew of a deleted node.
func (c *Controller) forget(name string) {
	c.mu.Lock()
	_, known := c.healths[name]
	delete(c.healths, name)
	delete(c.taintSeen, name)
	c.mu.Unlock()
	if known {
		ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: name}
		c.event(ref, corev1.EventTypeNormal, "RemovingNode", "Removing Node %s from Controller", name)
	}
}

func isReady(n *corev1.Node) bool {
	r := nodeCondition(n.Status.Conditions, corev1.NodeReady)
	return r != nil && r.Status == corev1.ConditionTrue
}

func (c *Controller) event(obj interface{}, typ, reason, format string, args ...interface{}) {
	if c.cfg.Recorder == nil {
		return
	}
	switch o := obj.(type) {
	case *corev1.ObjectReference:
		c.cfg.Recorder.Eventf(o, typ, reason, format, args...)
	case *corev1.Node:
		// Node events are recorded against the node name, as Kubernetes does.
		ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: o.Name, UID: o.UID}
		c.cfg.Recorder.Eventf(ref, typ, reason, format, args...)
	case *corev1.Pod:
		c.cfg.Recorder.Eventf(o, typ, reason, format, args...)
	}
}
