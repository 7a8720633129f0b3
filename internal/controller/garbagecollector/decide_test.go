package garbagecollector

import (
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func v(uid string, s ownerState) verdict {
	return verdict{ref: metav1.OwnerReference{UID: types.UID(uid)}, state: s}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		info   dependentInfo
		owners []verdict
		want   action
	}{
		{"all owners solid", dependentInfo{}, []verdict{v("a", ownerSolid), v("b", ownerSolid)}, action{kind: actNone}},
		{"only owner gone", dependentInfo{}, []verdict{v("a", ownerDangling)},
			action{kind: actDelete, policy: metav1.DeletePropagationBackground}},
		{"one owner left", dependentInfo{}, []verdict{v("a", ownerDangling), v("b", ownerSolid), v("c", ownerWaiting)},
			action{kind: actRemoveRefs, remove: []types.UID{"a", "c"}}},
		{"owner waits, no dependents of our own", dependentInfo{}, []verdict{v("a", ownerWaiting)},
			action{kind: actDelete, policy: metav1.DeletePropagationBackground}},
		{"owner waits, dependents of our own: foreground", dependentInfo{hasDependents: true}, []verdict{v("a", ownerWaiting)},
			action{kind: actDelete, policy: metav1.DeletePropagationForeground}},
		{"a dependent waits on us too: unblock first", dependentInfo{hasDependents: true, dependentWaits: true}, []verdict{v("a", ownerWaiting)},
			action{kind: actDelete, policy: metav1.DeletePropagationForeground, unblock: true}},
		{"owners gone, own orphan finalizer honoured", dependentInfo{finalizers: []string{metav1.FinalizerOrphanDependents}, hasDependents: true},
			[]verdict{v("a", ownerDangling)}, action{kind: actDelete, policy: metav1.DeletePropagationOrphan}},
		{"owners gone, own foreground finalizer honoured", dependentInfo{finalizers: []string{metav1.FinalizerDeleteDependents}},
			[]verdict{v("a", ownerDangling)}, action{kind: actDelete, policy: metav1.DeletePropagationForeground}},
		{"unresolvable owner keeps the object", dependentInfo{}, []verdict{v("a", ownerDangling), v("b", ownerUnresolvable)},
			action{kind: actNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.info, tt.owners); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOwnerStateOf(t *testing.T) {
	if ownerStateOf(false, []string{metav1.FinalizerDeleteDependents}) != ownerSolid ||
		ownerStateOf(true, []string{metav1.FinalizerOrphanDependents}) != ownerSolid ||
		ownerStateOf(true, []string{"x", metav1.FinalizerDeleteDependents}) != ownerWaiting {
		t.Fatal("ownerStateOf")
	}
}

func ref(uid string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: uid, UID: types.UID(uid), BlockOwnerDeletion: ptr.To(block)}
}

func TestRefHelpers(t *testing.T) {
	refs := []metav1.OwnerReference{ref("a", true), ref("b", false), ref("c", true)}
	if got := withoutRefs(refs, []types.UID{"a", "c"}); len(got) != 1 || got[0].UID != "b" {
		t.Fatalf("withoutRefs = %v", got)
	}
	got, changed := unblocked(refs)
	if !changed || slices.ContainsFunc(got, func(r metav1.OwnerReference) bool { return *r.BlockOwnerDeletion }) || !*refs[0].BlockOwnerDeletion {
		t.Fatalf("unblocked = %v (input changed: %v)", got, !*refs[0].BlockOwnerDeletion)
	}
	if _, changed := unblocked(got); changed {
		t.Fatal("unblocked twice changed")
	}
	deps := []*node{{uid: "x", owners: []metav1.OwnerReference{ref("o", true)}}, {uid: "y", owners: []metav1.OwnerReference{ref("o", false)}},
		{uid: "z", owners: []metav1.OwnerReference{{UID: "o"}}}}
	if b := blocking("o", deps); len(b) != 1 || b[0].uid != "x" {
		t.Fatalf("blocking = %v", b)
	}
}

var cms = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func mkNode(uid string, owners ...metav1.OwnerReference) *node {
	return &node{gvr: cms, uid: types.UID(uid), name: uid, namespace: "ns", owners: owners}
}

func sorted(uids []types.UID) []types.UID {
	slices.Sort(uids)
	return slices.Compact(uids)
}

func TestGraph(t *testing.T) {
	g := newGraph()
	if got := g.upsert(mkNode("owner")); len(got) != 0 {
		t.Fatalf("owner without owners queued %v", got)
	}
	if got := g.upsert(mkNode("d1", ref("owner", true))); !reflect.DeepEqual(got, []types.UID{"d1"}) {
		t.Fatalf("new dependent queued %v", got)
	}
	g.upsert(mkNode("d2", ref("owner", false)))
	if got := g.upsert(mkNode("d2", ref("owner", false))); len(got) != 0 {
		t.Fatalf("unchanged dependent queued %v", got)
	}
	if deps := g.dependentsOf("owner"); len(deps) != 2 || deps[0].uid != "d1" || deps[1].uid != "d2" {
		t.Fatalf("dependentsOf = %v", deps)
	}

	// The owner starts a foreground deletion: it and its dependents.
	fg := mkNode("owner")
	fg.deleting, fg.finalizers = true, []string{metav1.FinalizerDeleteDependents}
	if got := sorted(g.upsert(fg)); !reflect.DeepEqual(got, []types.UID{"d1", "d2", "owner"}) {
		t.Fatalf("foreground start queued %v", got)
	}
	// A blocking reference dropped releases the waiting owner.
	if got := sorted(g.upsert(mkNode("d1"))); !reflect.DeepEqual(got, []types.UID{"owner"}) {
		t.Fatalf("dropped blocking ref queued %v", got)
	}
	if deps := g.dependentsOf("owner"); len(deps) != 1 || deps[0].uid != "d2" {
		t.Fatalf("dependentsOf after drop = %v", deps)
	}
	// A dependent going away also queues the waiting owner.
	if got := g.remove(cms, "d2"); !reflect.DeepEqual(got, []types.UID{"owner"}) {
		t.Fatalf("removed dependent queued %v", got)
	}
	// An owner going away queues its remaining dependents.
	g.upsert(mkNode("d3", ref("owner", false)))
	if got := g.remove(cms, "owner"); !reflect.DeepEqual(got, []types.UID{"d3"}) {
		t.Fatalf("removed owner queued %v", got)
	}
	if _, ok := g.get("owner"); ok {
		t.Fatal("removed owner still in the graph")
	}
	// A removal seen through another resource's monitor is ignored.
	if got := g.remove(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "d3"); got != nil {
		t.Fatalf("foreign removal queued %v", got)
	}
	// Orphaning owners are queued on every update.
	o := mkNode("o2")
	o.deleting, o.finalizers = true, []string{metav1.FinalizerOrphanDependents}
	if got := g.upsert(o); !reflect.DeepEqual(got, []types.UID{"o2"}) {
		t.Fatalf("orphaning owner queued %v", got)
	}
}

func TestAbsentCache(t *testing.T) {
	a := newAbsentCache(2)
	a.add("x", "ns")
	if !a.has("x", "ns") || a.has("x", "other") || a.has("x", "") {
		t.Fatal("absent entries are per namespace")
	}
	a.add("y", "")
	a.add("z", "")
	if a.has("x", "ns") || !a.has("z", "") {
		t.Fatal("a full cache starts over")
	}
}

func TestClassifyResources(t *testing.T) {
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: all},
			{Name: "pods/status", Kind: "Pod", Namespaced: true, Verbs: []string{"get", "update"}},
			{Name: "events", Kind: "Event", Namespaced: true, Verbs: all},
			{Name: "nodes", Kind: "Node", Verbs: all},
			{Name: "bindings", Kind: "Binding", Namespaced: true, Verbs: []string{"create"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "replicasets", Kind: "ReplicaSet", Namespaced: true, Verbs: all},
		}},
	}
	d := classifyResources(lists, map[string]bool{"events": true}, nil)
	var monitored []string
	for gr := range d.deletable {
		monitored = append(monitored, gr.String())
	}
	slices.Sort(monitored)
	if want := []string{"nodes", "pods", "replicasets.apps"}; !reflect.DeepEqual(monitored, want) {
		t.Fatalf("monitored %v, want %v", monitored, want)
	}
	rs := d.kinds[schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}]
	if rs.gvr.Resource != "replicasets" || rs.gvr.Version != "v1" || !rs.namespaced {
		t.Fatalf("ReplicaSet kind %+v", rs)
	}
	if n := d.kinds[schema.GroupKind{Kind: "Node"}]; n.namespaced || n.gvr.Resource != "nodes" {
		t.Fatalf("Node kind %+v", n)
	}
	if _, ok := d.kinds[schema.GroupKind{Kind: "Binding"}]; !ok {
		t.Fatal("kinds that cannot be watched can still be owners")
	}
	if m := d.deletable[schema.GroupResource{Resource: "pods"}]; m.kind != "Pod" || m.apiVersion != "v1" {
		t.Fatalf("pods monitor %+v", m)
	}
}
