package history

import (
	"github.com/skiff-io/skiff/internal/controller"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Claim is a controller's relation to a candidate dependent.
type Claim = controller.Claim

// The claims, as the controller base defines them.
const (
	Ignore  = controller.ClaimIgnore
	Owned   = controller.ClaimKeep
	Adopt   = controller.ClaimAdopt
	Release = controller.ClaimRelease
)

// ClaimOf decides the relation of dependent obj to owner, whose selector
// is sel (see controller.ClaimOf).
func ClaimOf(obj, owner metav1.Object, sel labels.Selector) Claim {
	return controller.ClaimOf(owner.GetUID(), owner.GetDeletionTimestamp() != nil, sel, obj)
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
