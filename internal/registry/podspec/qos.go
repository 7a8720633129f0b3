package podspec

import (
	corev1 "k8s.io/api/core/v1"
)

// QOSClass computes a pod's quality of service class from its resources:
// BestEffort when no container requests or limits cpu or memory,
// Guaranteed when every container limits both cpu and memory and every
// request equals its limit, Burstable otherwise. Pod-level resources, when
// set, take the place of the containers'. Ephemeral containers do not count.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod == nil {
		return corev1.PodQOSBestEffort
	}
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	if r := pod.Spec.Resources; r != nil && (len(r.Requests) > 0 || len(r.Limits) > 0) {
		addQOSResources(requests, r.Requests)
		found := addQOSResources(limits, r.Limits)
		guaranteed = found[corev1.ResourceCPU] && found[corev1.ResourceMemory]
	} else {
		containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
		for _, c := range containers {
			addQOSResources(requests, c.Resources.Requests)
			found := addQOSResources(limits, c.Resources.Limits)
			if !found[corev1.ResourceCPU] || !found[corev1.ResourceMemory] {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// addQOSResources adds the positive cpu and memory quantities of list to
// into and reports which of the two it found.
func addQOSResources(into, list corev1.ResourceList) map[corev1.ResourceName]bool {
	found := map[corev1.ResourceName]bool{}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q, ok := list[name]
		if !ok || q.Sign() <= 0 {
			continue
		}
		found[name] = true
		sum := q.DeepCopy()
		if cur, ok := into[name]; ok {
			sum.Add(cur)
		}
		into[name] = sum
	}
	return found
}
