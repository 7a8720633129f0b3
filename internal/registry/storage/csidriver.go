package storage

import (
	"strings"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	minTokenExpirationSeconds = 10 * 60
	maxTokenExpirationSeconds = 1 << 32
	minAllocatableUpdateSecs  = 10
)

var (
	supportedFSGroupPolicies = []string{
		string(storagev1.FileFSGroupPolicy),
		string(storagev1.NoneFSGroupPolicy),
		string(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy),
	}
	supportedLifecycleModes = []string{string(storagev1.VolumeLifecyclePersistent), string(storagev1.VolumeLifecycleEphemeral)}
)

// CSIDrivers returns the cluster-scoped storage.k8s.io/v1 CSIDriver
// resource. Unset booleans get Kubernetes' defaults (attachRequired true,
// the rest false), fsGroupPolicy ReadWriteOnceWithFSType and
// volumeLifecycleModes [Persistent]; attachRequired and
// volumeLifecycleModes are immutable.
func CSIDrivers() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "csidrivers",
		Kind:       "CSIDriver",
		Singular:   "csidriver",
		Namespaced: false,
		New:        func() runtime.Object { return &storagev1.CSIDriver{} },
		NewList:    func() runtime.Object { return &storagev1.CSIDriverList{} },
		Strategy:   csiDriverStrategy{now: time.Now},
	}
}

type csiDriverStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = csiDriverStrategy{}

func setBool(p **bool, v bool) {
	if *p == nil {
		*p = &v
	}
}

func (csiDriverStrategy) Default(obj runtime.Object) {
	d, ok := obj.(*storagev1.CSIDriver)
	if !ok {
		return
	}
	spec := &d.Spec
	setBool(&spec.AttachRequired, true)
	setBool(&spec.PodInfoOnMount, false)
	setBool(&spec.StorageCapacity, false)
	setBool(&spec.RequiresRepublish, false)
	setBool(&spec.SELinuxMount, false)
	if spec.FSGroupPolicy == nil {
		p := storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy
		spec.FSGroupPolicy = &p
	}
	if len(spec.VolumeLifecycleModes) == 0 {
		spec.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}
	}
}

func (csiDriverStrategy) Validate(obj runtime.Object) field.ErrorList {
	d, ok := obj.(*storagev1.CSIDriver)
	if !ok {
		return wrongType(obj)
	}
	return validateCSIDriverSpec(&d.Spec, field.NewPath("spec"))
}

func (csiDriverStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	d, ok1 := obj.(*storagev1.CSIDriver)
	prev, ok2 := old.(*storagev1.CSIDriver)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	p := field.NewPath("spec")
	errs := validateCSIDriverSpec(&d.Spec, p)
	// Kubernetes reports attachRequired under the misspelt path
	// "attachedRequired"; clients match on it, so it is kept.
	errs = append(errs, apivalidation.ValidateImmutableField(d.Spec.AttachRequired, prev.Spec.AttachRequired, p.Child("attachedRequired"))...)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.VolumeLifecycleModes, prev.Spec.VolumeLifecycleModes, p.Child("volumeLifecycleModes"))...)
}

func validateCSIDriverSpec(spec *storagev1.CSIDriverSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, req := range []struct {
		name string
		v    *bool
	}{
		{"attachedRequired", spec.AttachRequired},
		{"podInfoOnMount", spec.PodInfoOnMount},
		{"storageCapacity", spec.StorageCapacity},
	} {
		if req.v == nil {
			errs = append(errs, field.Required(p.Child(req.name), ""))
		}
	}
	if spec.FSGroupPolicy != nil && !contains(supportedFSGroupPolicies, string(*spec.FSGroupPolicy)) {
		errs = append(errs, field.NotSupported(p.Child("fsGroupPolicy"), *spec.FSGroupPolicy, supportedFSGroupPolicies))
	}
	errs = append(errs, validateTokenRequests(spec.TokenRequests, p.Child("tokenRequests"))...)
	for _, m := range spec.VolumeLifecycleModes {
		if !contains(supportedLifecycleModes, string(m)) {
			errs = append(errs, field.NotSupported(p.Child("volumeLifecycleModes"), m, supportedLifecycleModes))
		}
	}
	if spec.SELinuxMount == nil {
		errs = append(errs, field.Required(p.Child("seLinuxMount"), ""))
	}
	if s := spec.NodeAllocatableUpdatePeriodSeconds; s != nil && *s < minAllocatableUpdateSecs {
		errs = append(errs, field.Invalid(p.Child("nodeAllocatableUpdatePeriodSeconds"), *s, "must be greater than or equal to 10 seconds"))
	}
	if spec.ServiceAccountTokenInSecrets != nil && len(spec.TokenRequests) == 0 {
		errs = append(errs, field.Invalid(p.Child("serviceAccountTokenInSecrets"), *spec.ServiceAccountTokenInSecrets,
			"serviceAccountTokenInSecrets is set but no tokenRequests are specified"))
	}
	return errs
}

func validateTokenRequests(reqs []storagev1.TokenRequest, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	audiences := map[string]bool{}
	for i, r := range reqs {
		rp := p.Index(i)
		if audiences[r.Audience] {
			errs = append(errs, field.Duplicate(rp.Child("audience"), r.Audience))
			continue
		}
		audiences[r.Audience] = true
		if r.ExpirationSeconds == nil {
			continue
		}
		if *r.ExpirationSeconds < minTokenExpirationSeconds {
			errs = append(errs, field.Invalid(rp.Child("expirationSeconds"), *r.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
		}
		if *r.ExpirationSeconds > maxTokenExpirationSeconds {
			errs = append(errs, field.Invalid(rp.Child("expirationSeconds"), *r.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	return errs
}

func (csiDriverStrategy) TableColumns() []metav1.TableColumnDefinition {
	doc := storagev1.CSIDriverSpec{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "AttachRequired", Type: "boolean", Description: doc["attachRequired"]},
		{Name: "PodInfoOnMount", Type: "boolean", Description: doc["podInfoOnMount"]},
		{Name: "StorageCapacity", Type: "boolean", Description: doc["storageCapacity"]},
		{Name: "TokenRequests", Type: "string", Description: doc["tokenRequests"]},
		{Name: "RequiresRepublish", Type: "boolean", Description: doc["requiresRepublish"]},
		{Name: "Modes", Type: "string", Description: doc["volumeLifecycleModes"]},
		ageColumn(),
	}
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func (s csiDriverStrategy) TableRow(obj runtime.Object) []interface{} {
	d, ok := obj.(*storagev1.CSIDriver)
	if !ok {
		return nil
	}
	tokens := "<unset>"
	if len(d.Spec.TokenRequests) > 0 {
		var auds []string
		for _, r := range d.Spec.TokenRequests {
			auds = append(auds, r.Audience)
		}
		tokens = strings.Join(auds, ",")
	}
	modes := "<none>"
	if len(d.Spec.VolumeLifecycleModes) > 0 {
		var ms []string
		for _, m := range d.Spec.VolumeLifecycleModes {
			ms = append(ms, string(m))
		}
		modes = strings.Join(ms, ",")
	}
	return []interface{}{
		d.Name,
		boolOr(d.Spec.AttachRequired, true),
		boolOr(d.Spec.PodInfoOnMount, false),
		boolOr(d.Spec.StorageCapacity, false),
		tokens,
		boolOr(d.Spec.RequiresRepublish, false),
		modes,
		age(d.CreationTimestamp, s.now()),
	}
}
