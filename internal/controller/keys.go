package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// MetaOf returns the metadata of an informer object, unwrapping the
// tombstone an informer hands out for a deletion it only learnt of late.
func MetaOf(obj interface{}) (metav1.Object, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, ok := obj.(metav1.Object)
	return m, ok
}

// OwnerKey returns a Watch key function that maps an object (a pod, a
// ReplicaSet, a revision) to the key of the controller of the given kind
// that owns it, and ignores objects without such an owner.
func OwnerKey(kind schema.GroupVersionKind) func(obj interface{}) (string, bool) {
	apiVersion := kind.GroupVersion().String()
	return func(obj interface{}) (string, bool) {
		m, ok := MetaOf(obj)
		if !ok {
			return "", false
		}
		ref := metav1.GetControllerOfNoCopy(m)
		if ref == nil || ref.Kind != kind.Kind || ref.APIVersion != apiVersion {
			return "", false
		}
		return m.GetNamespace() + "/" + ref.Name, true
	}
}

// FormerOwnerKey returns a function that, given an object before and after
// an update, returns the key of the controller (found by ownerKey) that
// controlled it before, when the update changed or dropped that controller
// reference: the former owner must notice it lost a dependent.
func FormerOwnerKey(ownerKey func(obj interface{}) (string, bool)) func(old, cur interface{}) (string, bool) {
	return func(old, cur interface{}) (string, bool) {
		o, ok1 := MetaOf(old)
		n, ok2 := MetaOf(cur)
		if !ok1 || !ok2 {
			return "", false
		}
		before, after := metav1.GetControllerOfNoCopy(o), metav1.GetControllerOfNoCopy(n)
		if before == nil || (after != nil && after.UID == before.UID) {
			return "", false
		}
		return ownerKey(old)
	}
}
