package framework

import (
	v1 "k8s.io/api/core/v1"
)

// Snapshot is a consistent, read-only view of the cluster for one
// scheduling cycle: every node with its pods. The scheduler cache refreshes
// it in place between cycles; plugins must not modify it.
type Snapshot struct {
	// NodeInfoMap holds every node by name.
	NodeInfoMap map[string]*NodeInfo
	// Nodes is every node, in a stable order.
	Nodes []*NodeInfo
	// WithAffinity are the nodes hosting a pod with (anti-)affinity terms.
	WithAffinity []*NodeInfo
	// WithRequiredAntiAffinity are the nodes hosting a pod with a required
	// anti-affinity term.
	WithRequiredAntiAffinity []*NodeInfo
	// Generation is the largest node generation the snapshot reflects.
	Generation int64
}

// NewEmptySnapshot returns a snapshot with no nodes.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{NodeInfoMap: map[string]*NodeInfo{}}
}

// NewSnapshot builds a snapshot from objects (tests and benchmarks); pods
// whose spec.nodeName names a node are placed on it. priority resolves a
// pod's priority (nil: PodPriority).
func NewSnapshot(pods []*v1.Pod, nodes []*v1.Node, priority func(*v1.Pod) int32) *Snapshot {
	if priority == nil {
		priority = PodPriority
	}
	s := NewEmptySnapshot()
	for _, n := range nodes {
		ni := NewNodeInfo()
		ni.SetNode(n)
		s.NodeInfoMap[n.Name] = ni
		s.Nodes = append(s.Nodes, ni)
	}
	for _, p := range pods {
		if ni := s.NodeInfoMap[p.Spec.NodeName]; ni != nil {
			ni.AddPod(NewPodInfo(p, priority(p)))
		}
	}
	s.RebuildLists()
	return s
}

// Get returns the named node, or nil.
func (s *Snapshot) Get(name string) *NodeInfo { return s.NodeInfoMap[name] }

// NumNodes is the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.Nodes) }

// RebuildLists recomputes WithAffinity and WithRequiredAntiAffinity.
func (s *Snapshot) RebuildLists() {
	s.WithAffinity = s.WithAffinity[:0]
	s.WithRequiredAntiAffinity = s.WithRequiredAntiAffinity[:0]
	for _, n := range s.Nodes {
		if len(n.PodsWithAffinity) > 0 {
			s.WithAffinity = append(s.WithAffinity, n)
		}
		if len(n.PodsWithRequiredAntiAffinity) > 0 {
			s.WithRequiredAntiAffinity = append(s.WithRequiredAntiAffinity, n)
		}
	}
}
