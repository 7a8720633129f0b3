package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

type nomination int

const (
	nominationUnchanged nomination = iota
	nominationSet
	nominationClear
)

func podCondition(pod *v1.Pod, t v1.PodConditionType) *v1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// conditionPatch is a strategic merge patch of pods/status that sets one
// condition (merged by type) and, if nominate says so, nominatedNodeName.
func conditionPatch(c v1.PodCondition, nominate nomination, node string) ([]byte, error) {
	status := map[string]interface{}{"conditions": []v1.PodCondition{c}}
	switch nominate {
	case nominationSet:
		status["nominatedNodeName"] = node
	case nominationClear:
		status["nominatedNodeName"] = nil
	}
	return json.Marshal(map[string]interface{}{"status": status})
}

// setUnschedulable sets PodScheduled=False with reason and message (and the
// nomination), unless the pod already says exactly that.
func (s *Scheduler) setUnschedulable(ctx context.Context, pod *v1.Pod, reason, msg string, nominate nomination, node string) error {
	old := podCondition(pod, v1.PodScheduled)
	nominationSame := nominate == nominationUnchanged ||
		(nominate == nominationSet && pod.Status.NominatedNodeName == node) ||
		(nominate == nominationClear && pod.Status.NominatedNodeName == "")
	if old != nil && old.Status == v1.ConditionFalse && old.Reason == reason && old.Message == msg && nominationSame {
		return nil
	}
	c := v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: reason, Message: msg,
		LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))}
	if old != nil && old.Status == v1.ConditionFalse {
		c.LastTransitionTime = old.LastTransitionTime
	}
	patch, err := conditionPatch(c, nominate, node)
	if err != nil {
		return err
	}
	_, err = s.cfg.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("patching status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// markDisruption adds the DisruptionTarget condition Kubernetes puts on
// pods it preempts.
func (s *Scheduler) markDisruption(ctx context.Context, pod *v1.Pod) error {
	c := v1.PodCondition{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler,
		Message:            fmt.Sprintf("%s: preempting to accommodate a higher priority pod", s.cfg.SchedulerName),
		LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))}
	patch, err := conditionPatch(c, nominationUnchanged, "")
	if err != nil {
		return err
	}
	_, err = s.cfg.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// deletePod deletes a victim gracefully (its own grace period), only if it
// is still the same pod.
func (s *Scheduler) deletePod(ctx context.Context, pod *v1.Pod) error {
	uid := pod.UID
	return s.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

// clearNomination removes status.nominatedNodeName.
func (s *Scheduler) clearNomination(ctx context.Context, pod *v1.Pod) error {
	if pod.Status.NominatedNodeName == "" {
		return nil
	}
	patch := []byte(`{"status":{"nominatedNodeName":null}}`)
	_, err := s.cfg.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}
