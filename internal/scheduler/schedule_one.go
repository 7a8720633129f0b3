package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/preemption"
	"github.com/skiff-io/skiff/internal/scheduler/queue"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
)

// Event reasons kube-scheduler uses.
const (
	ReasonScheduled        = "Scheduled"
	ReasonFailedScheduling = "FailedScheduling"
	ReasonPreempted        = "Preempted"
	// ReasonSchedulerError is the PodScheduled reason for internal errors.
	ReasonSchedulerError = "SchedulerError"
)

// maxEventMessage is where Kubernetes truncates event messages.
const maxEventMessage = 1024

func truncate(msg string) string {
	if len(msg) <= maxEventMessage {
		return msg
	}
	return msg[:maxEventMessage-3] + "..."
}

// scheduleOne runs one scheduling cycle for p and, on success, starts its
// binding in the background.
func (s *Scheduler) scheduleOne(ctx context.Context, p *queue.QueuedPodInfo) {
	pod := p.Pod
	if pod.DeletionTimestamp != nil || s.cache.IsAssumed(pod.UID) {
		return
	}
	s.cache.UpdateSnapshot(s.snapshot)
	var nominated framework.NominatedPodsFunc
	if s.queue.HasNominatedPods() {
		nominated = s.queue.NominatedPodsForNode
	}
	res, state, err := s.algo.Schedule(ctx, s.snapshot, p.PodInfo, nominated)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.handleFailure(ctx, p, state, err)
		return
	}
	s.queue.DeleteNominated(pod.UID)
	if err := s.cache.AssumePod(p.PodInfo, res.Node); err != nil {
		s.handleFailure(ctx, p, state, err)
		return
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		s.cache.ForgetPod(pod)
		return
	}
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		defer func() { <-s.sem }()
		s.bind(ctx, p, state, res.Node)
	}()
}

// bind runs the PreBind plugins and binds the pod; on failure it forgets
// the assumed pod and requeues it.
func (s *Scheduler) bind(ctx context.Context, p *queue.QueuedPodInfo, state *framework.CycleState, node string) {
	pod := p.Pod
	err := s.fw.RunPreBindPlugins(ctx, state, pod, node).AsError()
	if err == nil {
		err = s.binder.Bind(ctx, pod, node)
	}
	if err == nil {
		s.recorder.Eventf(pod, v1.EventTypeNormal, ReasonScheduled, "Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, node)
		return
	}
	s.cache.ForgetPod(pod)
	if ctx.Err() != nil {
		return
	}
	// Others may fit where this pod was assumed.
	s.queue.MoveOnEvent(framework.AssignedPodDelete, func(o *framework.PodInfo) bool { return o.Pod.UID != pod.UID })
	if apierrors.IsNotFound(err) {
		return // deleted meanwhile
	}
	s.log.Warn("binding failed", "pod", p.Key(), "node", node, "err", err)
	s.handleFailure(ctx, p, nil, fmt.Errorf("binding rejected: %w", err))
}

// handleFailure records why p was not scheduled (condition, event),
// preempts lower-priority pods if that helps, and requeues p.
func (s *Scheduler) handleFailure(ctx context.Context, p *queue.QueuedPodInfo, state *framework.CycleState, err error) {
	pod := p.Pod
	reason := v1.PodReasonUnschedulable
	rejected := true
	nominate := nominationUnchanged
	var nominatedNode string
	var fitErr *framework.FitError
	switch {
	case errors.As(err, &fitErr):
		p.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
		if !s.cfg.DisablePreemption && state != nil {
			node, msg := s.runPreemption(ctx, p, state, fitErr)
			fitErr.Diagnosis.PostFilterMsg = msg
			if node != "" {
				nominate, nominatedNode = nominationSet, node
			} else if msg != "" {
				nominate = nominationClear
			}
		}
	case errors.Is(err, framework.ErrNoNodesAvailable):
		p.UnschedulablePlugins = nil
	default:
		reason, rejected = ReasonSchedulerError, false
	}
	msg := err.Error()

	// Requeue the latest version of the pod, unless it is gone or bound.
	cur, gerr := s.pods.Pods(pod.Namespace).Get(pod.Name)
	if gerr != nil || cur.UID != pod.UID || assigned(cur) || cur.DeletionTimestamp != nil {
		return
	}
	if cur.ResourceVersion != pod.ResourceVersion {
		p.PodInfo = framework.NewPodInfo(cur, s.podPriority(cur))
	}
	if nominate == nominationSet {
		s.queue.AddNominated(p.PodInfo, nominatedNode)
	} else if nominate == nominationClear {
		s.queue.DeleteNominated(pod.UID)
	}
	s.queue.AddUnschedulable(p, rejected)
	s.log.Debug("pod not scheduled", "pod", p.Key(), "reason", reason, "message", msg)
	s.recorder.Event(cur, v1.EventTypeWarning, ReasonFailedScheduling, truncate(msg))
	s.async(func() {
		if err := s.setUnschedulable(ctx, cur, reason, msg, nominate, nominatedNode); err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
			s.log.Warn("updating pod status failed", "pod", p.Key(), "err", err)
		}
	})
}

// async runs fn in the background, bounded like bindings.
func (s *Scheduler) async(fn func()) {
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		s.sem <- struct{}{}
		defer func() { <-s.sem }()
		fn()
	}()
}

// runPreemption looks for lower-priority pods whose eviction lets p fit;
// if found, it evicts them and returns the node to nominate. Otherwise it
// returns preemption's message for the FitError.
func (s *Scheduler) runPreemption(ctx context.Context, p *queue.QueuedPodInfo, state *framework.CycleState, fitErr *framework.FitError) (string, string) {
	pdbs, err := s.pdbs.List(labels.Everything())
	if err != nil {
		pdbs = nil
	}
	cand, msg, err := s.preempt.Preempt(ctx, state, s.snapshot, p.PodInfo, &fitErr.Diagnosis, pdbs)
	if err != nil {
		s.log.Warn("preemption failed", "pod", p.Key(), "err", err)
		return "", ""
	}
	if cand == nil {
		return "", msg
	}
	if err := s.evict(ctx, p.PodInfo, cand); err != nil {
		s.log.Warn("evicting preemption victims failed", "pod", p.Key(), "node", cand.Node, "err", err)
		return "", ""
	}
	s.log.Info("preempting", "pod", p.Key(), "node", cand.Node, "victims", len(cand.Victims))
	return cand.Node, ""
}

// evict deletes the candidate's victims (gracefully, after marking them
// with a DisruptionTarget condition) and withdraws the nominations of
// lower-priority pods to the same node.
func (s *Scheduler) evict(ctx context.Context, preemptor *framework.PodInfo, cand *preemption.Candidate) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, v := range cand.Victims {
		victim := v.Pod
		if victim.DeletionTimestamp != nil {
			continue
		}
		if err := s.markDisruption(ctx, victim); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err := s.deletePod(ctx, victim); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		s.recorder.Eventf(victim, v1.EventTypeNormal, ReasonPreempted, "Preempted by pod %s on node %s", preemptor.Pod.UID, cand.Node)
	}
	for _, n := range s.queue.NominatedPodsForNode(cand.Node) {
		if n.Priority >= preemptor.Priority || n.Pod.UID == preemptor.Pod.UID {
			continue
		}
		s.queue.DeleteNominated(n.Pod.UID)
		if err := s.clearNomination(ctx, n.Pod); err != nil && !apierrors.IsNotFound(err) {
			s.log.Warn("clearing nominated node failed", "pod", n.Key(), "err", err)
		}
	}
	return nil
}
