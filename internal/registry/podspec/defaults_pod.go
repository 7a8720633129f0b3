package podspec

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DefaultPod sets unset fields of a Pod to Kubernetes' defaults. Besides
// everything DefaultPodSpec does, it applies the defaults Kubernetes gives
// only to Pod objects and never to pod templates: container requests copied
// from limits, enableServiceLinks, host ports under hostNetwork, pod-level
// requests, and a negative terminationGracePeriodSeconds read as 1. It is
// idempotent.
func DefaultPod(pod *corev1.Pod) {
	if pod == nil {
		return
	}
	spec := &pod.Spec
	for i := range spec.Containers {
		requestsFromLimits(&spec.Containers[i].Resources)
	}
	for i := range spec.InitContainers {
		requestsFromLimits(&spec.InitContainers[i].Resources)
	}
	defaultPodLevelRequests(spec)
	if spec.EnableServiceLinks == nil {
		enable := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &enable
	}
	if spec.HostNetwork {
		hostPortsFromContainerPorts(spec.Containers)
		hostPortsFromContainerPorts(spec.InitContainers)
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		one := int64(1)
		spec.TerminationGracePeriodSeconds = &one
	}
	DefaultPodSpec(spec)
}

// requestsFromLimits fills each missing request with the matching limit, so
// a container that only sets limits is scheduled on what it may use.
func requestsFromLimits(r *corev1.ResourceRequirements) {
	if r.Limits == nil {
		return
	}
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; !ok {
			r.Requests[name] = limit.DeepCopy()
		}
	}
}

func hostPortsFromContainerPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			p := &containers[i].Ports[j]
			if p.HostPort == 0 {
				p.HostPort = p.ContainerPort
			}
		}
	}
}

// defaultPodLevelRequests defaults pod-level requests when pod-level limits
// are set: overcommittable resources (cpu, memory) take the aggregate of
// the container requests, any other resource with a pod-level limit takes
// that limit.
func defaultPodLevelRequests(spec *corev1.PodSpec) {
	if spec.Resources == nil || len(spec.Resources.Limits) == 0 {
		return
	}
	reqs := spec.Resources.Requests
	if reqs == nil {
		reqs = corev1.ResourceList{}
	}
	for name, total := range aggregateContainerRequests(spec) {
		if _, ok := reqs[name]; !ok && (name == corev1.ResourceCPU || name == corev1.ResourceMemory) {
			reqs[name] = total
		}
	}
	for name, limit := range spec.Resources.Limits {
		if _, ok := reqs[name]; !ok && isPodLevelResource(name) {
			reqs[name] = limit.DeepCopy()
		}
	}
	if len(reqs) > 0 {
		spec.Resources.Requests = reqs
	}
}

// isPodLevelResource reports whether name may be set in spec.resources.
func isPodLevelResource(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory ||
		strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// aggregateContainerRequests returns the effective requests of a pod's
// containers: the sum over app and sidecar containers, or the largest
// request of a run-to-completion init container (plus the sidecars started
// before it) when that is higher.
func aggregateContainerRequests(spec *corev1.PodSpec) corev1.ResourceList {
	total := corev1.ResourceList{}
	for _, c := range spec.Containers {
		addResourceList(total, c.Resources.Requests)
	}
	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for _, c := range spec.InitContainers {
		if isRestartableInitContainer(&c) {
			addResourceList(total, c.Resources.Requests)
			addResourceList(sidecars, c.Resources.Requests)
			continue
		}
		step := corev1.ResourceList{}
		addResourceList(step, sidecars)
		addResourceList(step, c.Resources.Requests)
		maxResourceList(initMax, step)
	}
	maxResourceList(total, initMax)
	return total
}

func addResourceList(into, add corev1.ResourceList) {
	for name, q := range add {
		sum := q.DeepCopy()
		if cur, ok := into[name]; ok {
			sum.Add(cur)
		}
		into[name] = sum
	}
}

func maxResourceList(into, other corev1.ResourceList) {
	for name, q := range other {
		if cur, ok := into[name]; !ok || q.Cmp(cur) > 0 {
			into[name] = q.DeepCopy()
		}
	}
}

// isRestartableInitContainer reports whether c is a sidecar: an init
// container with restartPolicy Always.
func isRestartableInitContainer(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
