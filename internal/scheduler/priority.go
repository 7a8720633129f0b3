package scheduler

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// builtinPriority is the value of a built-in priority class, used if it is
// not (yet) in the informer cache.
func builtinPriority(name string) int32 {
	switch name {
	case "system-cluster-critical":
		return 2000000000
	case "system-node-critical":
		return 2000001000
	}
	return 0
}

// podPriority is spec.priority; when the API server has not resolved it
// (no Priority admission), the value of spec.priorityClassName's
// PriorityClass, else of the global-default PriorityClass, else 0.
func (s *Scheduler) podPriority(pod *v1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	if name := pod.Spec.PriorityClassName; name != "" {
		if pc, err := s.priorityClasses.Get(name); err == nil {
			return pc.Value
		}
		return builtinPriority(name)
	}
	pcs, err := s.priorityClasses.List(labels.Everything())
	if err != nil {
		return 0
	}
	found, value := false, int32(0)
	for _, pc := range pcs {
		if pc.GlobalDefault && (!found || pc.Value < value) {
			found, value = true, pc.Value
		}
	}
	return value
}
