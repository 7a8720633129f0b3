package garbagecollector

import (
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// node is what the collector knows of one observed object.
type node struct {
	gvr        schema.GroupVersionResource // the resource it was observed in
	apiVersion string
	kind       string
	namespace  string
	name       string
	uid        types.UID
	owners     []metav1.OwnerReference
	deleting   bool // deletionTimestamp set
	finalizers []string
	// resourceVersion is set on copies read from the server.
	resourceVersion string
}

func (n *node) hasFinalizer(f string) bool { return slices.Contains(n.finalizers, f) }

// deletingDependents reports whether the object is being deleted in the
// foreground: it waits for its dependents.
func (n *node) deletingDependents() bool {
	return n.deleting && n.hasFinalizer(metav1.FinalizerDeleteDependents)
}

// orphaning reports whether the object is being deleted and its
// dependents are to be orphaned first.
func (n *node) orphaning() bool {
	return n.deleting && n.hasFinalizer(metav1.FinalizerOrphanDependents)
}

func (n *node) ownerRef(uid types.UID) (metav1.OwnerReference, bool) {
	for _, o := range n.owners {
		if o.UID == uid {
			return o, true
		}
	}
	return metav1.OwnerReference{}, false
}

func (n *node) clone() *node {
	c := *n
	c.owners = slices.Clone(n.owners)
	c.finalizers = slices.Clone(n.finalizers)
	return &c
}

// graph indexes every observed object by UID and every owner UID to the
// objects referencing it. It is safe for concurrent use; it hands out
// copies.
type graph struct {
	mu         sync.RWMutex
	nodes      map[types.UID]*node
	dependents map[types.UID]map[types.UID]struct{}
}

func newGraph() *graph {
	return &graph{nodes: map[types.UID]*node{}, dependents: map[types.UID]map[types.UID]struct{}{}}
}

// upsert records an added or updated object and returns the UIDs that
// need processing because of the change: the object itself when its
// owner references changed or it is being deleted with a finalizer the
// collector honours; all its dependents when it starts a foreground
// deletion; owners waiting in the foreground that a removed or
// unblocked reference may release.
func (g *graph) upsert(n *node) []types.UID {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.nodes[n.uid]
	g.nodes[n.uid] = n
	var oldOwners []metav1.OwnerReference
	if old != nil {
		oldOwners = old.owners
	}
	var out []types.UID
	for _, o := range oldOwners {
		cur, still := n.ownerRef(o.UID)
		if !still {
			g.unlink(o.UID, n.uid)
		}
		wasBlocking := o.BlockOwnerDeletion != nil && *o.BlockOwnerDeletion
		isBlocking := still && cur.BlockOwnerDeletion != nil && *cur.BlockOwnerDeletion
		if wasBlocking && !isBlocking {
			if owner := g.nodes[o.UID]; owner != nil && owner.deletingDependents() {
				out = append(out, o.UID)
			}
		}
	}
	for _, o := range n.owners {
		g.link(o.UID, n.uid)
	}
	if len(n.owners) > 0 && (old == nil || !slices.EqualFunc(old.owners, n.owners, sameRef)) {
		out = append(out, n.uid)
	}
	if n.orphaning() || n.deletingDependents() {
		out = append(out, n.uid)
	}
	if n.deletingDependents() && (old == nil || !old.deletingDependents()) {
		for d := range g.dependents[n.uid] {
			out = append(out, d)
		}
	}
	return out
}

// remove forgets a deleted object observed in gvr and returns the UIDs
// to process: its dependents (their owner is gone) and its owners that
// wait in the foreground for their dependents.
func (g *graph) remove(gvr schema.GroupVersionResource, uid types.UID) []types.UID {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil || n.gvr != gvr {
		return nil
	}
	delete(g.nodes, uid)
	var out []types.UID
	for _, o := range n.owners {
		g.unlink(o.UID, uid)
		if owner := g.nodes[o.UID]; owner != nil && owner.deletingDependents() {
			out = append(out, o.UID)
		}
	}
	for d := range g.dependents[uid] {
		out = append(out, d)
	}
	return out
}

func (g *graph) link(owner, dependent types.UID) {
	m := g.dependents[owner]
	if m == nil {
		m = map[types.UID]struct{}{}
		g.dependents[owner] = m
	}
	m[dependent] = struct{}{}
}

func (g *graph) unlink(owner, dependent types.UID) {
	if m := g.dependents[owner]; m != nil {
		delete(m, dependent)
		if len(m) == 0 {
			delete(g.dependents, owner)
		}
	}
}

// get returns a copy of the node of uid.
func (g *graph) get(uid types.UID) (*node, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return nil, false
	}
	return n.clone(), true
}

// dependentsOf returns copies of the observed objects that reference uid.
func (g *graph) dependentsOf(uid types.UID) []*node {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []*node
	for d := range g.dependents[uid] {
		if n := g.nodes[d]; n != nil {
			if _, ok := n.ownerRef(uid); ok {
				out = append(out, n.clone())
			}
		}
	}
	slices.SortFunc(out, func(a, b *node) int {
		if a.namespace != b.namespace {
			if a.namespace < b.namespace {
				return -1
			}
			return 1
		}
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

// sameRef compares owner references field by field.
func sameRef(a, b metav1.OwnerReference) bool {
	return a.UID == b.UID && a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name &&
		boolValue(a.Controller) == boolValue(b.Controller) && boolValue(a.BlockOwnerDeletion) == boolValue(b.BlockOwnerDeletion)
}

func boolValue(b *bool) bool { return b != nil && *b }
