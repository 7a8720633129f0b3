package garbagecollector

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ownerState is what an owner reference currently points at.
type ownerState int

const (
	// ownerSolid: the owner exists (same UID) and is not waiting for its
	// dependents to go.
	ownerSolid ownerState = iota
	// ownerDangling: no object of that name and UID exists where the
	// reference can point (a namespaced owner must be in the dependent's
	// namespace).
	ownerDangling
	// ownerWaiting: the owner is being deleted in the foreground.
	ownerWaiting
	// ownerUnresolvable: the owner's kind is unknown, or a cluster-scoped
	// object names a namespaced owner. Such an object is never collected.
	ownerUnresolvable
)

func (s ownerState) String() string {
	switch s {
	case ownerSolid:
		return "solid"
	case ownerDangling:
		return "dangling"
	case ownerWaiting:
		return "waitingForDependentsDeletion"
	default:
		return "unresolvable"
	}
}

// verdict is one owner reference with its state.
type verdict struct {
	ref   metav1.OwnerReference
	state ownerState
}

// actionKind is what the collector does with a dependent.
type actionKind int

const (
	actNone       actionKind = iota
	actRemoveRefs            // drop references to owners that are gone or going
	actDelete                // delete the object
)

// action is the decision about one dependent.
type action struct {
	kind actionKind
	// remove lists the owner UIDs whose references are dropped
	// (actRemoveRefs).
	remove []types.UID
	// policy is the propagation of the deletion (actDelete).
	policy metav1.DeletionPropagation
	// unblock asks for every blockOwnerDeletion of the object to be
	// cleared before a foreground deletion, which breaks the wait cycle
	// between an owner and a dependent that both wait for each other.
	unblock bool
}

// dependentInfo is what decide needs to know about the dependent.
type dependentInfo struct {
	finalizers []string
	// hasDependents: other objects reference this one as their owner.
	hasDependents bool
	// dependentWaits: one of those is itself being deleted in the
	// foreground.
	dependentWaits bool
}

// decide chooses what happens to an object given the states of its
// owners, as Kubernetes' collector does:
//   - an unresolvable reference keeps the object as it is;
//   - with no dangling or waiting owner there is nothing to do;
//   - with at least one solid owner left the object stays, and only its
//     references to dangling and waiting owners are removed;
//   - when some owner waits in the foreground and the object has
//     dependents of its own, it is deleted in the foreground too (so the
//     wait propagates down the chain);
//   - otherwise it is deleted, in the propagation its own finalizers ask
//     for (orphan, foreground) or in the background.
func decide(d dependentInfo, owners []verdict) action {
	var solid, dangling, waiting []types.UID
	for _, v := range owners {
		switch v.state {
		case ownerUnresolvable:
			return action{kind: actNone}
		case ownerSolid:
			solid = append(solid, v.ref.UID)
		case ownerDangling:
			dangling = append(dangling, v.ref.UID)
		case ownerWaiting:
			waiting = append(waiting, v.ref.UID)
		}
	}
	switch {
	case len(dangling) == 0 && len(waiting) == 0:
		return action{kind: actNone}
	case len(solid) > 0:
		return action{kind: actRemoveRefs, remove: append(dangling, waiting...)}
	case len(waiting) > 0 && d.hasDependents:
		return action{kind: actDelete, policy: metav1.DeletePropagationForeground, unblock: d.dependentWaits}
	case slices.Contains(d.finalizers, metav1.FinalizerOrphanDependents):
		return action{kind: actDelete, policy: metav1.DeletePropagationOrphan}
	case slices.Contains(d.finalizers, metav1.FinalizerDeleteDependents):
		return action{kind: actDelete, policy: metav1.DeletePropagationForeground}
	default:
		return action{kind: actDelete, policy: metav1.DeletePropagationBackground}
	}
}

// ownerStateOf classifies an existing owner with the owner's UID.
func ownerStateOf(deleting bool, finalizers []string) ownerState {
	if deleting && slices.Contains(finalizers, metav1.FinalizerDeleteDependents) {
		return ownerWaiting
	}
	return ownerSolid
}

// blocking returns the dependents whose reference to owner has
// blockOwnerDeletion set: a foreground deletion waits until they are gone.
func blocking(owner types.UID, deps []*node) []*node {
	var out []*node
	for _, d := range deps {
		if ref, ok := d.ownerRef(owner); ok && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
			out = append(out, d)
		}
	}
	return out
}

// withoutRefs returns refs minus those to the given UIDs.
func withoutRefs(refs []metav1.OwnerReference, uids []types.UID) []metav1.OwnerReference {
	out := make([]metav1.OwnerReference, 0, len(refs))
	for _, r := range refs {
		if !slices.Contains(uids, r.UID) {
			out = append(out, r)
		}
	}
	return out
}

// unblocked returns refs with every blockOwnerDeletion cleared, and
// whether anything changed.
func unblocked(refs []metav1.OwnerReference) ([]metav1.OwnerReference, bool) {
	out := make([]metav1.OwnerReference, len(refs))
	changed := false
	for i, r := range refs {
		if r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
			f := false
			r.BlockOwnerDeletion = &f
			changed = true
		}
		out[i] = r
	}
	return out, changed
}
