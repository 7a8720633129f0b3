package core

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// limitStandardTypes() are the unprefixed limit types.
func limitStandardTypes() map[corev1.LimitType]bool {
	return map[corev1.LimitType]bool{
		corev1.LimitTypePod: true, corev1.LimitTypeContainer: true, corev1.LimitTypePersistentVolumeClaim: true,
	}
}

// LimitRanges returns the core/v1 limitranges resource.
func LimitRanges() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "limitranges",
		Kind:       "LimitRange",
		Singular:   "limitrange",
		ShortNames: []string{"limits"},
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.LimitRange{} },
		NewList:    func() runtime.Object { return &corev1.LimitRangeList{} },
		Strategy:   limitStrategy{},
	}
}

// limitStrategy implements limit ranges' behaviour.
type limitStrategy struct {
	registry.DefaultStrategy
}

// Default fills container defaults as Kubernetes does: the default limit
// falls back to max, the default request to the default limit, then min.
func (limitStrategy) Default(obj runtime.Object) {
	lr := obj.(*corev1.LimitRange)
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = corev1.ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = corev1.ResourceList{}
		}
		limitFill(item.Default, item.Max)
		limitFill(item.DefaultRequest, item.Default)
		limitFill(item.DefaultRequest, item.Min)
	}
}

// limitFill copies into dst the entries of src it lacks.
func limitFill(dst, src corev1.ResourceList) {
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = v.DeepCopy()
		}
	}
}

// Validate checks every limit item.
func (limitStrategy) Validate(obj runtime.Object) field.ErrorList {
	lr := obj.(*corev1.LimitRange)
	var errs field.ErrorList
	seen := map[corev1.LimitType]bool{}
	p := field.NewPath("spec", "limits")
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		ip := p.Index(i)
		errs = append(errs, limitValidateType(item.Type, ip.Child("type"))...)
		if seen[item.Type] {
			errs = append(errs, field.Duplicate(ip.Child("type"), item.Type))
		}
		seen[item.Type] = true
		errs = append(errs, limitValidateItem(item, ip)...)
	}
	return errs
}

// ValidateUpdate checks the updated limit range like a new one.
func (s limitStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return s.Validate(obj)
}

func limitValidateType(t corev1.LimitType, p *field.Path) field.ErrorList {
	errs := commonMessages(p, t, validation.IsQualifiedName(string(t)))
	if len(errs) == 0 && !strings.Contains(string(t), "/") && !limitStandardTypes()[t] {
		errs = append(errs, field.Invalid(p, t, "must be a standard limit type or fully qualified"))
	}
	return errs
}

// limitResourceName checks a resource name; pod and container limits only
// accept compute resources.
func limitResourceName(t corev1.LimitType, name corev1.ResourceName, p *field.Path) field.ErrorList {
	errs := commonResourceName(name, p)
	if t != corev1.LimitTypePod && t != corev1.LimitTypeContainer {
		return errs
	}
	s := string(name)
	switch {
	case !strings.Contains(s, "/"):
		if s != "cpu" && s != "memory" && s != "ephemeral-storage" && !strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) {
			errs = append(errs, field.Invalid(p, name, "must be a standard resource for containers"))
		}
	case !commonIsNativeResource(name) && !commonIsIntegerResource(name):
		errs = append(errs, field.Invalid(p, name, "doesn't follow extended resource name standard"))
	}
	return errs
}

