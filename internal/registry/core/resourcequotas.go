package core

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// quotaStandardResources() are the unprefixed names a quota may limit.
func quotaStandardResources() map[string]bool {
	return map[string]bool{
		"pods": true, "services": true, "replicationcontrollers": true, "resourcequotas": true, "secrets": true,
		"configmaps": true, "persistentvolumeclaims": true, "services.nodeports": true, "services.loadbalancers": true,
		"cpu": true, "memory": true, "ephemeral-storage": true,
		"requests.cpu": true, "requests.memory": true, "requests.storage": true, "requests.ephemeral-storage": true,
		"limits.cpu": true, "limits.memory": true, "limits.ephemeral-storage": true,
	}
}

// quotaPodScopedResources() are what the pod-related scopes can limit.
func quotaPodScopedResources() map[string]bool {
	return map[string]bool{
		"pods": true, "cpu": true, "memory": true, "ephemeral-storage": true,
		"requests.cpu": true, "requests.memory": true, "requests.ephemeral-storage": true,
		"limits.cpu": true, "limits.memory": true, "limits.ephemeral-storage": true,
	}
}

// quotaScopes() are the scopes Kubernetes knows.
func quotaScopes() map[corev1.ResourceQuotaScope]bool {
	return map[corev1.ResourceQuotaScope]bool{
		corev1.ResourceQuotaScopeTerminating: true, corev1.ResourceQuotaScopeNotTerminating: true,
		corev1.ResourceQuotaScopeBestEffort: true, corev1.ResourceQuotaScopeNotBestEffort: true,
		corev1.ResourceQuotaScopePriorityClass: true, corev1.ResourceQuotaScopeCrossNamespacePodAffinity: true,
		corev1.ResourceQuotaScopeVolumeAttributesClass: true,
	}
}

// quotaConflictingScopes() may not be combined.
func quotaConflictingScopes() [][2]corev1.ResourceQuotaScope {
	return [][2]corev1.ResourceQuotaScope{
		{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort},
		{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating},
	}
}

// ResourceQuotas returns the core/v1 resourcequotas resource. Its status
// (hard and used) is owned by the quota controller.
func ResourceQuotas() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "resourcequotas",
		Kind:         "ResourceQuota",
		Singular:     "resourcequota",
		ShortNames:   []string{"quota"},
		Namespaced:   true,
		New:          func() runtime.Object { return &corev1.ResourceQuota{} },
		NewList:      func() runtime.Object { return &corev1.ResourceQuotaList{} },
		Strategy:     quotaStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// quotaStrategy implements resource quotas' behaviour.
type quotaStrategy struct {
	registry.DefaultStrategy
}

// PrepareForCreate clears the status.
func (quotaStrategy) PrepareForCreate(obj runtime.Object) {
	obj.(*corev1.ResourceQuota).Status = corev1.ResourceQuotaStatus{}
}

// PrepareForUpdate keeps the status from old.
func (quotaStrategy) PrepareForUpdate(obj, old runtime.Object) {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	q.Status = *o.Status.DeepCopy()
}

// PrepareForStatusUpdate keeps the spec from old.
func (quotaStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	q.Spec = *o.Spec.DeepCopy()
}

// Validate checks the hard limits and scopes.
func (quotaStrategy) Validate(obj runtime.Object) field.ErrorList {
	q := obj.(*corev1.ResourceQuota)
	errs := quotaValidateSpec(&q.Spec, field.NewPath("spec"))
	return append(errs, quotaValidateStatus(&q.Status, field.NewPath("status"))...)
}

// ValidateUpdate also forbids changing the scopes.
func (quotaStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	errs := quotaValidateSpec(&q.Spec, field.NewPath("spec"))
	if !quotaSameScopes(q.Spec.Scopes, o.Spec.Scopes) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "scopes"), q.Spec.Scopes, apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}

// ValidateStatusUpdate checks the reported hard and used amounts.
func (quotaStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	return quotaValidateStatus(&obj.(*corev1.ResourceQuota).Status, field.NewPath("status"))
}

func quotaSameScopes(a, b []corev1.ResourceQuotaScope) bool {
	set := map[corev1.ResourceQuotaScope]int{}
	for _, s := range a {
		set[s] |= 1
	}
	for _, s := range b {
		set[s] |= 2
	}
	for _, v := range set {
		if v != 3 {
			return false
		}
	}
	return true
}

// quotaResourceName checks a name a quota may limit.
func quotaResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	errs := commonResourceName(name, p)
	s := string(name)
	if !strings.Contains(s, "/") && !quotaStandardResources()[s] && !commonIsHugePages(s) {
		errs = append(errs, field.Invalid(p, name, "must be a standard resource for quota"))
	}
	return errs
}

