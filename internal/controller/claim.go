package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Claim is a controller's relation to a candidate dependent (a pod, a
// ReplicaSet, a revision).
type Claim int

const (
	// ClaimIgnore: another controller's, or an orphan the owner may not take.
	ClaimIgnore Claim = iota
	// ClaimKeep: controlled by the owner and still matching its selector.
	ClaimKeep
	// ClaimAdopt: an orphan matching the selector; the owner takes it.
	ClaimAdopt
	// ClaimRelease: controlled by the owner but no longer matching; the
	// owner lets it go.
	ClaimRelease
)

// ClaimOf decides the relation of obj to the owner with ownerUID and
// selector sel, as Kubernetes' controller reference manager does: an owner
// keeps what it controls and matches, adopts matching orphans unless it
// (or the orphan) is being deleted, and releases what it controls but no
// longer matches unless it is itself being deleted.
func ClaimOf(ownerUID types.UID, ownerDeleting bool, sel labels.Selector, obj metav1.Object) Claim {
	matches := sel.Matches(labels.Set(obj.GetLabels()))
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		switch {
		case ref.UID != ownerUID:
			return ClaimIgnore
		case matches:
			return ClaimKeep
		case ownerDeleting:
			return ClaimIgnore
		}
		return ClaimRelease
	}
	if !matches || ownerDeleting || obj.GetDeletionTimestamp() != nil {
		return ClaimIgnore
	}
	return ClaimAdopt
}
