// Package quota computes what objects count against a ResourceQuota. It is
// pure: the admission plug-in uses it to refuse what would exceed a quota,
// and the quota controller to recompute usage.
package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CountName is the object-count resource name of a group/resource, e.g.
// "count/deployments.apps" or "count/pods".
func CountName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group == "" {
		return corev1.ResourceName("count/" + gr.Resource)
	}
	return corev1.ResourceName("count/" + gr.Resource + "." + gr.Group)
}

// legacyCounts are the short count names Kubernetes still accepts for core
// resources ("pods", "services", ...).
var legacyCounts = map[string]corev1.ResourceName{
	"pods":                   corev1.ResourcePods,
	"services":               corev1.ResourceServices,
	"configmaps":             corev1.ResourceConfigMaps,
	"secrets":                corev1.ResourceSecrets,
	"persistentvolumeclaims": corev1.ResourcePersistentVolumeClaims,
	"replicationcontrollers": corev1.ResourceReplicationControllers,
	"resourcequotas":         corev1.ResourceQuotas,
}

// Usage returns what obj, an object of gr, counts for: always its object
// count, plus compute resources for pods and storage and node ports for
// claims and services. Finished pods count for nothing.
func Usage(gr schema.GroupResource, obj runtime.Object) corev1.ResourceList {
	use := corev1.ResourceList{CountName(gr): *resource.NewQuantity(1, resource.DecimalSI)}
	if gr.Group == "" {
		if legacy, ok := legacyCounts[gr.Resource]; ok {
			use[legacy] = *resource.NewQuantity(1, resource.DecimalSI)
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed {
			return corev1.ResourceList{}
		}
		addPodResources(use, o)
	case *corev1.Service:
		switch o.Spec.Type {
		case corev1.ServiceTypeNodePort:
			use[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(int64(len(o.Spec.Ports)), resource.DecimalSI)
		case corev1.ServiceTypeLoadBalancer:
			use[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(1, resource.DecimalSI)
			use[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(int64(len(o.Spec.Ports)), resource.DecimalSI)
		}
	case *corev1.PersistentVolumeClaim:
		if q, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			use[corev1.ResourceRequestsStorage] = q
			if sc := storageClassOf(o); sc != "" {
				use[corev1.ResourceName(sc+".storageclass.storage.k8s.io/requests.storage")] = q
				use[corev1.ResourceName(sc+".storageclass.storage.k8s.io/persistentvolumeclaims")] = *resource.NewQuantity(1, resource.DecimalSI)
			}
		}
	}
	return use
}

func storageClassOf(pvc *corev1.PersistentVolumeClaim) string {
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return ""
}

// computeResources are the resources whose requests and limits a pod
// counts for.
var computeResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

// addPodResources adds a pod's effective requests and limits: the larger
// of the sum over app containers and the largest init container, as the
// scheduler counts them.
func addPodResources(use corev1.ResourceList, pod *corev1.Pod) {
	for _, name := range computeResources {
		if q, ok := podAmount(pod, name, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests }); ok {
			use[corev1.ResourceName("requests."+string(name))] = q
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				use[name] = q // "cpu" and "memory" mean requests
			}
		}
		if q, ok := podAmount(pod, name, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits }); ok {
			use[corev1.ResourceName("limits."+string(name))] = q
		}
	}
}

func podAmount(pod *corev1.Pod, name corev1.ResourceName, list func(*corev1.Container) corev1.ResourceList) (resource.Quantity, bool) {
	var sum resource.Quantity
	found := false
	for i := range pod.Spec.Containers {
		if q, ok := list(&pod.Spec.Containers[i])[name]; ok {
			sum.Add(q)
			found = true
		}
	}
	for i := range pod.Spec.InitContainers {
		if q, ok := list(&pod.Spec.InitContainers[i])[name]; ok {
			found = true
			if q.Cmp(sum) > 0 {
				sum = q.DeepCopy()
			}
		}
	}
	return sum, found
}

