// Package cache is the scheduler's view of nodes and the pods on them,
// including pods the scheduler has assumed onto a node while their binding
// is in flight, so that the next cycles already count them. It hands out
// consistent snapshots for scheduling cycles, copying only nodes that
// changed since the previous snapshot.
package cache

import (
	"fmt"
	"sort"
	"sync"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

type podState struct {
	info    *framework.PodInfo
	node    string
	assumed bool
}

// Cache is safe for concurrent use.
type Cache struct {
	mu       sync.Mutex
	nodes    map[string]*framework.NodeInfo
	pods     map[types.UID]*podState
	priority func(*v1.Pod) int32
	gen      int64
	dirty    map[string]struct{}
	// nodeSetChanged is set when nodes are added or removed or change zone.
	nodeSetChanged bool
	// affinityChanged is set when pods with affinity come or go.
	affinityChanged bool
}

// New returns an empty cache; priority resolves a pod's priority (nil:
// spec.priority).
func New(priority func(*v1.Pod) int32) *Cache {
	if priority == nil {
		priority = framework.PodPriority
	}
	return &Cache{nodes: map[string]*framework.NodeInfo{}, pods: map[types.UID]*podState{},
		priority: priority, dirty: map[string]struct{}{}}
}

func (c *Cache) touch(name string, ni *framework.NodeInfo) {
	c.gen++
	ni.Generation = c.gen
	c.dirty[name] = struct{}{}
}

func (c *Cache) nodeInfo(name string) *framework.NodeInfo {
	ni := c.nodes[name]
	if ni == nil {
		ni = framework.NewNodeInfo()
		c.nodes[name] = ni
	}
	return ni
}

func (c *Cache) addLocked(pi *framework.PodInfo, node string, assumed bool) {
	ni := c.nodeInfo(node)
	ni.AddPod(pi)
	if pi.HasAffinity() {
		c.affinityChanged = true
	}
	c.touch(node, ni)
	c.pods[pi.Pod.UID] = &podState{info: pi, node: node, assumed: assumed}
}

func (c *Cache) removeLocked(ps *podState) {
	if ni := c.nodes[ps.node]; ni != nil {
		_ = ni.RemovePod(ps.info.Pod)
		if ps.info.HasAffinity() {
			c.affinityChanged = true
		}
		c.touch(ps.node, ni)
		if ni.Node() == nil && len(ni.Pods) == 0 {
			delete(c.nodes, ps.node)
		}
	}
	delete(c.pods, ps.info.Pod.UID)
}

// AssumePod records that pi will run on node before the binding is
// confirmed. The pod object is not modified.
func (c *Cache) AssumePod(pi *framework.PodInfo, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pi.Pod.UID]; ok {
		return fmt.Errorf("pod %s is already in the cache", pi.Key())
	}
	assumed := *pi
	p := *pi.Pod
	p.Spec.NodeName = node
	assumed.Pod = &p
	c.addLocked(&assumed, node, true)
	return nil
}

// ForgetPod undoes AssumePod (the binding failed).
func (c *Cache) ForgetPod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		c.removeLocked(ps)
	}
}

// IsAssumed reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[uid]
	return ok && ps.assumed
}

// AddPod records a pod bound to a node (confirming an assumed pod).
func (c *Cache) AddPod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		c.removeLocked(ps)
	}
	c.addLocked(framework.NewPodInfo(pod, c.priority(pod)), pod.Spec.NodeName, false)
}

// UpdatePod replaces a bound pod's record.
func (c *Cache) UpdatePod(_, pod *v1.Pod) { c.AddPod(pod) }

// RemovePod forgets a pod (deleted, or finished).
func (c *Cache) RemovePod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		c.removeLocked(ps)
	}
}

// AddNode adds or updates a node.
func (c *Cache) AddNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodeInfo(node.Name)
	old := ni.Node()
	if old == nil || zoneOf(old) != zoneOf(node) {
		c.nodeSetChanged = true
	}
	ni.SetNode(node)
	c.touch(node.Name, ni)
}

// UpdateNode updates a node.
func (c *Cache) UpdateNode(_, node *v1.Node) { c.AddNode(node) }

// RemoveNode removes a node; its pods stay accounted until removed.
func (c *Cache) RemoveNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodes[node.Name]
	if ni == nil {
		return
	}
	ni.RemoveNode()
	c.nodeSetChanged = true
	c.affinityChanged = true
	c.touch(node.Name, ni)
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	}
}

// Counts returns the number of nodes and of pods (assumed included).
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ni := range c.nodes {
		if ni.Node() != nil {
			nodes++
		}
	}
	for _, ps := range c.pods {
		if ps.assumed {
			assumed++
		}
	}
	return nodes, len(c.pods), assumed
}

func zoneOf(n *v1.Node) string {
	return n.Labels[v1.LabelTopologyRegion] + ":" + n.Labels[v1.LabelTopologyZone]
}

// UpdateSnapshot brings snap up to date: nodes changed since the last call
// are copied into it (in place, so the snapshot's lists stay valid); the
// node order is rebuilt when nodes come, go or change zone (nodes of
// different zones interleave, so that evaluating a fraction of the nodes
// still spans zones). A snapshot must be updated from one cache only.
func (c *Cache) UpdateSnapshot(snap *framework.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if snap.NodeInfoMap == nil {
		snap.NodeInfoMap = map[string]*framework.NodeInfo{}
	}
	if snap.Generation == 0 {
		for name := range c.nodes {
			c.dirty[name] = struct{}{}
		}
		c.nodeSetChanged = true
	}
	if len(c.dirty) == 0 {
		return
	}
	for name := range c.dirty {
		ni := c.nodes[name]
		cur, inSnap := snap.NodeInfoMap[name]
		switch {
		case ni == nil || ni.Node() == nil:
			if inSnap {
				delete(snap.NodeInfoMap, name)
				c.nodeSetChanged = true
			}
		case inSnap:
			*cur = *ni.Clone()
		default:
			snap.NodeInfoMap[name] = ni.Clone()
			c.nodeSetChanged = true
		}
	}
	clear(c.dirty)
	snap.Generation = max(c.gen, 1)
	if c.nodeSetChanged {
		snap.Nodes = interleaveZones(snap.NodeInfoMap)
		c.nodeSetChanged = false
		c.affinityChanged = true
	}
	if c.affinityChanged {
		snap.RebuildLists()
		c.affinityChanged = false
	}
}

// interleaveZones orders nodes zone by zone in round-robin (zones and the
// nodes within them sorted by name).
func interleaveZones(m map[string]*framework.NodeInfo) []*framework.NodeInfo {
	byZone := map[string][]*framework.NodeInfo{}
	for _, ni := range m {
		z := zoneOf(ni.Node())
		byZone[z] = append(byZone[z], ni)
	}
	zones := make([]string, 0, len(byZone))
	for z, list := range byZone {
		zones = append(zones, z)
		sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
	}
	sort.Strings(zones)
	out := make([]*framework.NodeInfo, 0, len(m))
	for i := 0; len(out) < len(m); i++ {
		for _, z := range zones {
			if i < len(byZone[z]) {
				out = append(out, byZone[z][i])
			}
		}
	}
	return out
}
