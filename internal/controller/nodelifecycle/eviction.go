package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// DisruptionTarget condition of a pod the evictor deletes (Kubernetes').
const (
	reasonDeletionByTaintManager  = "DeletionByTaintManager"
	messageDeletionByTaintManager = "Taint manager: deleting due to NoExecute taint"
)

// reconcilePod evicts a pod when the NoExecute taints of its node are no
// longer tolerated, or schedules another look for when they will not be.
func (c *Controller) reconcilePod(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.unschedule(key, false)
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
		c.unschedule(key, false)
		return nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		c.unschedule(key, true)
		return nil
	}
	now := c.cfg.Now()
	start := c.taintStarts(node, now)
	d := evictionDecision(pod.Spec.Tolerations, node.Spec.Taints, start, now)
	switch {
	case d.after > 0:
		c.mu.Lock()
		c.scheduled[key] = true
		c.mu.Unlock()
		return controller.RequeueAfter(d.after)
	case !d.evict:
		c.unschedule(key, true)
		return nil
	}
	c.event(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s", key)
	if err := c.evict(ctx, pod); err != nil {
		return err
	}
	c.unschedule(key, false)
	return nil
}

// evict marks the pod as a disruption target and deletes it.
func (c *Controller) evict(ctx context.Context, pod *corev1.Pod) error {
	if cond := podCondition(pod, corev1.DisruptionTarget); cond == nil || cond.Status != corev1.ConditionTrue {
		patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{{
			Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: reasonDeletionByTaintManager,
			Message: messageDeletionByTaintManager, LastTransitionTime: metav1.NewTime(c.cfg.Now()),
		}}}})
		if err != nil {
			return err
		}
		_, err = c.cfg.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("marking pod %s/%s for eviction: %w", pod.Namespace, pod.Name, err)
		}
	}
	err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("evicting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	c.cfg.Logger.Info("evicted pod from tainted node", "pod", pod.Namespace+"/"+pod.Name, "node", pod.Spec.NodeName)
	return nil
}

// taintStarts returns when each NoExecute taint of the node was added:
// its timeAdded, or for a taint without one the time this controller
// first saw it.
func (c *Controller) taintStarts(node *corev1.Node, now time.Time) func(corev1.Taint) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]time.Time{}
	for _, t := range node.Spec.Taints {
		if t.Effect != corev1.TaintEffectNoExecute || t.TimeAdded != nil {
			continue
		}
		id := t.Key + "=" + t.Value
		first, ok := c.taintSeen[node.Name][id]
		if !ok {
			first = now
		}
		seen[id] = first
	}
	if len(seen) == 0 {
		delete(c.taintSeen, node.Name)
	} else {
		c.taintSeen[node.Name] = seen
	}
	return func(t corev1.Taint) time.Time {
		if t.TimeAdded != nil {
			return t.TimeAdded.Time
		}
		return seen[t.Key+"="+t.Value]
	}
}

// unschedule forgets a pending eviction, reporting its cancellation when
// the pod stays.
func (c *Controller) unschedule(key string, cancelled bool) {
	c.mu.Lock()
	was := c.scheduled[key]
	delete(c.scheduled, key)
	c.mu.Unlock()
	if was && cancelled {
		if ns, name, err := cache.SplitMetaNamespaceKey(key); err == nil {
			ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
			c.event(ref, corev1.EventTypeNormal, "TaintManagerEviction", "Cancelling deletion of Pod %s", key)
		}
	}
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