// MissingRequirements lists the "limits.cpu for: app" style requirements a
// pod fails when a quota constrains compute resources the pod does not
// declare for every container.
func MissingRequirements(hard corev1.ResourceList, pod *corev1.Pod) []string {
	var out []string
	for _, name := range computeResources {
		for _, kind := range []string{"requests", "limits"} {
			rn := corev1.ResourceName(kind + "." + string(name))
			_, constrained := hard[rn]
			if kind == "requests" && (name == corev1.ResourceCPU || name == corev1.ResourceMemory) {
				if _, plain := hard[name]; plain {
					constrained = true
				}
			}
			if !constrained {
				continue
			}
			var missing []string
			for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
				list := c.Resources.Requests
				if kind == "limits" {
					list = c.Resources.Limits
				}
				if _, ok := list[name]; !ok {
					missing = append(missing, c.Name)
				}
			}
			if len(missing) > 0 {
				out = append(out, fmt.Sprintf("%s for: %s", rn, strings.Join(missing, ",")))
			}
		}
	}
	return out
}

// Matches reports whether obj falls under every scope of the quota, from
// spec.scopes and spec.scopeSelector alike.
func Matches(q *corev1.ResourceQuota, obj runtime.Object) bool {
	for _, s := range q.Spec.Scopes {
		if !inScope(s, obj) {
			return false
		}
	}
	if q.Spec.ScopeSelector == nil {
		return true
	}
	for _, req := range q.Spec.ScopeSelector.MatchExpressions {
		if req.ScopeName == corev1.ResourceQuotaScopePriorityClass {
			if !matchesPriority(req, obj) {
				return false
			}
		} else if !inScope(req.ScopeName, obj) {
			return false
		}
	}
	return true
}

func matchesPriority(req corev1.ScopedResourceSelectorRequirement, obj runtime.Object) bool {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return false
	}
	in := false
	for _, v := range req.Values {
		if v == pod.Spec.PriorityClassName {
			in = true
		}
	}
	switch req.Operator {
	case corev1.ScopeSelectorOpIn:
		return in
	case corev1.ScopeSelectorOpNotIn:
		return !in
	case corev1.ScopeSelectorOpExists:
		return pod.Spec.PriorityClassName != ""
	case corev1.ScopeSelectorOpDoesNotExist:
		return pod.Spec.PriorityClassName == ""
	}
	return false
}

// inScope reports whether obj falls under one scope. Scopes describe pods;
// other objects fall under none of them.
func inScope(s corev1.ResourceQuotaScope, obj runtime.Object) bool {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return false
	}
	switch s {
	case corev1.ResourceQuotaScopeTerminating:
		return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
	case corev1.ResourceQuotaScopeNotTerminating:
		return pod.Spec.ActiveDeadlineSeconds == nil || *pod.Spec.ActiveDeadlineSeconds < 0
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod)
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod)
	case corev1.ResourceQuotaScopePriorityClass:
		return pod.Spec.PriorityClassName != ""
	}
	return false
}

func isBestEffort(pod *corev1.Pod) bool {
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			return false
		}
	}
	return true
}

// Add returns a + b for every resource in either.
func Add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range a {
		out[k] = v.DeepCopy()
	}
	for k, v := range b {
		q := out[k]
		q.Add(v)
		out[k] = q
	}
	return out
}

// Exceeded returns the resources of hard that used+delta would exceed,
// sorted, considering only resources delta touches.
func Exceeded(hard, used, delta corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for name, d := range delta {
		limit, ok := hard[name]
		if !ok || d.IsZero() {
			continue
		}
		total := used[name].DeepCopy()
		total.Add(d)
		if total.Cmp(limit) > 0 {
			out = append(out, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Format renders "name=quantity" pairs for the given names, as Kubernetes'
// quota messages do.
func Format(list corev1.ResourceList, names []corev1.ResourceName) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		q := list[n]
		parts = append(parts, fmt.Sprintf("%s=%s", n, q.String()))
	}
	return strings.Join(parts, ",")
}
