package history

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Claim is a controller's relation to a candidate dependent.
type Claim int

const (
	// Ignore: another controller's, or an orphan the owner may not take.
	Ignore Claim = iota
	// Owned: controlled by the owner and still matching its selector.
	Owned
	// Adopt: an orphan matching the selector; the owner takes it.
	Adopt
	// Release: controlled by the owner but no longer matching; the owner
	// lets it go.
	Release
)

// ClaimOf decides the relation of dependent obj to owner, whose selector
// is sel, as Kubernetes' controllers do: a controller keeps what it
// controls and matches, adopts matching orphans unless it (or the orphan)
// is being deleted, and releases what it controls but no longer matches
// unless it is itself being deleted.
func ClaimOf(obj, owner metav1.Object, sel labels.Selector) Claim {
	matches := sel.Matches(labels.Set(obj.GetLabels()))
	ownerDeleting := owner.GetDeletionTimestamp() != nil
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		switch {
		case ref.UID != owner.GetUID():
			return Ignore
		case matches:
			return Owned
		case ownerDeleting:
			return Ignore
		}
		return Release
	}
	if !matches || ownerDeleting || obj.GetDeletionTimestamp() != nil {
		return Ignore
	}
	return Adopt
}

// SetControllerRef makes ref the controller reference of obj, replacing
// any reference with the same UID; it reports whether obj changed.
func SetControllerRef(obj metav1.Object, ref metav1.OwnerReference) bool {
	refs := obj.GetOwnerReferences()
	for i := range refs {
		if refs[i].UID == ref.UID {
			if refs[i].Controller != nil && *refs[i].Controller {
				return false
			}
			out := append([]metav1.OwnerReference(nil), refs...)
			out[i] = ref
			obj.SetOwnerReferences(out)
			return true
		}
	}
	obj.SetOwnerReferences(append(append([]metav1.OwnerReference(nil), refs...), ref))
	return true
}

// RemoveOwnerRef drops the reference to owner uid from obj; it reports
// whether obj changed.
func RemoveOwnerRef(obj metav1.Object, uid types.UID) bool {
	refs := obj.GetOwnerReferences()
	var out []metav1.OwnerReference
	for _, r := range refs {
		if r.UID != uid {
			out = append(out, r)
		}
	}
	if len(out) == len(refs) {
		return false
	}
	obj.SetOwnerReferences(out)
	return true
}

// HasOwnerRef reports whether obj references owner uid.
func HasOwnerRef(obj metav1.Object, uid types.UID) bool {
	for _, r := range obj.GetOwnerReferences() {
		if r.UID == uid {
			return true
		}
	}
	return false
}
