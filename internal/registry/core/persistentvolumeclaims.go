package core

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// PersistentVolumeClaims returns the core/v1 persistentvolumeclaims resource.
func PersistentVolumeClaims() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "persistentvolumeclaims",
		Kind:         "PersistentVolumeClaim",
		Singular:     "persistentvolumeclaim",
		ShortNames:   []string{"pvc"},
		Namespaced:   true,
		New:          func() runtime.Object { return &corev1.PersistentVolumeClaim{} },
		NewList:      func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
		Strategy:     pvcStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// pvcStrategy implements persistent volume claims' behaviour.
type pvcStrategy struct {
	registry.DefaultStrategy
}

// Default sets volume mode Filesystem and phase Pending.
func (pvcStrategy) Default(obj runtime.Object) {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	if pvc.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pvc.Spec.VolumeMode = &m
	}
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
}

// PrepareForCreate starts the claim in phase Pending.
func (pvcStrategy) PrepareForCreate(obj runtime.Object) {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
}

// PrepareForUpdate keeps the status from old.
func (pvcStrategy) PrepareForUpdate(obj, old runtime.Object) {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	pvc.Status = *o.Status.DeepCopy()
}

// PrepareForStatusUpdate keeps the spec from old.
func (pvcStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	pvc.Spec = *o.Spec.DeepCopy()
}

// Validate checks the claim's spec.
func (pvcStrategy) Validate(obj runtime.Object) field.ErrorList {
	return pvcValidateSpec(&obj.(*corev1.PersistentVolumeClaim).Spec, field.NewPath("spec"))
}

func pvcValidateSpec(spec *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := pvValidateAccessModes(spec.AccessModes, p.Child("accessModes"), "at least 1 access mode is required")
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	// Kubernetes keys this path on "resources", not "resources.requests".
	sp := p.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(sp, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(sp, q.String(), "must be greater than zero"))
	}
	if c := spec.StorageClassName; c != nil && *c != "" {
		errs = append(errs, commonDNS1123Subdomain(*c, p.Child("storageClassName"))...)
	}
	if m := spec.VolumeMode; m != nil && !svcOneOf(string(*m), pvVolumeModes()) {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, pvVolumeModes()))
	}
	if ds := spec.DataSource; ds != nil {
		errs = append(errs, pvcValidateDataSource(ds.APIGroup, ds.Kind, ds.Name, p.Child("dataSource"))...)
	}
	if ref := spec.DataSourceRef; ref != nil {
		errs = append(errs, pvcValidateDataSource(ref.APIGroup, ref.Kind, ref.Name, p.Child("dataSourceRef"))...)
		if ref.Namespace != nil && *ref.Namespace != "" {
			errs = append(errs, commonDNS1123Label(*ref.Namespace, p.Child("dataSourceRef", "namespace"))...)
			if spec.DataSource != nil {
				errs = append(errs, field.Invalid(p, p.Child("dataSource"), "may not be specified when dataSourceRef.namespace is specified"))
			}
		} else if ds := spec.DataSource; ds != nil &&
			(!svcSameStringPtr(ds.APIGroup, ref.APIGroup) || ds.Kind != ref.Kind || ds.Name != ref.Name) {
			errs = append(errs, field.Invalid(p, p.Child("dataSource"), "must match dataSourceRef"))
		}
	}
	if vac := spec.VolumeAttributesClassName; vac != nil && *vac != "" {
		errs = append(errs, commonDNS1123Subdomain(*vac, p.Child("volumeAttributesClassName"))...)
	}
	return errs
}

