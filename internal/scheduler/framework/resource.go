package framework

import (
	v1 "k8s.io/api/core/v1"
)

// Default requests the scorers assume for a container that requests no CPU
// or memory, so that empty pods still spread (Kubernetes' values).
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of compute resources in scheduler units: CPU in
// millicores, the rest in their base unit.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is the node's pod capacity (only in allocatable).
	AllowedPodNumber int
	// Scalar holds extended resources and hugepages.
	Scalar map[v1.ResourceName]int64
}

// isScalarResource reports whether the scheduler accounts for name as a
// scalar (extended resources, hugepages, attachable volumes).
func isScalarResource(name v1.ResourceName) bool {
	switch name {
	case v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage, v1.ResourcePods:
		return false
	}
	return true
}

// Add adds a resource list.
func (r *Resource) Add(rl v1.ResourceList) {
	for name, q := range rl {
		switch name {
		case v1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case v1.ResourceMemory:
			r.Memory += q.Value()
		case v1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case v1.ResourcePods:
			r.AllowedPodNumber += int(q.Value())
		default:
			if isScalarResource(name) {
				r.addScalar(name, q.Value())
			}
		}
	}
}

func (r *Resource) addScalar(name v1.ResourceName, v int64) {
	if r.Scalar == nil {
		r.Scalar = map[v1.ResourceName]int64{}
	}
	r.Scalar[name] += v
}

// AddResource adds another Resource (pod counts excluded).
func (r *Resource) AddResource(o *Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	for k, v := range o.Scalar {
		r.addScalar(k, v)
	}
}

// SubResource subtracts another Resource (pod counts excluded).
func (r *Resource) SubResource(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	for k, v := range o.Scalar {
		r.addScalar(k, -v)
	}
}

// SetMax raises each dimension of r to at least o's.
func (r *Resource) SetMax(o *Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	for k, v := range o.Scalar {
		if v > r.Scalar[k] {
			if r.Scalar == nil {
				r.Scalar = map[v1.ResourceName]int64{}
			}
			r.Scalar[k] = v
		}
	}
}

// Clone returns a deep copy.
func (r Resource) Clone() Resource {
	c := r
	if r.Scalar != nil {
		c.Scalar = make(map[v1.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			c.Scalar[k] = v
		}
	}
	return c
}

// IsZero reports whether nothing is requested.
func (r *Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

func isRestartable(c *v1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

// PodRequests is the amount of resources a pod needs on a node, computed as
// Kubernetes does: the sum of its containers and sidecars (restartable init
// containers), or the largest init container (plus the sidecars started
// before it) if that is larger, plus the pod overhead. Pod-level requests
// (spec.resources), when set, replace the container sum for their
// resources.
//
// With nonZero, containers that request no CPU or memory count as
// DefaultMilliCPURequest / DefaultMemoryRequest, the figure scorers use.
func PodRequests(pod *v1.Pod, nonZero bool) Resource {
	var sum Resource
	containerReq := func(c *v1.Container) Resource {
		var r Resource
		r.Add(c.Resources.Requests)
		if nonZero {
			if _, ok := c.Resources.Requests[v1.ResourceCPU]; !ok {
				r.MilliCPU = DefaultMilliCPURequest
			}
			if _, ok := c.Resources.Requests[v1.ResourceMemory]; !ok {
				r.Memory = DefaultMemoryRequest
			}
		}
		return r
	}
	for i := range pod.Spec.Containers {
		r := containerReq(&pod.Spec.Containers[i])
		sum.AddResource(&r)
	}
	var sidecars, initMax Resource
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		r := containerReq(c)
		if isRestartable(c) {
			sum.AddResource(&r)
			sidecars.AddResource(&r)
			r = sidecars.Clone()
		} else {
			r.AddResource(&sidecars)
		}
		initMax.SetMax(&r)
	}
	sum.SetMax(&initMax)
	if pr := pod.Spec.Resources; pr != nil {
		if q, ok := pr.Requests[v1.ResourceCPU]; ok {
			sum.MilliCPU = q.MilliValue()
		}
		if q, ok := pr.Requests[v1.ResourceMemory]; ok {
			sum.Memory = q.Value()
		}
	}
	if pod.Spec.Overhead != nil {
		var o Resource
		o.Add(pod.Spec.Overhead)
		sum.AddResource(&o)
	}
	return sum
}

// NodeAllocatable converts a node's status.allocatable.
func NodeAllocatable(node *v1.Node) Resource {
	var r Resource
	r.Add(node.Status.Allocatable)
	return r
}
