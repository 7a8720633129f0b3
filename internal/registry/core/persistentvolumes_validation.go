package core

import (
	"fmt"
	"path"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func pvAccessModes() []string {
	return []string{
		string(corev1.ReadOnlyMany), string(corev1.ReadWriteMany), string(corev1.ReadWriteOnce), string(corev1.ReadWriteOncePod),
	}
}

func pvReclaimPolicies() []string {
	return []string{
		string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRecycle), string(corev1.PersistentVolumeReclaimRetain),
	}
}

func pvVolumeModes() []string {
	return []string{string(corev1.PersistentVolumeBlock), string(corev1.PersistentVolumeFilesystem)}
}

func pvHostPathTypes() []string {
	return []string{
		"", string(corev1.HostPathBlockDev), string(corev1.HostPathCharDev), string(corev1.HostPathDirectory),
		string(corev1.HostPathDirectoryOrCreate), string(corev1.HostPathFile), string(corev1.HostPathFileOrCreate),
		string(corev1.HostPathSocket),
	}
}

func pvSelectorOps() []string {
	return []string{
		string(corev1.NodeSelectorOpDoesNotExist), string(corev1.NodeSelectorOpExists), string(corev1.NodeSelectorOpGt),
		string(corev1.NodeSelectorOpIn), string(corev1.NodeSelectorOpLt), string(corev1.NodeSelectorOpNotIn),
	}
}

// pvValidateAccessModes checks PV and PVC access modes; detail is the
// message of the "none given" error.
func pvValidateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path, detail string) field.ErrorList {
	var errs field.ErrorList
	if len(modes) == 0 {
		errs = append(errs, field.Required(p, detail))
	}
	rwop, other := false, false
	for _, m := range modes {
		switch {
		case !svcOneOf(string(m), pvAccessModes()):
			errs = append(errs, field.NotSupported(p, m, pvAccessModes()))
		case m == corev1.ReadWriteOncePod:
			rwop = true
		default:
			other = true
		}
	}
	if rwop && other {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

// pvValidateSpec checks a persistent volume's spec.
func pvValidateSpec(spec *corev1.PersistentVolumeSpec, p *field.Path) field.ErrorList {
	errs := pvValidateAccessModes(spec.AccessModes, p.Child("accessModes"), "")
	capPath := p.Child("capacity")
	if len(spec.Capacity) == 0 {
		errs = append(errs, field.Required(capPath, ""))
	}
	if _, ok := spec.Capacity[corev1.ResourceStorage]; !ok || len(spec.Capacity) > 1 {
		errs = append(errs, field.NotSupported(capPath, spec.Capacity, []string{string(corev1.ResourceStorage)}))
	}
	for name, q := range spec.Capacity {
		errs = append(errs, pvPositiveQuantity(q, capPath.Key(string(name)))...)
	}
	if r := spec.PersistentVolumeReclaimPolicy; r != "" && !svcOneOf(string(r), pvReclaimPolicies()) {
		errs = append(errs, field.NotSupported(p.Child("persistentVolumeReclaimPolicy"), r, pvReclaimPolicies()))
	}
	hasAffinity := spec.NodeAffinity != nil
	if hasAffinity {
		errs = append(errs, pvValidateNodeAffinity(spec.NodeAffinity, p.Child("nodeAffinity"))...)
	}
	errs = append(errs, pvValidateSource(&spec.PersistentVolumeSource, hasAffinity, p)...)
	if spec.HostPath != nil && path.Clean(spec.HostPath.Path) == "/" && spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		errs = append(errs, field.Forbidden(p.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	if spec.StorageClassName != "" {
		errs = append(errs, commonDNS1123Subdomain(spec.StorageClassName, p.Child("storageClassName"))...)
	}
	if m := spec.VolumeMode; m != nil && !svcOneOf(string(*m), pvVolumeModes()) {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, pvVolumeModes()))
	}
	if vac := spec.VolumeAttributesClassName; vac != nil {
		if *vac == "" {
			errs = append(errs, field.Required(p.Child("volumeAttributesClassName"), "an empty string is disallowed"))
		} else {
			errs = append(errs, commonDNS1123Subdomain(*vac, p.Child("volumeAttributesClassName"))...)
		}
		if spec.CSI == nil {
			errs = append(errs, field.Required(p.Child("csi"), "has to be specified when using volumeAttributesClassName"))
		}
	}
	return errs
}

// pvPositiveQuantity requires a strictly positive quantity.
func pvPositiveQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Value() < 0 {
		return field.ErrorList{field.Invalid(p, q.Value(), "must be a valid resource quantity")}
	}
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than zero")}
	}
	return nil
}

