package core

import (
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// PersistentVolumes returns the core/v1 persistentvolumes resource.
func PersistentVolumes() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "persistentvolumes",
		Kind:         "PersistentVolume",
		Singular:     "persistentvolume",
		ShortNames:   []string{"pv"},
		Namespaced:   false,
		New:          func() runtime.Object { return &corev1.PersistentVolume{} },
		NewList:      func() runtime.Object { return &corev1.PersistentVolumeList{} },
		Strategy:     pvStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// pvStrategy implements persistent volumes' behaviour.
type pvStrategy struct {
	registry.DefaultStrategy
}

// Default sets reclaim policy Retain, volume mode Filesystem and phase
// Pending.
func (pvStrategy) Default(obj runtime.Object) {
	pv := obj.(*corev1.PersistentVolume)
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &m
	}
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
}

// PrepareForCreate starts the volume in phase Pending.
func (pvStrategy) PrepareForCreate(obj runtime.Object) {
	pv := obj.(*corev1.PersistentVolume)
	now := metav1.Now()
	pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
}

// PrepareForUpdate keeps the status from old.
func (pvStrategy) PrepareForUpdate(obj, old runtime.Object) {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	pv.Status = *o.Status.DeepCopy()
}

// PrepareForStatusUpdate keeps the spec from old and stamps phase
// transitions the client did not stamp itself.
func (pvStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	pv.Spec = *o.Spec.DeepCopy()
	if pv.Status.Phase != o.Status.Phase {
		t := pv.Status.LastPhaseTransitionTime
		if t == nil || (o.Status.LastPhaseTransitionTime != nil && t.Equal(o.Status.LastPhaseTransitionTime)) {
			now := metav1.Now()
			pv.Status.LastPhaseTransitionTime = &now
		}
	}
}

// Validate checks the volume's spec.
func (pvStrategy) Validate(obj runtime.Object) field.ErrorList {
	return pvValidateSpec(&obj.(*corev1.PersistentVolume).Spec, field.NewPath("spec"))
}

// ValidateUpdate also keeps the volume source, mode and node affinity.
func (s pvStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	errs := s.Validate(obj)
	src := pv.Spec.PersistentVolumeSource
	// A CSI expansion secret may be added to volumes created without one.
	if o.Spec.CSI != nil && o.Spec.CSI.ControllerExpandSecretRef == nil && src.CSI != nil && src.CSI.ControllerExpandSecretRef != nil {
		src = *src.DeepCopy()
		src.CSI.ControllerExpandSecretRef = nil
	}
	if !equality.Semantic.DeepEqual(src, o.Spec.PersistentVolumeSource) {
		diff := cmp.Diff(o.Spec.PersistentVolumeSource, src)
		errs = append(errs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"), pvSourceChangedMsg(diff)))
	}
	// Kubernetes reports these two without the "spec." prefix.
	errs = append(errs, commonImmutable(pv.Spec.VolumeMode, o.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if o.Spec.NodeAffinity != nil && !equality.Semantic.DeepEqual(pv.Spec.NodeAffinity, o.Spec.NodeAffinity) {
		errs = append(errs, field.Invalid(field.NewPath("nodeAffinity"), pv.Spec.NodeAffinity, apivalidation.FieldImmutableErrorMsg))
	}
	if o.Spec.VolumeAttributesClassName != nil && pv.Spec.VolumeAttributesClassName == nil {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
	}
	return errs
}

// ValidateStatusUpdate accepts any status: the volume controllers own it.
func (pvStrategy) ValidateStatusUpdate(runtime.Object, runtime.Object) field.ErrorList { return nil }

// SelectableFields adds the legacy "name" field.
func (pvStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"name": obj.(*corev1.PersistentVolume).Name}
}

// TableColumns are kubectl's persistent volume columns.
func (pvStrategy) TableColumns() []metav1.TableColumnDefinition {
	spec, st := corev1.PersistentVolumeSpec{}.SwaggerDoc(), corev1.PersistentVolumeStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Capacity", "string", spec["capacity"]),
		commonColumn("Access Modes", "string", spec["accessModes"]),
		commonColumn("Reclaim Policy", "string", spec["persistentVolumeReclaimPolicy"]),
		commonColumn("Status", "string", st["phase"]),
		commonColumn("Claim", "string", spec["claimRef"]),
		commonColumn("StorageClass", "string", "StorageClass of the pv"),
		commonColumn("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
		commonColumn("Reason", "string", st["reason"]),
		commonAgeColumn(),
		commonWideColumn("VolumeMode", "string", spec["volumeMode"]),
	}
}

// TableRow renders one persistent volume.
func (pvStrategy) TableRow(obj runtime.Object) []interface{} {
	pv := obj.(*corev1.PersistentVolume)
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if a, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = a
	}
	return []interface{}{
		pv.Name, capacity.String(), commonAccessModes(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, class, pvUnset(pv.Spec.VolumeAttributesClassName), pv.Status.Reason,
		commonAge(pv.CreationTimestamp), pvVolumeMode(pv.Spec.VolumeMode),
	}
}

// pvUnset renders an optional string, "<unset>" when absent.
func pvUnset(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

// pvVolumeMode renders an optional volume mode.
func pvVolumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}
