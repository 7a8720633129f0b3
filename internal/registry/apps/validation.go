package apps

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// Messages Kubernetes uses for the workload checks shared below.
const (
	selectorMismatchMsg = "`selector` does not match template `labels`"
	greaterThanReplicas = "cannot be greater than status.replicas"
)

// ValidateNonnegative reports value < 0 at fldPath with Kubernetes' message
// "must be greater than or equal to 0".
func ValidateNonnegative(value int64, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateNonnegativeField(value, fldPath)
}

// ValidateImmutable reports "field is immutable" at fldPath when newVal and
// oldVal differ semantically (quantities compare by value).
func ValidateImmutable(newVal, oldVal interface{}, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateImmutableField(newVal, oldVal, fldPath)
}

// ValidatePositiveIntOrPercent accepts a non-negative integer or a percentage
// string such as "25%", reporting other values as Kubernetes does.
func ValidatePositiveIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(fldPath, v, msg))
		}
	case intstr.Int:
		errs = append(errs, ValidateNonnegative(int64(v.IntValue()), fldPath)...)
	default:
		errs = append(errs, field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%')"))
	}
	return errs
}

// percentValue returns the number in a valid percentage string and true, or
// false for integers and malformed strings.
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, err := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	if err != nil {
		return 0, false
	}
	return n, true
}

// intOrPercentValue is the number behind v, whether it is a count or a
// percentage; zero for malformed strings.
func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// IsNotMoreThan100Percent reports percentages above 100%; integers pass.
func IsNotMoreThan100Percent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	n, ok := percentValue(v)
	if !ok || n <= 100 {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, v, "must not be greater than 100%")}
}

// derefIntOrString treats an unset int-or-string as the integer zero, which
// is how Kubernetes' internal (non-pointer) types see it after conversion.
func derefIntOrString(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

// validateRequiredSelector checks a workload selector that must be present
// and non-empty; kind names the resource in the "empty selector" message.
func validateRequiredSelector(sel *metav1.LabelSelector, kind string, fldPath *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, fldPath)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fldPath, sel, fmt.Sprintf("empty selector is invalid for %s", kind)))
	}
	return errs
}

// selectorMatchesTemplate reports a template whose labels the selector does
// not select. A nil selector selects nothing, so it never matches.
func selectorMatchesTemplate(sel *metav1.LabelSelector, tmplLabels map[string]string, fldPath *field.Path) field.ErrorList {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil
	}
	if selector.Empty() || selector.Matches(labels.Set(tmplLabels)) {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, tmplLabels, selectorMismatchMsg)}
}

// validateReplicaTemplate checks a pod template run by a replica controller
// (Deployment, ReplicaSet): selector match, pod template, restartPolicy
// Always and no activeDeadlineSeconds. kind names it in the last message.
func validateReplicaTemplate(sel *metav1.LabelSelector, selPath *field.Path, t *corev1.PodTemplateSpec, kind string, fldPath *field.Path) field.ErrorList {
	if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		return field.ErrorList{field.Invalid(selPath, sel, "invalid label selector")}
	}
	errs := selectorMatchesTemplate(sel, t.Labels, fldPath.Child("metadata", "labels"))
	errs = append(errs, podspec.ValidatePodTemplateSpec(t, fldPath)...)
	errs = append(errs, validateAlwaysRestart(t, kind, fldPath.Child("spec"))...)
	return errs
}

// validateAlwaysRestart requires restartPolicy Always and forbids
// activeDeadlineSeconds, as every long-running workload does.
func validateAlwaysRestart(t *corev1.PodTemplateSpec, kind string, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(specPath.Child("restartPolicy"), t.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(specPath.Child("activeDeadlineSeconds"), fmt.Sprintf("activeDeadlineSeconds in %s is not Supported", kind)))
	}
	return errs
}

// validateCollisionCount checks status.collisionCount: non-negative and never
// decremented by an update.
func validateCollisionCount(newCount, oldCount *int32, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if newCount != nil {
		errs = append(errs, ValidateNonnegative(int64(*newCount), fldPath)...)
	}
	if oldCount != nil && (newCount == nil || *newCount < *oldCount) {
		var v int32
		if newCount != nil {
			v = *newCount
		}
		errs = append(errs, field.Invalid(fldPath, v, "cannot be decremented"))
	}
	return errs
}

// specChanged reports whether two specs differ semantically, the condition
// under which Kubernetes bumps metadata.generation.
func specChanged(newSpec, oldSpec interface{}) bool {
	return !apiequality.Semantic.DeepEqual(newSpec, oldSpec)
}
