package admission

import (
	"fmt"
	"sort"

	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Annotations that mark a StorageClass as the cluster default (the beta
// key is still honoured, as Kubernetes does) and the deprecated way a
// claim names its class.
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	betaClaimStorageClassAnnotation   = "volume.beta.kubernetes.io/storage-class"
)

// DefaultStorageClass gives new PersistentVolumeClaims that name no
// storage class the cluster's default one, as Kubernetes'
// DefaultStorageClass admission plug-in does. Claims created while no
// class is the default are left alone (the PV controller assigns the
// default later, retroactively).
type DefaultStorageClass struct {
	Classes Lister
}

// Admit implements apiserver.Admission.
func (d *DefaultStorageClass) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Resource.Group != "" || a.Resource.Resource != "persistentvolumeclaims" || a.Subresource != "" {
		return nil
	}
	pvc, ok := a.Object.(*corev1.PersistentVolumeClaim)
	if !ok || claimHasClass(pvc) {
		return nil
	}
	objs, err := d.Classes.List("")
	if err != nil {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumeclaims"}, a.Name, fmt.Errorf("listing storage classes: %w", err))
	}
	classes := make([]*storagev1.StorageClass, 0, len(objs))
	for _, o := range objs {
		if c, ok := o.(*storagev1.StorageClass); ok {
			classes = append(classes, c)
		}
	}
	if def := defaultStorageClass(classes); def != nil {
		name := def.Name
		pvc.Spec.StorageClassName = &name
	}
	return nil
}

// Done implements apiserver.Admission.
func (d *DefaultStorageClass) Done(*apiserver.Attributes, bool) {}

// claimHasClass reports whether a claim already chose a class, through the
// field (even "", which asks for no class) or the deprecated annotation.
func claimHasClass(pvc *corev1.PersistentVolumeClaim) bool {
	if pvc.Spec.StorageClassName != nil {
		return true
	}
	_, ok := pvc.Annotations[betaClaimStorageClassAnnotation]
	return ok
}

// defaultStorageClass returns the default class, or nil when none is
// marked. When several are (a transient state while an administrator
// switches defaults), the newest wins, then the first by name, so that
// the choice is deterministic, as in Kubernetes 1.26+.
func defaultStorageClass(classes []*storagev1.StorageClass) *storagev1.StorageClass {
	var defaults []*storagev1.StorageClass
	for _, c := range classes {
		if c.Annotations[defaultStorageClassAnnotation] == "true" || c.Annotations[betaDefaultStorageClassAnnotation] == "true" {
			defaults = append(defaults, c)
		}
	}
	if len(defaults) == 0 {
		return nil
	}
	sort.Slice(defaults, func(i, j int) bool {
		ti, tj := defaults[i].CreationTimestamp.UnixNano(), defaults[j].CreationTimestamp.UnixNano()
		if ti != tj {
			return ti > tj
		}
		return defaults[i].Name < defaults[j].Name
	})
	return defaults[0]
}
