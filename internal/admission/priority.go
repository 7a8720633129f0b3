package admission

import (
	"fmt"

	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Priority resolves a pod's priorityClassName into spec.priority and
// spec.preemptionPolicy (or applies the global default class), and allows
// only one PriorityClass to be the global default, as Kubernetes' Priority
// admission plug-in does.
type Priority struct {
	Classes Lister
}

// Admit implements apiserver.Admission.
func (p *Priority) Admit(a *apiserver.Attributes) error {
	switch {
	case a.Resource.Group == "" && a.Resource.Resource == "pods" && a.Verb == "create" && a.Subresource == "":
		return p.admitPod(a)
	case a.Resource.Group == "scheduling.k8s.io" && a.Resource.Resource == "priorityclasses" && a.Verb != "delete":
		return p.admitClass(a)
	}
	return nil
}

func (p *Priority) classes() ([]*schedulingv1.PriorityClass, error) {
	objs, err := p.Classes.List("")
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out := make([]*schedulingv1.PriorityClass, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*schedulingv1.PriorityClass))
	}
	return out, nil
}

func (p *Priority) admitPod(a *apiserver.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	classes, err := p.classes()
	if err != nil {
		return err
	}
	value, policy, err := resolvePriority(pod.Spec.PriorityClassName, classes)
	if err != nil {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, a.Name, err)
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != value {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, a.Name,
			fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, value))
	}
	pod.Spec.Priority = &value
	if policy != nil {
		pod.Spec.PreemptionPolicy = policy
	}
	return nil
}

// resolvePriority returns the priority a pod with the given class name
// gets: the class's value, the global default's value when no class is
// named, or 0 when there is no default.
func resolvePriority(name string, classes []*schedulingv1.PriorityClass) (int32, *corev1.PreemptionPolicy, error) {
	if name == "" {
		var def *schedulingv1.PriorityClass
		for _, c := range classes {
			if c.GlobalDefault && (def == nil || c.Value < def.Value) {
				def = c
			}
		}
		if def == nil {
			return 0, nil, nil
		}
		return def.Value, def.PreemptionPolicy, nil
	}
	for _, c := range classes {
		if c.Name == name {
			return c.Value, c.PreemptionPolicy, nil
		}
	}
	return 0, nil, fmt.Errorf("no PriorityClass with name %s was found", name)
}

func (p *Priority) admitClass(a *apiserver.Attributes) error {
	pc, ok := a.Object.(*schedulingv1.PriorityClass)
	if !ok || !pc.GlobalDefault {
		return nil
	}
	classes, err := p.classes()
	if err != nil {
		return err
	}
	for _, c := range classes {
		if c.GlobalDefault && c.Name != pc.Name {
			return apierrors.NewForbidden(schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}, pc.Name,
				fmt.Errorf("PriorityClass %s is already marked as default. Only one default can exist", c.Name))
		}
	}
	return nil
}

// Done implements apiserver.Admission.
func (p *Priority) Done(*apiserver.Attributes, bool) {}
