package storage

import (
	"math"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	maxAttachMetadataSize = 256 * (1 << 10)
	maxVolumeErrorMessage = 1024
)

// VolumeAttachments returns the cluster-scoped storage.k8s.io/v1
// VolumeAttachment resource, with a status subresource. Its spec is
// immutable; status is only written through /status.
func VolumeAttachments() *registry.Resource {
	return &registry.Resource{
		Group:        groupName,
		Version:      "v1",
		Resource:     "volumeattachments",
		Kind:         "VolumeAttachment",
		Singular:     "volumeattachment",
		Namespaced:   false,
		New:          func() runtime.Object { return &storagev1.VolumeAttachment{} },
		NewList:      func() runtime.Object { return &storagev1.VolumeAttachmentList{} },
		Strategy:     volumeAttachmentStrategy{now: time.Now},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

type volumeAttachmentStrategy struct {
	registry.DefaultStrategy
	now clock
}

var (
	_ registry.StatusStrategy = volumeAttachmentStrategy{}
	_ registry.TableConvertor = volumeAttachmentStrategy{}
)

func (volumeAttachmentStrategy) PrepareForCreate(obj runtime.Object) {
	if va, ok := obj.(*storagev1.VolumeAttachment); ok {
		va.Status = storagev1.VolumeAttachmentStatus{}
	}
}

func (volumeAttachmentStrategy) PrepareForUpdate(obj, old runtime.Object) {
	va, ok1 := obj.(*storagev1.VolumeAttachment)
	prev, ok2 := old.(*storagev1.VolumeAttachment)
	if ok1 && ok2 {
		va.Status = *prev.Status.DeepCopy()
	}
}

func (volumeAttachmentStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	va, ok1 := obj.(*storagev1.VolumeAttachment)
	prev, ok2 := old.(*storagev1.VolumeAttachment)
	if ok1 && ok2 {
		va.Spec = *prev.Spec.DeepCopy()
	}
}

func (volumeAttachmentStrategy) Validate(obj runtime.Object) field.ErrorList {
	va, ok := obj.(*storagev1.VolumeAttachment)
	if !ok {
		return wrongType(obj)
	}
	return validateVolumeAttachment(va)
}

func (volumeAttachmentStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	va, ok1 := obj.(*storagev1.VolumeAttachment)
	prev, ok2 := old.(*storagev1.VolumeAttachment)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := validateVolumeAttachment(va)
	if !apiequality.Semantic.DeepEqual(va.Spec, prev.Spec) {
		errs = append(errs, field.Invalid(field.NewPath("spec"), va.Spec, "field is immutable"))
	}
	return errs
}

func (s volumeAttachmentStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	return s.ValidateUpdate(obj, old)
}

func validateVolumeAttachment(va *storagev1.VolumeAttachment) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if va.Spec.Attacher == "" {
		errs = append(errs, field.Required(sp.Child("attacher"), ""))
	}
	src := &va.Spec.Source
	srcPath := sp.Child("source")
	const exactlyOne = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"
	switch {
	case src.InlineVolumeSpec == nil && src.PersistentVolumeName == nil:
		errs = append(errs, field.Required(srcPath, exactlyOne))
	case src.InlineVolumeSpec != nil && src.PersistentVolumeName != nil:
		errs = append(errs, field.Forbidden(srcPath, exactlyOne))
	case src.PersistentVolumeName != nil && *src.PersistentVolumeName == "":
		errs = append(errs, field.Required(srcPath.Child("persistentVolumeName"), "must specify non empty persistentVolumeName"))
	}
	for _, msg := range apivalidation.NameIsDNSSubdomain(va.Spec.NodeName, false) {
		errs = append(errs, field.Invalid(sp.Child("nodeName"), va.Spec.NodeName, msg))
	}

	st := field.NewPath("status")
	size := 0
	for k, v := range va.Status.AttachmentMetadata {
		size += len(k) + len(v)
	}
	if size > maxAttachMetadataSize {
		errs = append(errs, field.TooLong(st.Child("attachmentMetadata"), "", maxAttachMetadataSize))
	}
	errs = append(errs, validateVolumeError(va.Status.AttachError, st.Child("attachError"))...)
	errs = append(errs, validateVolumeError(va.Status.DetachError, st.Child("detachError"))...)

	// storage.k8s.io/v1 additionally checks the attacher as a CSI driver
	// name and the persistent volume name.
	errs = append(errs, validateCSIDriverName(va.Spec.Attacher, sp.Child("attacher"))...)
	if pv := src.PersistentVolumeName; pv != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*pv, false) {
			errs = append(errs, field.Invalid(srcPath.Child("persistentVolumeName"), *pv, msg))
		}
	}
	return errs
}

func validateVolumeError(e *storagev1.VolumeError, p *field.Path) field.ErrorList {
	if e == nil {
		return nil
	}
	var errs field.ErrorList
	if len(e.Message) > maxVolumeErrorMessage {
		errs = append(errs, field.TooLong(p.Child("message"), "", maxVolumeErrorMessage))
	}
	if e.ErrorCode != nil && *e.ErrorCode < 0 {
		errs = append(errs, field.Invalid(p.Child("errorCode"), *e.ErrorCode, validation.InclusiveRangeError(0, math.MaxInt32)))
	}
	return errs
}

func (volumeAttachmentStrategy) TableColumns() []metav1.TableColumnDefinition {
	spec := storagev1.VolumeAttachmentSpec{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Attacher", Type: "string", Format: "name", Description: spec["attacher"]},
		{Name: "PV", Type: "string", Description: storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]},
		{Name: "Node", Type: "string", Description: spec["nodeName"]},
		{Name: "Attached", Type: "boolean", Description: storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]},
		ageColumn(),
	}
}

func (s volumeAttachmentStrategy) TableRow(obj runtime.Object) []interface{} {
	va, ok := obj.(*storagev1.VolumeAttachment)
	if !ok {
		return nil
	}
	pv := ""
	if va.Spec.Source.PersistentVolumeName != nil {
		pv = *va.Spec.Source.PersistentVolumeName
	}
	return []interface{}{va.Name, va.Spec.Attacher, pv, va.Spec.NodeName, va.Status.Attached, age(va.CreationTimestamp, s.now())}
}