// pvValidateSource requires exactly one volume source and checks the
// common ones in detail.
func pvValidateSource(src *corev1.PersistentVolumeSource, hasAffinity bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := reflect.ValueOf(src).Elem()
	count := 0
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsNil() {
			continue
		}
		if count++; count > 1 {
			name := strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0]
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 volume type"))
		}
	}
	if count == 0 {
		return append(errs, field.Required(p, "must specify a volume type"))
	}
	switch {
	case src.HostPath != nil:
		errs = append(errs, pvValidateLocalPath(src.HostPath.Path, p.Child("hostPath", "path"))...)
		if t := src.HostPath.Type; t != nil && !svcOneOf(string(*t), pvHostPathTypes()) {
			errs = append(errs, field.NotSupported(p.Child("hostPath", "type"), *t, pvHostPathTypes()))
		}
	case src.Local != nil:
		errs = append(errs, pvValidateLocalPath(src.Local.Path, p.Child("local", "path"))...)
		if !hasAffinity {
			errs = append(errs, field.Required(p.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	case src.NFS != nil:
		if src.NFS.Server == "" {
			errs = append(errs, field.Required(p.Child("nfs", "server"), ""))
		}
		if src.NFS.Path == "" {
			errs = append(errs, field.Required(p.Child("nfs", "path"), ""))
		} else if !path.IsAbs(src.NFS.Path) {
			errs = append(errs, field.Invalid(p.Child("nfs", "path"), src.NFS.Path, "must be an absolute path"))
		}
	case src.CSI != nil:
		errs = append(errs, pvValidateCSIDriver(src.CSI.Driver, p.Child("csi", "driver"))...)
		if src.CSI.VolumeHandle == "" {
			errs = append(errs, field.Required(p.Child("csi", "volumeHandle"), ""))
		}
	}
	return errs
}

// pvValidateLocalPath requires a path without ".." elements.
func pvValidateLocalPath(s string, p *field.Path) field.ErrorList {
	if s == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	for _, part := range strings.Split(strings.ReplaceAll(s, `\`, "/"), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, s, "must not contain '..'")}
		}
	}
	return nil
}

// pvValidateCSIDriver checks a CSI driver name.
func pvValidateCSIDriver(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p, ""))
	}
	if len(name) > 63 {
		errs = append(errs, field.TooLong(p, name, 63))
	}
	return append(errs, commonDNS1123Subdomain(strings.ToLower(name), p)...)
}

// pvValidateNodeAffinity checks the required node selector.
func pvValidateNodeAffinity(a *corev1.VolumeNodeAffinity, p *field.Path) field.ErrorList {
	if a.Required == nil {
		return field.ErrorList{field.Required(p.Child("required"), "must specify required node constraints")}
	}
	terms := p.Child("required", "nodeSelectorTerms")
	if len(a.Required.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(terms, "must have at least one node selector term")}
	}
	var errs field.ErrorList
	for i, term := range a.Required.NodeSelectorTerms {
		for j, req := range term.MatchExpressions {
			rp := terms.Index(i).Child("matchExpressions").Index(j)
			errs = append(errs, metav1validation.ValidateLabelName(req.Key, rp.Child("key"))...)
			if !svcOneOf(string(req.Operator), pvSelectorOps()) {
				errs = append(errs, field.Invalid(rp.Child("operator"), req.Operator, "not a valid selector operator"))
			}
		}
	}
	return errs
}

// pvSourceChangedMsg describes a forbidden change of the volume source.
func pvSourceChangedMsg(diff string) string {
	return fmt.Sprintf("spec.persistentvolumesource is immutable after creation\n%v", diff)
}
