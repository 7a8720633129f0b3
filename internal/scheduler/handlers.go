package scheduler

import (
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/informers"
	toolscache "k8s.io/client-go/tools/cache"
)

func assigned(p *v1.Pod) bool { return p.Spec.NodeName != "" }

func terminal(p *v1.Pod) bool {
	return p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed
}

// responsible reports whether this scheduler should schedule the pod.
func (s *Scheduler) responsible(p *v1.Pod) bool {
	return p.Spec.SchedulerName == s.cfg.SchedulerName && !assigned(p) && !terminal(p) && p.DeletionTimestamp == nil
}

func podOf(obj interface{}) *v1.Pod {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, _ := obj.(*v1.Pod)
	return p
}

func nodeOf(obj interface{}) *v1.Node {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	n, _ := obj.(*v1.Node)
	return n
}

func (s *Scheduler) addHandlers(f informers.SharedInformerFactory) error {
	core1 := f.Core().V1()
	if _, err := core1.Pods().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { s.onPodAdd(podOf(obj)) },
		UpdateFunc: func(old, cur interface{}) { s.onPodUpdate(podOf(old), podOf(cur)) },
		DeleteFunc: func(obj interface{}) { s.onPodDelete(podOf(obj)) },
	}); err != nil {
		return fmt.Errorf("scheduler: pod handler: %w", err)
	}
	if _, err := core1.Nodes().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if n := nodeOf(obj); n != nil {
				s.cache.AddNode(n)
				s.queue.MoveOnEvent(framework.NodeAdd, nil)
			}
		},
		UpdateFunc: func(old, cur interface{}) {
			o, n := nodeOf(old), nodeOf(cur)
			if o == nil || n == nil || !nodeChanged(o, n) {
				return
			}
			s.cache.UpdateNode(o, n)
			s.queue.MoveOnEvent(framework.NodeUpdate, nil)
		},
		DeleteFunc: func(obj interface{}) {
			if n := nodeOf(obj); n != nil {
				s.cache.RemoveNode(n)
			}
		},
	}); err != nil {
		return fmt.Errorf("scheduler: node handler: %w", err)
	}
	volumes := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { s.queue.MoveOnEvent(framework.VolumeChange, nil) },
		UpdateFunc: func(_, _ interface{}) { s.queue.MoveOnEvent(framework.VolumeChange, nil) },
	}
	for _, inf := range []toolscache.SharedIndexInformer{core1.PersistentVolumeClaims().Informer(),
		core1.PersistentVolumes().Informer(), f.Storage().V1().StorageClasses().Informer()} {
		if _, err := inf.AddEventHandler(volumes); err != nil {
			return fmt.Errorf("scheduler: volume handler: %w", err)
		}
	}
	return nil
}

// nodeChanged reports whether a node update matters to scheduling (not
// just a heartbeat): labels, taints, cordoning, allocatable or readiness.
func nodeChanged(o, n *v1.Node) bool {
	return !equality.Semantic.DeepEqual(o.Labels, n.Labels) ||
		!equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) ||
		o.Spec.Unschedulable != n.Spec.Unschedulable ||
		!equality.Semantic.DeepEqual(o.Status.Allocatable, n.Status.Allocatable) ||
		readyStatus(o) != readyStatus(n)
}

func readyStatus(n *v1.Node) v1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.Status
		}
	}
	return v1.ConditionUnknown
}

func (s *Scheduler) onPodAdd(p *v1.Pod) {
	if p == nil {
		return
	}
	switch {
	case assigned(p):
		if !terminal(p) {
			s.cache.AddPod(p)
			s.queue.MoveOnEvent(framework.AssignedPodAdd, nil)
		}
	case s.responsible(p):
		s.queue.Add(p)
	}
}

func (s *Scheduler) onPodUpdate(old, cur *v1.Pod) {
	if old == nil || cur == nil {
		return
	}
	switch {
	case assigned(cur) && !assigned(old):
		// Bound (by us, confirming the assumed pod, or by someone else).
		s.queue.Delete(cur)
		if terminal(cur) {
			s.cache.RemovePod(cur)
			return
		}
		s.cache.AddPod(cur)
		s.queue.MoveOnEvent(framework.AssignedPodAdd, nil)
	case assigned(cur):
		if terminal(cur) {
			s.cache.RemovePod(cur)
			if !terminal(old) {
				s.queue.MoveOnEvent(framework.AssignedPodDelete, nil)
			}
			return
		}
		s.cache.UpdatePod(old, cur)
		if !equality.Semantic.DeepEqual(old.Labels, cur.Labels) {
			s.queue.MoveOnEvent(framework.AssignedPodUpdate, nil)
		}
	case s.responsible(cur):
		s.queue.Update(old, cur)
	default:
		// No longer ours (deleting, finished, another scheduler).
		s.queue.Delete(cur)
	}
}

func (s *Scheduler) onPodDelete(p *v1.Pod) {
	if p == nil {
		return
	}
	s.queue.Delete(p)
	if assigned(p) || s.cache.IsAssumed(p.UID) {
		s.cache.RemovePod(p)
		s.queue.MoveOnEvent(framework.AssignedPodDelete, nil)
	}
}
