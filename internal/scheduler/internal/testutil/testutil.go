// Package testutil builds nodes and pods for the scheduler's unit tests.
package testutil

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Node returns a node with the given CPU and memory (pods: 110) and a
// hostname label; opts change it further.
func Node(name, cpu, mem string, opts ...func(*v1.Node)) *v1.Node {
	rl := v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem), v1.ResourcePods: resource.MustParse("110")}
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.LabelHostname: name}},
		Status: v1.NodeStatus{Capacity: rl, Allocatable: rl.DeepCopy()}}
	for _, o := range opts {
		o(n)
	}
	return n
}

// Labels adds node labels.
func Labels(kv ...string) func(*v1.Node) {
	return func(n *v1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
	}
}

// Taint adds a taint.
func Taint(key, value string, effect v1.TaintEffect) func(*v1.Node) {
	return func(n *v1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: key, Value: value, Effect: effect})
	}
}

// MaxPods sets the pod capacity.
func MaxPods(n int) func(*v1.Node) {
	return func(node *v1.Node) {
		node.Status.Allocatable[v1.ResourcePods] = *resource.NewQuantity(int64(n), resource.DecimalSI)
	}
}

// Pod returns a pod in namespace "ns" (UID = name) with one container
// requesting cpu and mem ("" for none); opts change it further.
func Pod(name, cpu, mem string, opts ...func(*v1.Pod)) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), Labels: map[string]string{}},
		Spec: v1.PodSpec{SchedulerName: v1.DefaultSchedulerName, Containers: []v1.Container{{Name: "c", Image: "i"}}}}
	req := v1.ResourceList{}
	if cpu != "" {
		req[v1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[v1.ResourceMemory] = resource.MustParse(mem)
	}
	if len(req) > 0 {
		p.Spec.Containers[0].Resources.Requests = req
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// On places the pod on a node.
func On(node string) func(*v1.Pod) { return func(p *v1.Pod) { p.Spec.NodeName = node } }

// PodLabels adds pod labels.
func PodLabels(kv ...string) func(*v1.Pod) {
	return func(p *v1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

// Priority sets spec.priority.
func Priority(v int32) func(*v1.Pod) { return func(p *v1.Pod) { p.Spec.Priority = &v } }

// HostPort adds a container port bound on the host.
func HostPort(port int32, proto v1.Protocol, ip string) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, v1.ContainerPort{ContainerPort: port, HostPort: port, Protocol: proto, HostIP: ip})
	}
}

// Toleration adds a toleration.
func Toleration(key string, op v1.TolerationOperator, value string, effect v1.TaintEffect) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, v1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	}
}

// Nodes returns n identical nodes named node-0..n-1.
func Nodes(n int, cpu, mem string, opts ...func(*v1.Node)) []*v1.Node {
	out := make([]*v1.Node, n)
	for i := range out {
		out[i] = Node(fmt.Sprintf("node-%d", i), cpu, mem, opts...)
	}
	return out
}

// Selector returns a label selector matching kv.
func Selector(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}
