package admission

import (
	"fmt"
	"sort"
	"strings"

	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// LimitRanger applies a namespace's LimitRanges to new pods and claims:
// default requests and limits for containers that set none, then the
// min/max/ratio bounds, refusing violations with Kubernetes' messages.
type LimitRanger struct {
	Ranges Lister
}

// limitRangerAnnotation records which defaults were applied to a pod.
const limitRangerAnnotation = "kubernetes.io/limit-ranger"

// Admit implements apiserver.Admission.
func (l *LimitRanger) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Subresource != "" || a.Resource.Group != "" {
		return nil
	}
	if a.Resource.Resource != "pods" && a.Resource.Resource != "persistentvolumeclaims" {
		return nil
	}
	objs, err := l.Ranges.List(a.Namespace)
	if err != nil || len(objs) == 0 {
		return err
	}
	var items []corev1.LimitRangeItem
	for _, o := range objs {
		items = append(items, o.(*corev1.LimitRange).Spec.Limits...)
	}
	gr := schema.GroupResource{Resource: a.Resource.Resource}
	var problems []string
	switch obj := a.Object.(type) {
	case *corev1.Pod:
		if applied := applyContainerDefaults(obj, items); len(applied) > 0 {
			if obj.Annotations == nil {
				obj.Annotations = map[string]string{}
			}
			obj.Annotations[limitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(applied, "; ")
		}
		problems = podLimitProblems(obj, items)
	case *corev1.PersistentVolumeClaim:
		problems = claimLimitProblems(obj, items)
	}
	if len(problems) > 0 {
		return forbidden(gr, a.Name, "["+strings.Join(problems, ", ")+"]")
	}
	return nil
}

// Done implements apiserver.Admission.
func (l *LimitRanger) Done(*apiserver.Attributes, bool) {}

// applyContainerDefaults fills unset requests and limits from Container
// items and describes what it set ("cpu request for container app").
func applyContainerDefaults(pod *corev1.Pod, items []corev1.LimitRangeItem) []string {
	var applied []string
	apply := func(c *corev1.Container, kind string) {
		for _, item := range items {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			for _, name := range sortedNames(item.Default) {
				if _, ok := c.Resources.Limits[name]; !ok {
					c.Resources.Limits[name] = item.Default[name].DeepCopy()
					applied = append(applied, fmt.Sprintf("%s limit for %s %s", name, kind, c.Name))
				}
			}
			defReq := item.DefaultRequest
			if len(defReq) == 0 {
				defReq = item.Default
			}
			for _, name := range sortedNames(defReq) {
				if _, ok := c.Resources.Requests[name]; !ok {
					// A request defaults to an explicit limit when there is one.
					v := defReq[name].DeepCopy()
					if lim, ok := c.Resources.Limits[name]; ok && len(item.DefaultRequest) == 0 {
						v = lim.DeepCopy()
					}
					c.Resources.Requests[name] = v
					applied = append(applied, fmt.Sprintf("%s request for %s %s", name, kind, c.Name))
				}
			}
			if len(c.Resources.Limits) == 0 {
				c.Resources.Limits = nil
			}
			if len(c.Resources.Requests) == 0 {
				c.Resources.Requests = nil
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		apply(&pod.Spec.InitContainers[i], "init container")
	}
	for i := range pod.Spec.Containers {
		apply(&pod.Spec.Containers[i], "container")
	}
	return applied
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// podLimitProblems checks Container items per container and Pod items on
// the sums.
func podLimitProblems(pod *corev1.Pod, items []corev1.LimitRangeItem) []string {
	var problems []string
	podReq, podLim := corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, item := range items {
			if item.Type == corev1.LimitTypeContainer {
				problems = append(problems, boundProblems("Container", item, c.Resources.Requests, c.Resources.Limits)...)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		for k, v := range c.Resources.Requests {
			q := podReq[k]
			q.Add(v)
			podReq[k] = q
		}
		for k, v := range c.Resources.Limits {
			q := podLim[k]
			q.Add(v)
			podLim[k] = q
		}
	}
	for _, item := range items {
		if item.Type == corev1.LimitTypePod {
			problems = append(problems, boundProblems("Pod", item, podReq, podLim)...)
		}
	}
	return problems
}

func claimLimitProblems(pvc *corev1.PersistentVolumeClaim, items []corev1.LimitRangeItem) []string {
	var problems []string
	req := pvc.Spec.Resources.Requests
	for _, item := range items {
		if item.Type != corev1.LimitTypePersistentVolumeClaim {
			continue
		}
		for _, name := range sortedNames(item.Min) {
			if v, ok := req[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s request is required", name))
			} else if v.Cmp(item.Min[name]) < 0 {
				min := item.Min[name]
				problems = append(problems, fmt.Sprintf("minimum %s usage per PersistentVolumeClaim is %s, but request is %s", name, min.String(), v.String()))
			}
		}
		for _, name := range sortedNames(item.Max) {
			if v, ok := req[name]; ok && v.Cmp(item.Max[name]) > 0 {
				max := item.Max[name]
				problems = append(problems, fmt.Sprintf("maximum %s usage per PersistentVolumeClaim is %s, but request is %s", name, max.String(), v.String()))
			}
		}
	}
	return problems
}

// boundProblems checks min, max and maxLimitRequestRatio of one item.
func boundProblems(kind string, item corev1.LimitRangeItem, req, lim corev1.ResourceList) []string {
	var problems []string
	for _, name := range sortedNames(item.Min) {
		min := item.Min[name]
		if r, ok := req[name]; !ok {
			problems = append(problems, fmt.Sprintf("minimum %s usage per %s is %s.  No request is specified", name, kind, min.String()))
		} else if r.Cmp(min) < 0 {
			problems = append(problems, fmt.Sprintf("minimum %s usage per %s is %s, but request is %s", name, kind, min.String(), r.String()))
		}
	}
	for _, name := range sortedNames(item.Max) {
		max := item.Max[name]
		if l, ok := lim[name]; !ok {
			problems = append(problems, fmt.Sprintf("maximum %s usage per %s is %s.  No limit is specified", name, kind, max.String()))
		} else if l.Cmp(max) > 0 {
			problems = append(problems, fmt.Sprintf("maximum %s usage per %s is %s, but limit is %s", name, kind, max.String(), l.String()))
		}
	}
	for _, name := range sortedNames(item.MaxLimitRequestRatio) {
		ratio := item.MaxLimitRequestRatio[name]
		l, lok := lim[name]
		r, rok := req[name]
		if !lok || !rok || r.IsZero() {
			continue
		}
		got := float64(l.MilliValue()) / float64(r.MilliValue())
		if got > float64(ratio.MilliValue())/1000 {
			problems = append(problems, fmt.Sprintf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, kind, ratio.String(), got))
		}
	}
	return problems
}
