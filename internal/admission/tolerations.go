package admission

import (
	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
)

// DefaultTolerationSeconds is how long pods tolerate a not-ready or
// unreachable node before they are evicted, unless they say otherwise.
const DefaultTolerationSeconds int64 = 300

// DefaultTolerations adds the not-ready and unreachable NoExecute
// tolerations Kubernetes gives every pod, so that a node outage evicts its
// pods after five minutes rather than at once.
type DefaultTolerations struct{}

// Admit implements apiserver.Admission.
func (DefaultTolerations) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Resource.Group != "" || a.Resource.Resource != "pods" || a.Subresource != "" {
		return nil
	}
	if pod, ok := a.Object.(*corev1.Pod); ok {
		pod.Spec.Tolerations = withDefaultTolerations(pod.Spec.Tolerations)
	}
	return nil
}

// withDefaultTolerations adds the two defaults unless the pod already
// tolerates those taints' NoExecute effect.
func withDefaultTolerations(in []corev1.Toleration) []corev1.Toleration {
	out := in
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		covered := false
		for _, t := range in {
			if (t.Key == key || (t.Key == "" && t.Operator == corev1.TolerationOpExists)) &&
				(t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
				covered = true
				break
			}
		}
		if !covered {
			secs := DefaultTolerationSeconds
			out = append(out, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs})
		}
	}
	return out
}

// Done implements apiserver.Admission.
func (DefaultTolerations) Done(*apiserver.Attributes, bool) {}
