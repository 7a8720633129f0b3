// Package podspec holds the defaulting and validation of pod specs and pod
// templates, shared by pods and by every workload resource that embeds a
// pod template (ReplicaSets, Deployments, Jobs, ...), and the pod-level
// rules (create, update and status validation, QoS class) built on them.
//
// Defaulting and validation follow Kubernetes' documented behaviour: the
// same defaults, the same field paths and the same messages.
package podspec

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DefaultPodSpec sets unset fields of spec to Kubernetes' defaults
// (restartPolicy Always, dnsPolicy ClusterFirst, container pull policies,
// probe thresholds, volume modes, ...). It applies only the defaults shared
// by pods and templates; use DefaultPod for Pod objects. It is idempotent
// and accepts nil.
func DefaultPodSpec(spec *corev1.PodSpec) {
	if spec == nil {
		return
	}
	defaultSpecFields(spec)
}

// DefaultPodTemplateSpec defaults a pod template's spec.
func DefaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	if t != nil {
		DefaultPodSpec(&t.Spec)
	}
}

// ValidatePodSpec returns the problems of spec as embedded in a pod
// template; fldPath is the path of the spec itself (e.g. "spec" or
// "spec.template.spec"). Pods use ValidatePod, which adds the checks that
// only apply to Pod objects.
func ValidatePodSpec(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	if spec == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return validateSpec(spec, fldPath, specOptions{})
}

// ValidatePodTemplateSpec validates a template's labels, annotations and
// spec; fldPath is the path of the template ("spec.template"). Workload
// specific rules (e.g. a Deployment's restartPolicy Always) are left to the
// caller.
func ValidatePodTemplateSpec(t *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	if t == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return validateTemplate(t, fldPath)
}
