package storage

import (
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	// maxParameters and maxParametersSize bound a class's provisioner
	// parameters (count, and total bytes of keys plus values).
	maxParameters     = 512
	maxParametersSize = 256 * (1 << 10)

	// DefaultClassAnnotation marks the StorageClass used for claims that
	// name none; the beta spelling is still honoured.
	DefaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

var (
	supportedReclaimPolicies = []string{string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain)}
	supportedBindingModes    = []string{string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer)}
)

// StorageClasses returns the cluster-scoped storage.k8s.io/v1 StorageClass
// resource. reclaimPolicy defaults to Delete and volumeBindingMode to
// Immediate; provisioner, parameters, reclaimPolicy and volumeBindingMode
// cannot change after creation.
func StorageClasses() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "storageclasses",
		Kind:       "StorageClass",
		Singular:   "storageclass",
		ShortNames: []string{"sc"},
		Namespaced: false,
		New:        func() runtime.Object { return &storagev1.StorageClass{} },
		NewList:    func() runtime.Object { return &storagev1.StorageClassList{} },
		Strategy:   storageClassStrategy{now: time.Now},
	}
}

// IsDefaultClass reports whether sc carries the default-class annotation
// (stable or beta) set to "true".
func IsDefaultClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[DefaultClassAnnotation] == "true" || sc.Annotations[betaDefaultClassAnnotation] == "true"
}

type storageClassStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = storageClassStrategy{}

func (storageClassStrategy) Default(obj runtime.Object) {
	sc, ok := obj.(*storagev1.StorageClass)
	if !ok {
		return
	}
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

func (storageClassStrategy) Validate(obj runtime.Object) field.ErrorList {
	sc, ok := obj.(*storagev1.StorageClass)
	if !ok {
		return wrongType(obj)
	}
	return validateStorageClass(sc)
}

func (storageClassStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	sc, ok1 := obj.(*storagev1.StorageClass)
	prev, ok2 := old.(*storagev1.StorageClass)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := validateStorageClass(sc)
	if !reflect.DeepEqual(sc.Parameters, prev.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != prev.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !reflect.DeepEqual(sc.ReclaimPolicy, prev.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, apivalidation.ValidateImmutableField(sc.VolumeBindingMode, prev.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	pp := field.NewPath("provisioner")
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(pp, ""))
	} else {
		// Provisioner names are compared case-insensitively, so only the
		// lower-cased form has to be a qualified name.
		lower := strings.ToLower(sc.Provisioner)
		for _, msg := range validation.IsQualifiedName(lower) {
			errs = append(errs, field.Invalid(pp, lower, msg))
		}
	}
	errs = append(errs, validateParameters(sc.Parameters, field.NewPath("parameters"))...)
	if sc.ReclaimPolicy != nil && *sc.ReclaimPolicy != "" && !contains(supportedReclaimPolicies, string(*sc.ReclaimPolicy)) {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *sc.ReclaimPolicy, supportedReclaimPolicies))
	}
	mp := field.NewPath("volumeBindingMode")
	switch {
	case sc.VolumeBindingMode == nil:
		errs = append(errs, field.Required(mp, ""))
	case !contains(supportedBindingModes, string(*sc.VolumeBindingMode)):
		errs = append(errs, field.NotSupported(mp, *sc.VolumeBindingMode, supportedBindingModes))
	}
	return append(errs, validateAllowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
}

func validateParameters(params map[string]string, p *field.Path) field.ErrorList {
	if len(params) > maxParameters {
		return field.ErrorList{field.TooLong(p, "", maxParameters)}
	}
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(p, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxParametersSize {
		errs = append(errs, field.TooLong(p, "", maxParametersSize))
	}
	return errs
}

// validateAllowedTopologies checks each term's label requirements and
// rejects terms that repeat an earlier one.
func validateAllowedTopologies(terms []corev1.TopologySelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var seen []map[string]map[string]bool
	for i, term := range terms {
		tp := p.Index(i)
		ep := tp.Child("matchLabelExpressions")
		reqs := map[string]map[string]bool{}
		for j, req := range term.MatchLabelExpressions {
			rp := ep.Index(j)
			values := map[string]bool{}
			if len(req.Values) == 0 {
				errs = append(errs, field.Required(rp.Child("values"), ""))
			}
			for k, v := range req.Values {
				if values[v] {
					errs = append(errs, field.Duplicate(rp.Child("values").Index(k), v))
				}
				values[v] = true
			}
			errs = append(errs, metavalidation.ValidateLabelName(req.Key, rp.Child("key"))...)
			if _, dup := reqs[req.Key]; dup {
				errs = append(errs, field.Duplicate(rp.Child("key"), req.Key))
			}
			reqs[req.Key] = values
		}
		for _, prev := range seen {
			if reflect.DeepEqual(prev, reqs) {
				errs = append(errs, field.Duplicate(ep, ""))
			}
		}
		seen = append(seen, reqs)
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (storageClassStrategy) TableColumns() []metav1.TableColumnDefinition {
	doc := storagev1.StorageClass{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Provisioner", Type: "string", Description: doc["provisioner"]},
		{Name: "ReclaimPolicy", Type: "string", Description: doc["reclaimPolicy"]},
		{Name: "VolumeBindingMode", Type: "string", Description: doc["volumeBindingMode"]},
		{Name: "AllowVolumeExpansion", Type: "string", Description: doc["allowVolumeExpansion"]},
		ageColumn(),
	}
}

func (s storageClassStrategy) TableRow(obj runtime.Object) []interface{} {
	sc, ok := obj.(*storagev1.StorageClass)
	if !ok {
		return nil
	}
	name := sc.Name
	if IsDefaultClass(sc) {
		name += " (default)"
	}
	reclaim := string(corev1.PersistentVolumeReclaimDelete)
	if sc.ReclaimPolicy != nil {
		reclaim = string(*sc.ReclaimPolicy)
	}
	mode := string(storagev1.VolumeBindingImmediate)
	if sc.VolumeBindingMode != nil {
		mode = string(*sc.VolumeBindingMode)
	}
	expand := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
	return []interface{}{name, sc.Provisioner, reclaim, mode, expand, age(sc.CreationTimestamp, s.now())}
}