// pvcValidateDataSource checks a dataSource or dataSourceRef.
func pvcValidateDataSource(group *string, kind, name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	}
	g := ""
	if group != nil {
		g = *group
	}
	if g == "" && kind != "PersistentVolumeClaim" {
		errs = append(errs, field.Invalid(p, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
	}
	if g != "" {
		errs = append(errs, commonDNS1123Subdomain(g, p.Child("apiGroup"))...)
	}
	return errs
}

// ValidateUpdate allows, besides metadata, only: binding a volume once,
// resizing a bound claim, changing the volume attributes class and setting
// a storage class on a claim without one.
func (s pvcStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	errs := s.Validate(obj)
	newSpec, oldSpec := pvc.Spec.DeepCopy(), o.Spec.DeepCopy()
	if oldSpec.VolumeName == "" {
		oldSpec.VolumeName = newSpec.VolumeName
	}
	if oldSpec.StorageClassName == nil && newSpec.StorageClassName != nil {
		if a, ok := o.Annotations[corev1.BetaStorageClassAnnotation]; !ok || a == *newSpec.StorageClassName {
			oldSpec.StorageClassName = newSpec.StorageClassName
		}
	}
	if pvc.Status.Phase == corev1.ClaimBound && newSpec.Resources.Requests != nil {
		newSpec.Resources.Requests[corev1.ResourceStorage] = o.Spec.Resources.Requests[corev1.ResourceStorage]
	}
	newSpec.VolumeAttributesClassName = oldSpec.VolumeAttributesClassName
	if !equality.Semantic.DeepEqual(newSpec, oldSpec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"),
			fmt.Sprintf("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n%v", cmp.Diff(*oldSpec, *newSpec))))
	}
	newSize, oldSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage], o.Spec.Resources.Requests[corev1.ResourceStorage]
	statusSize := o.Status.Capacity[corev1.ResourceStorage]
	// Shrinking is only allowed to recover from a failed expansion, and never
	// below what the volume already has.
	if newSize.Cmp(oldSize) < 0 && newSize.Cmp(statusSize) <= 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"))
	}
	errs = append(errs, commonImmutable(pvc.Spec.VolumeMode, o.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if o.Spec.VolumeAttributesClassName != nil {
		vac := field.NewPath("spec", "volumeAttributesClassName")
		if pvc.Spec.VolumeAttributesClassName == nil {
			errs = append(errs, field.Forbidden(vac, "update from non-nil value to nil is forbidden"))
		} else if *pvc.Spec.VolumeAttributesClassName == "" && *o.Spec.VolumeAttributesClassName != "" {
			errs = append(errs, field.Forbidden(vac, "update from non-nil value to an empty string is forbidden"))
		}
	}
	return errs
}

// ValidateStatusUpdate checks the reported capacities.
func (pvcStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	var errs field.ErrorList
	capPath := field.NewPath("status", "capacity")
	for name, q := range pvc.Status.Capacity {
		if q.Value() < 0 {
			errs = append(errs, field.Invalid(capPath.Key(string(name)), q.Value(), "must be a valid resource quantity"))
		}
	}
	return errs
}

// SelectableFields adds the legacy "name" field.
func (pvcStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"name": obj.(*corev1.PersistentVolumeClaim).Name}
}

// TableColumns are kubectl's persistent volume claim columns.
func (pvcStrategy) TableColumns() []metav1.TableColumnDefinition {
	spec, st := corev1.PersistentVolumeClaimSpec{}.SwaggerDoc(), corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Status", "string", st["phase"]),
		commonColumn("Volume", "string", spec["volumeName"]),
		commonColumn("Capacity", "string", st["capacity"]),
		commonColumn("Access Modes", "string", st["accessModes"]),
		commonColumn("StorageClass", "string", "StorageClass of the pvc"),
		commonColumn("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
		commonAgeColumn(),
		commonWideColumn("VolumeMode", "string", spec["volumeMode"]),
	}
}

// TableRow renders one claim; capacity and access modes come from status
// once the claim is bound to a volume.
func (pvcStrategy) TableRow(obj runtime.Object) []interface{} {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = q.String(), commonAccessModes(pvc.Status.AccessModes)
	}
	class := ""
	if a, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = a
	} else if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	return []interface{}{
		pvc.Name, phase, pvc.Spec.VolumeName, capacity, modes, class,
		pvUnset(pvc.Spec.VolumeAttributesClassName), commonAge(pvc.CreationTimestamp), pvVolumeMode(pvc.Spec.VolumeMode),
	}
}