func quotaValidateList(list corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range list {
		rp := p.Key(string(name))
		errs = append(errs, quotaResourceName(name, rp)...)
		errs = append(errs, commonQuantity(name, q, rp)...)
	}
	return errs
}

func quotaValidateStatus(st *corev1.ResourceQuotaStatus, p *field.Path) field.ErrorList {
	return append(quotaValidateList(st.Hard, p.Child("hard")), quotaValidateList(st.Used, p.Child("used"))...)
}

// quotaScopeFits reports whether scope may restrict a standard resource.
func quotaScopeFits(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	s := string(name)
	switch scope {
	case corev1.ResourceQuotaScopeBestEffort:
		return s == "pods"
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		return s == "persistentvolumeclaims" || s == "requests.storage"
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
		corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass,
		corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return quotaPodScopedResources()[s] || commonIsHugePages(s)
	}
	return false
}

func quotaValidateSpec(spec *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	errs := quotaValidateList(spec.Hard, p.Child("hard"))
	hard := make([]corev1.ResourceName, 0, len(spec.Hard))
	for name := range spec.Hard {
		hard = append(hard, name)
	}
	sort.Slice(hard, func(i, j int) bool { return hard[i] < hard[j] })
	checkScope := func(scope corev1.ResourceQuotaScope, badScope, badFit *field.Error) {
		if !quotaScopes()[scope] {
			errs = append(errs, badScope)
		}
		for _, name := range hard {
			if quotaStandardResources()[string(name)] && !quotaScopeFits(scope, name) {
				errs = append(errs, badFit)
			}
		}
	}
	scopesPath := p.Child("scopes")
	seen := map[corev1.ResourceQuotaScope]bool{}
	for _, scope := range spec.Scopes {
		checkScope(scope, field.Invalid(scopesPath, spec.Scopes, "unsupported scope"),
			field.Invalid(scopesPath, spec.Scopes, "unsupported scope applied to resource"))
		seen[scope] = true
	}
	errs = append(errs, quotaConflicts(seen, scopesPath, spec.Scopes)...)
	if spec.ScopeSelector != nil {
		mp := p.Child("scopeSelector", "matchExpressions")
		seen = map[corev1.ResourceQuotaScope]bool{}
		for _, req := range spec.ScopeSelector.MatchExpressions {
			checkScope(req.ScopeName, field.Invalid(mp.Child("scopeName"), req.ScopeName, "unsupported scope"),
				field.Invalid(mp, spec.ScopeSelector, "unsupported scope applied to resource"))
			errs = append(errs, quotaValidateRequirement(req, mp)...)
			seen[req.ScopeName] = true
		}
		errs = append(errs, quotaConflicts(seen, mp, spec.Scopes)...)
	}
	return errs
}

func quotaConflicts(seen map[corev1.ResourceQuotaScope]bool, p *field.Path, scopes []corev1.ResourceQuotaScope) field.ErrorList {
	var errs field.ErrorList
	for _, pair := range quotaConflictingScopes() {
		if seen[pair[0]] && seen[pair[1]] {
			errs = append(errs, field.Invalid(p, scopes, "conflicting scopes"))
		}
	}
	return errs
}

// quotaValidateRequirement checks one scope selector expression.
func quotaValidateRequirement(req corev1.ScopedResourceSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch req.ScopeName {
	case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating,
		corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		if req.Operator != corev1.ScopeSelectorOpExists {
			errs = append(errs, field.Invalid(p.Child("operator"), req.Operator,
				"must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
		}
	}
	switch req.Operator {
	case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
		if len(req.Values) == 0 {
			errs = append(errs, field.Required(p.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
		}
	case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
		if len(req.Values) != 0 {
			errs = append(errs, field.Invalid(p.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
		}
	default:
		errs = append(errs, field.Invalid(p.Child("operator"), req.Operator, "not a valid selector operator"))
	}
	return errs
}

// TableColumns are kubectl's resource quota columns.
func (quotaStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
		commonColumn("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
		commonAgeColumn(),
	}
}

// TableRow renders "name: used/hard" pairs from status, limits.* ones in
// the LIMIT column and the rest in REQUEST, sorted by resource name.
func (quotaStrategy) TableRow(obj runtime.Object) []interface{} {
	q := obj.(*corev1.ResourceQuota)
	names := make([]string, 0, len(q.Status.Hard))
	for name := range q.Status.Hard {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var req, lim []string
	for _, name := range names {
		used, hard := q.Status.Used[corev1.ResourceName(name)], q.Status.Hard[corev1.ResourceName(name)]
		s := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if strings.HasPrefix(name, "limits.") {
			lim = append(lim, s)
		} else {
			req = append(req, s)
		}
	}
	return []interface{}{q.Name, strings.Join(req, ", "), strings.Join(lim, ", "), commonAge(q.CreationTimestamp)}
}
