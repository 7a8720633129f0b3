package podspec

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// standardResourceNames are the unprefixed resource names Kubernetes knows
// (compute, quota and storage resources).
var standardResourceNames = map[string]bool{
	"cpu": true, "memory": true, "ephemeral-storage": true, "storage": true,
	"requests.cpu": true, "requests.memory": true, "requests.ephemeral-storage": true, "requests.storage": true,
	"limits.cpu": true, "limits.memory": true, "limits.ephemeral-storage": true,
	"pods": true, "services": true, "replicationcontrollers": true, "resourcequotas": true,
	"secrets": true, "configmaps": true, "persistentvolumeclaims": true,
	"services.nodeports": true, "services.loadbalancers": true,
}

func isHugePageResource(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isNativeResource reports whether name belongs to Kubernetes (unprefixed
// or in the kubernetes.io domain).
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResource reports whether name is a vendor resource such as
// example.com/gpu.
func isExtendedResource(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// isOvercommitAllowed reports whether requests may be lower than limits:
// true for native resources except huge pages.
func isOvercommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePageResource(name)
}

func isStandardResourceName(name corev1.ResourceName) bool {
	s := string(name)
	return standardResourceNames[s] || isHugePageResource(name) ||
		strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix+corev1.ResourceHugePagesPrefix)
}

// resourceNameFunc validates a resource name in some context.
type resourceNameFunc func(name corev1.ResourceName, fldPath *field.Path) field.ErrorList

func validateResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(fldPath, name, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(string(name), "/") && !isStandardResourceName(name) {
		errs = append(errs, field.Invalid(fldPath, name, "must be a standard resource type or fully qualified"))
	}
	return errs
}

// containerResourceName validates a resource name used by a container:
// cpu, memory, ephemeral-storage, huge pages or an extended resource.
func containerResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	errs := validateResourceName(name, fldPath)
	switch {
	case !strings.Contains(string(name), "/"):
		if name != corev1.ResourceCPU && name != corev1.ResourceMemory && name != corev1.ResourceEphemeralStorage && !isHugePageResource(name) {
			errs = append(errs, field.Invalid(fldPath, name, "must be a standard resource for containers"))
		}
	case !isNativeResource(name) && !isExtendedResource(name):
		errs = append(errs, field.Invalid(fldPath, name, "doesn't follow extended resource name standard"))
	}
	return errs
}

var podLevelResourceNames = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// podResourceName validates a resource name used in spec.resources.
func podResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	errs := validateResourceName(name, fldPath)
	if len(errs) == 0 && !isPodLevelResource(name) {
		errs = append(errs, field.NotSupported(fldPath, name, append(podLevelResourceNames, "hugepages-*")))
	}
	return errs
}

// validateResourceQuantity requires a non-negative quantity, and a whole
// number for resources counted in units (extended resources).
func validateResourceQuantity(name corev1.ResourceName, q resource.Quantity, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(fldPath, q.String(), apivalidation.IsNegativeErrorMsg))
	}
	if isExtendedResource(name) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(fldPath, q.String(), "must be an integer"))
	}
	return errs
}

// validateHugePageValue requires a huge page quantity to be a whole
// number of pages.
func validateHugePageValue(name corev1.ResourceName, q resource.Quantity, fldPath *field.Path) field.ErrorList {
	size, err := resource.ParseQuantity(strings.TrimPrefix(string(name), corev1.ResourceHugePagesPrefix))
	if err != nil || size.Sign() <= 0 {
		return nil
	}
	if q.Value()%size.Value() != 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), fmt.Sprintf("%s is not positive integer multiple of %s", q.String(), name))}
	}
	return nil
}

