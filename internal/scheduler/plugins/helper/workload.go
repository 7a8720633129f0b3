package helper

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// WorkloadListers find the objects that group a pod with its siblings;
// any may be nil.
type WorkloadListers struct {
	Services               corelisters.ServiceLister
	ReplicationControllers corelisters.ReplicationControllerLister
	ReplicaSets            appslisters.ReplicaSetLister
	StatefulSets           appslisters.StatefulSetLister
}

// DefaultSelector is the selector of the pod's siblings for default
// spreading: the union of the selectors of the Services selecting the pod,
// and of its controlling ReplicationController, ReplicaSet or StatefulSet.
// It is empty when the pod belongs to none.
func (w WorkloadListers) DefaultSelector(pod *v1.Pod) labels.Selector {
	set := labels.Set{}
	if w.Services != nil {
		if svcs, err := w.Services.Services(pod.Namespace).List(labels.Everything()); err == nil {
			podLabels := labels.Set(pod.Labels)
			for _, s := range svcs {
				if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
					set = labels.Merge(set, s.Spec.Selector)
				}
			}
		}
	}
	sel := labels.SelectorFromSet(set)
	owner := metav1.GetControllerOf(pod)
	if owner == nil {
		return sel
	}
	addSelector := func(ls *metav1.LabelSelector) {
		other, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return
		}
		if reqs, ok := other.Requirements(); ok {
			sel = sel.Add(reqs...)
		}
	}
	switch {
	case owner.Kind == "ReplicationController" && owner.APIVersion == "v1" && w.ReplicationControllers != nil:
		if rc, err := w.ReplicationControllers.ReplicationControllers(pod.Namespace).Get(owner.Name); err == nil {
			set = labels.Merge(set, rc.Spec.Selector)
			sel = labels.SelectorFromSet(set)
		}
	case owner.Kind == "ReplicaSet" && owner.APIVersion == "apps/v1" && w.ReplicaSets != nil:
		if rs, err := w.ReplicaSets.ReplicaSets(pod.Namespace).Get(owner.Name); err == nil {
			addSelector(rs.Spec.Selector)
		}
	case owner.Kind == "StatefulSet" && owner.APIVersion == "apps/v1" && w.StatefulSets != nil:
		if ss, err := w.StatefulSets.StatefulSets(pod.Namespace).Get(owner.Name); err == nil {
			addSelector(ss.Spec.Selector)
		}
	}
	return sel
}
