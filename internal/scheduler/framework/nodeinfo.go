package framework

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// NodeInfo is a node with the pods on it (bound or assumed) and running
// totals the filters and scorers read.
type NodeInfo struct {
	node *v1.Node
	// Pods are all pods on the node, assumed ones included.
	Pods []*PodInfo
	// PodsWithAffinity have some pod (anti-)affinity term.
	PodsWithAffinity []*PodInfo
	// PodsWithRequiredAntiAffinity have a required anti-affinity term.
	PodsWithRequiredAntiAffinity []*PodInfo
	// UsedPorts are the host ports taken on the node.
	UsedPorts HostPortInfo
	// Requested is the sum of the pods' requests.
	Requested Resource
	// NonZeroRequested is the sum with the scorers' defaults.
	NonZeroRequested Resource
	// Allocatable is the node's allocatable resources.
	Allocatable Resource
	// Generation is set by the owner (the scheduler cache) on every change,
	// so that a snapshot copies only what changed.
	Generation int64
}

// NewNodeInfo returns a node info holding the given pods (node set later).
func NewNodeInfo(pods ...*PodInfo) *NodeInfo {
	ni := &NodeInfo{}
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// Node is the node object (nil while only pods are known).
func (n *NodeInfo) Node() *v1.Node { return n.node }

// Name is the node's name ("" if unknown).
func (n *NodeInfo) Name() string {
	if n.node == nil {
		return ""
	}
	return n.node.Name
}

// SetNode sets the node object and its allocatable resources.
func (n *NodeInfo) SetNode(node *v1.Node) {
	n.node = node
	n.Allocatable = NodeAllocatable(node)
}

// RemoveNode forgets the node object (pods stay until they are removed).
func (n *NodeInfo) RemoveNode() {
	n.node = nil
}

// AddPod accounts for a pod on the node.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	if p.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, p)
	}
	if len(p.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, p)
	}
	n.Requested.AddResource(&p.Requests)
	n.NonZeroRequested.MilliCPU += p.NonZeroRequests.MilliCPU
	n.NonZeroRequested.Memory += p.NonZeroRequests.Memory
	for _, hp := range p.HostPorts {
		if n.UsedPorts == nil {
			n.UsedPorts = HostPortInfo{}
		}
		n.UsedPorts.Add(hp)
	}
}

func removeFrom(list []*PodInfo, uid types.UID) ([]*PodInfo, bool) {
	for i, p := range list {
		if p.Pod.UID == uid {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last], true
		}
	}
	return list, false
}

// RemovePod removes the pod with pod's UID from the node's accounting.
func (n *NodeInfo) RemovePod(pod *v1.Pod) error {
	var found *PodInfo
	for _, p := range n.Pods {
		if p.Pod.UID == pod.UID {
			found = p
			break
		}
	}
	if found == nil {
		return fmt.Errorf("pod %s/%s not found on node %q", pod.Namespace, pod.Name, n.Name())
	}
	n.Pods, _ = removeFrom(n.Pods, pod.UID)
	n.PodsWithAffinity, _ = removeFrom(n.PodsWithAffinity, pod.UID)
	n.PodsWithRequiredAntiAffinity, _ = removeFrom(n.PodsWithRequiredAntiAffinity, pod.UID)
	n.Requested.SubResource(&found.Requests)
	n.NonZeroRequested.MilliCPU -= found.NonZeroRequests.MilliCPU
	n.NonZeroRequested.Memory -= found.NonZeroRequests.Memory
	for _, hp := range found.HostPorts {
		n.UsedPorts.Remove(hp)
	}
	return nil
}

// Clone returns a copy that can be changed without affecting n (the pod
// and node objects themselves are shared and must not be modified).
func (n *NodeInfo) Clone() *NodeInfo {
	c := &NodeInfo{
		node:             n.node,
		Requested:        n.Requested.Clone(),
		NonZeroRequested: n.NonZeroRequested,
		Allocatable:      n.Allocatable.Clone(),
		Generation:       n.Generation,
	}
	if len(n.Pods) > 0 {
		c.Pods = append(make([]*PodInfo, 0, len(n.Pods)+1), n.Pods...)
	}
	if len(n.PodsWithAffinity) > 0 {
		c.PodsWithAffinity = append([]*PodInfo(nil), n.PodsWithAffinity...)
	}
	if len(n.PodsWithRequiredAntiAffinity) > 0 {
		c.PodsWithRequiredAntiAffinity = append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...)
	}
	if len(n.UsedPorts) > 0 {
		c.UsedPorts = n.UsedPorts.Clone()
	}
	return c
}

// HostPortInfo records used host ports: IP -> protocol/port set.
type HostPortInfo map[string]map[protoPort]int

type protoPort struct {
	proto v1.Protocol
	port  int32
}

// Add marks a port used (counted, so that two pods' claims are tracked).
func (h HostPortInfo) Add(p HostPort) {
	m := h[p.IP]
	if m == nil {
		m = map[protoPort]int{}
		h[p.IP] = m
	}
	m[protoPort{p.Protocol, p.Port}]++
}

// Remove releases one claim on a port.
func (h HostPortInfo) Remove(p HostPort) {
	m := h[p.IP]
	k := protoPort{p.Protocol, p.Port}
	if m[k] <= 1 {
		delete(m, k)
		if len(m) == 0 {
			delete(h, p.IP)
		}
		return
	}
	m[k]--
}

// Conflicts reports whether p collides with a used port: the same
// protocol and port on the same IP, where 0.0.0.0 collides with every IP.
func (h HostPortInfo) Conflicts(p HostPort) bool {
	k := protoPort{p.Protocol, p.Port}
	if p.IP == "0.0.0.0" {
		for _, m := range h {
			if m[k] > 0 {
				return true
			}
		}
		return false
	}
	return h[p.IP][k] > 0 || h["0.0.0.0"][k] > 0
}

// Clone copies the port map.
func (h HostPortInfo) Clone() HostPortInfo {
	c := make(HostPortInfo, len(h))
	for ip, m := range h {
		cm := make(map[protoPort]int, len(m))
		for k, v := range m {
			cm[k] = v
		}
		c[ip] = cm
	}
	return c
}