// validateResourceRequirements checks limits and requests: valid names and
// quantities, requests not above limits, and equal requests and limits for
// resources that cannot be overcommitted.
func validateResourceRequirements(r *corev1.ResourceRequirements, claimNames map[string]bool, nameFn resourceNameFunc, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := fldPath.Child("limits"), fldPath.Child("requests")
	hasCPUOrMemory, hasHugePages := false, false
	for _, name := range sortedResourceNames(r.Limits) {
		q := r.Limits[name]
		path := limPath.Key(string(name))
		errs = append(errs, nameFn(name, path)...)
		errs = append(errs, validateResourceQuantity(name, q, path)...)
		if isHugePageResource(name) {
			hasHugePages = true
			errs = append(errs, validateHugePageValue(name, q, path)...)
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			hasCPUOrMemory = true
		}
	}
	for _, name := range sortedResourceNames(r.Requests) {
		q := r.Requests[name]
		path := reqPath.Key(string(name))
		errs = append(errs, nameFn(name, path)...)
		errs = append(errs, validateResourceQuantity(name, q, path)...)
		if limit, ok := r.Limits[name]; ok {
			if q.Cmp(limit) != 0 && !isOvercommitAllowed(name) {
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
			} else if q.Cmp(limit) > 0 {
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
			}
		} else if !isOvercommitAllowed(name) {
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
		if isHugePageResource(name) {
			hasHugePages = true
			errs = append(errs, validateHugePageValue(name, q, path)...)
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			hasCPUOrMemory = true
		}
	}
	if hasHugePages && !hasCPUOrMemory {
		errs = append(errs, field.Forbidden(fldPath, "HugePages require cpu or memory"))
	}
	errs = append(errs, validateResourceClaimRefs(r.Claims, claimNames, fldPath.Child("claims"))...)
	return errs
}

// validateResourceClaimRefs checks that container claims name entries of
// spec.resourceClaims, each at most once.
func validateResourceClaimRefs(claims []corev1.ResourceClaim, claimNames map[string]bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range claims {
		if c.Name == "" {
			errs = append(errs, field.Required(fldPath.Index(i), ""))
			continue
		}
		key := c.Name
		if c.Request != "" {
			errs = append(errs, validateDNSLabel(c.Request, fldPath.Index(i).Child("request"))...)
			key += "/" + c.Request
		}
		if seen[c.Name] || seen[key] {
			errs = append(errs, field.Duplicate(fldPath.Index(i), key))
		}
		seen[key] = true
		if !claimNames[c.Name] {
			e := field.NotFound(fldPath.Index(i), c.Name)
			e.Detail = "must be one of the names in pod.spec.resourceClaims"
			if len(claimNames) == 0 {
				e.Detail += " which is empty"
			} else {
				e.Detail += ": " + strings.Join(sortedKeys(claimNames), ", ")
			}
			errs = append(errs, e)
		}
	}
	return errs
}

// podClaimNames returns the names declared in spec.resourceClaims.
func podClaimNames(claims []corev1.PodResourceClaim) map[string]bool {
	names := map[string]bool{}
	for _, c := range claims {
		if c.Name != "" {
			names[c.Name] = true
		}
	}
	return names
}

func validateResourceClaims(claims []corev1.PodResourceClaim, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range claims {
		path := fldPath.Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(path.Child("name"), ""))
		case seen[c.Name]:
			errs = append(errs, field.Duplicate(path.Child("name"), c.Name))
		default:
			errs = append(errs, validateDNSLabel(c.Name, path.Child("name"))...)
			seen[c.Name] = true
		}
		switch {
		case c.ResourceClaimName != nil && c.ResourceClaimTemplateName != nil:
			errs = append(errs, field.Invalid(path, c, "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified"))
		case c.ResourceClaimName == nil && c.ResourceClaimTemplateName == nil:
			errs = append(errs, field.Invalid(path, c, "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"))
		}
		if c.ResourceClaimName != nil {
			errs = append(errs, validateDNSSubdomain(*c.ResourceClaimName, path.Child("resourceClaimName"))...)
		}
		if c.ResourceClaimTemplateName != nil {
			errs = append(errs, validateDNSSubdomain(*c.ResourceClaimTemplateName, path.Child("resourceClaimTemplateName"))...)
		}
	}
	return errs
}

// validatePodResources checks pod-level resources (spec.resources) and
// their consistency with the containers' resources.
func validatePodResources(spec *corev1.PodSpec, claimNames map[string]bool, fldPath *field.Path) field.ErrorList {
	if spec.Resources == nil {
		return nil
	}
	var errs field.ErrorList
	if spec.Resources.Claims != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("claims"), "claims cannot be set for Resources at pod-level"))
	}
	errs = append(errs, validateResourceRequirements(spec.Resources, claimNames, podResourceName, fldPath)...)
	agg := aggregateContainerRequests(spec)
	for _, name := range sortedResourceNames(agg) {
		podReq, ok := spec.Resources.Requests[name]
		if !ok {
			continue
		}
		if ctr := agg[name]; ctr.Cmp(podReq) > 0 {
			errs = append(errs, field.Invalid(fldPath.Child("requests").Key(string(name)), podReq.String(),
				fmt.Sprintf("must be greater than or equal to aggregate container requests of %s", ctr.String())))
		}
	}
	for i, c := range spec.Containers {
		for _, name := range sortedResourceNames(c.Resources.Limits) {
			podLimit, ok := spec.Resources.Limits[name]
			if ctrLimit := c.Resources.Limits[name]; ok && ctrLimit.Cmp(podLimit) > 0 {
				errs = append(errs, field.Invalid(fldPath.Child("containers").Index(i).Key(string(name)).Child("limits"), ctrLimit.String(),
					fmt.Sprintf("must be less than or equal to pod limits of %s", podLimit.String())))
			}
		}
	}
	return errs
}

// sortedResourceNames returns the names of a resource list in order, so
// errors come out deterministically.
func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for n := range list {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}