// limitValidateItem checks one item's resource names and that
// min <= defaultRequest <= default <= max.
func limitValidateItem(item *corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	keys := map[corev1.ResourceName]bool{}
	names := func(list corev1.ResourceList, child string) {
		for k := range list {
			errs = append(errs, limitResourceName(item.Type, k, p.Child(child).Key(string(k)))...)
			keys[k] = true
		}
	}
	names(item.Max, "max")
	names(item.Min, "min")
	if item.Type == corev1.LimitTypePod {
		if len(item.Default) > 0 {
			errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
		}
		if len(item.DefaultRequest) > 0 {
			errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
		}
	} else {
		names(item.Default, "default")
		names(item.DefaultRequest, "defaultRequest")
	}
	if item.Type == corev1.LimitTypePersistentVolumeClaim {
		_, hasMin := item.Min[corev1.ResourceStorage]
		_, hasMax := item.Max[corev1.ResourceStorage]
		if !hasMin && !hasMax {
			errs = append(errs, field.Required(p.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
		}
	}
	names(item.MaxLimitRequestRatio, "maxLimitRequestRatio")

	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, string(k))
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		errs = append(errs, limitCompare(item, corev1.ResourceName(k), p)...)
	}
	return errs
}

// limitCompare checks the ordering of one resource's values in an item.
func limitCompare(item *corev1.LimitRangeItem, k corev1.ResourceName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	key := string(k)
	minQ, hasMin := item.Min[k]
	maxQ, hasMax := item.Max[k]
	defQ, hasDef := item.Default[k]
	reqQ, hasReq := item.DefaultRequest[k]
	ratio, hasRatio := item.MaxLimitRequestRatio[k]
	if item.Type == corev1.LimitTypePod {
		hasDef, hasReq = false, false
	}
	if hasMin && hasMax && minQ.Cmp(maxQ) > 0 {
		errs = append(errs, field.Invalid(p.Child("min").Key(key), minQ, fmt.Sprintf("min value %s is greater than max value %s", minQ.String(), maxQ.String())))
	}
	if hasReq && hasMin && minQ.Cmp(reqQ) > 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), reqQ, fmt.Sprintf("min value %s is greater than default request value %s", minQ.String(), reqQ.String())))
	}
	if hasReq && hasMax && reqQ.Cmp(maxQ) > 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), reqQ, fmt.Sprintf("default request value %s is greater than max value %s", reqQ.String(), maxQ.String())))
	}
	if hasReq && hasDef && reqQ.Cmp(defQ) > 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), reqQ, fmt.Sprintf("default request value %s is greater than default limit value %s", reqQ.String(), defQ.String())))
	}
	if hasDef && hasMin && minQ.Cmp(defQ) > 0 {
		errs = append(errs, field.Invalid(p.Child("default").Key(key), minQ, fmt.Sprintf("min value %s is greater than default value %s", minQ.String(), defQ.String())))
	}
	if hasDef && hasMax && defQ.Cmp(maxQ) > 0 {
		errs = append(errs, field.Invalid(p.Child("default").Key(key), maxQ, fmt.Sprintf("default value %s is greater than max value %s", defQ.String(), maxQ.String())))
	}
	if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
		errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(key), ratio, fmt.Sprintf("ratio %s is less than 1", ratio.String())))
	}
	if hasRatio && hasMin && hasMax && minQ.Sign() > 0 {
		limit := float64(maxQ.MilliValue()) / float64(minQ.MilliValue())
		if float64(ratio.MilliValue())/1000 > limit {
			errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(key), ratio, fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), limit)))
		}
	}
	// Resources that cannot be overcommitted need equal defaults.
	if hasDef && hasReq && limitNoOvercommit(k) && defQ.Cmp(reqQ) != 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), reqQ,
			fmt.Sprintf("default value %s must equal to defaultRequest value %s in %s", defQ.String(), reqQ.String(), key)))
	}
	return errs
}

// limitNoOvercommit reports hugepages and extended resources.
func limitNoOvercommit(k corev1.ResourceName) bool {
	return strings.HasPrefix(string(k), corev1.ResourceHugePagesPrefix) || !commonIsNativeResource(k)
}

// TableColumns are the generic columns Kubernetes serves for limit ranges,
// which have no printer of their own.
func (limitStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Created At", "date", metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]),
	}
}

// TableRow renders the name and the RFC 3339 creation time.
func (limitStrategy) TableRow(obj runtime.Object) []interface{} {
	lr := obj.(*corev1.LimitRange)
	return []interface{}{lr.Name, lr.CreationTimestamp.UTC().Format(time.RFC3339)}
}
