package podsecurity

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxExistingPodsChecked bounds the work a namespace update does on the
// request path, as Kubernetes bounds it.
const maxExistingPodsChecked = 3000

// ExistingPodWarnings returns the warnings Kubernetes gives when a
// namespace's enforce level changes: a headline naming the namespace and
// level, then one line per distinct set of violated checks naming the
// lexically first such pod and how many others share it, e.g.
// `web-1 (and 2 other pods): privileged, hostPath volumes`. Pods of one
// controller are checked after one pod of every controller, so that a
// large replica set cannot hide other workloads from the bounded check.
func ExistingPodWarnings(namespace string, enforce LevelVersion, pods []*corev1.Pod) []string {
	ordered := prioritizePods(pods)
	total := len(ordered)
	if len(ordered) > maxExistingPodsChecked {
		ordered = ordered[:maxExistingPodsChecked]
	}
	type group struct {
		first string
		count int
	}
	groups := map[string]*group{}
	var reasons []string
	for _, pod := range ordered {
		vs := Evaluate(enforce, &pod.ObjectMeta, &pod.Spec)
		if len(vs) == 0 {
			continue
		}
		r := FormatReasons(vs)
		g, seen := groups[r]
		if !seen {
			g = &group{first: pod.Name}
			groups[r] = g
			reasons = append(reasons, r)
		} else if pod.Name < g.first {
			g.first = pod.Name
		}
		g.count++
	}
	var out []string
	if len(ordered) < total {
		out = append(out, fmt.Sprintf("new PodSecurity enforce level only checked against the first %d of %d existing pods", len(ordered), total))
	}
	if len(reasons) > 0 {
		out = append(out, fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", namespace, enforce.String()))
	}
	lines := make([]string, 0, len(reasons))
	for _, r := range reasons {
		g := groups[r]
		switch g.count {
		case 1:
			lines = append(lines, fmt.Sprintf("%s: %s", g.first, r))
		case 2:
			lines = append(lines, fmt.Sprintf("%s (and 1 other pod): %s", g.first, r))
		default:
			lines = append(lines, fmt.Sprintf("%s (and %d other pods): %s", g.first, g.count-1, r))
		}
	}
	sort.Strings(lines)
	return append(out, lines...)
}

// prioritizePods orders pods so that each controller's first pod and every
// uncontrolled pod come before the remaining replicas.
func prioritizePods(pods []*corev1.Pod) []*corev1.Pod {
	first := make([]*corev1.Pod, 0, len(pods))
	var replicas []*corev1.Pod
	seen := map[types.UID]bool{}
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		switch {
		case ref == nil:
			first = append(first, pod)
		case seen[ref.UID]:
			replicas = append(replicas, pod)
		default:
			seen[ref.UID] = true
			first = append(first, pod)
		}
	}
	return append(first, replicas...)
}

// Deprecated seccomp annotations; changing them on a running pod still
// changes its profile, so such updates are checked.
const (
	seccompPodAnnotation             = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/"
)

// SignificantPodUpdate reports whether a pod update can change what the
// standards check and must therefore be evaluated: a changed container
// count, image or seccomp annotation, or an added or changed ephemeral
// container. Other updates (labels, annotations, tolerations, ...) are
// always allowed so that a namespace's new enforce level never blocks
// routine changes of pods created before it.
func SignificantPodUpdate(pod, old *corev1.Pod) bool {
	if pod.Annotations[seccompPodAnnotation] != old.Annotations[seccompPodAnnotation] {
		return true
	}
	if len(pod.Spec.Containers) != len(old.Spec.Containers) || len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return true
	}
	changed := func(c, o *corev1.Container) bool {
		key := seccompContainerAnnotationPrefix + c.Name
		return c.Image != o.Image || pod.Annotations[key] != old.Annotations[key]
	}
	for i := range pod.Spec.Containers {
		if changed(&pod.Spec.Containers[i], &old.Spec.Containers[i]) {
			return true
		}
	}
	for i := range pod.Spec.InitContainers {
		if changed(&pod.Spec.InitContainers[i], &old.Spec.InitContainers[i]) {
			return true
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		c := (*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		var o *corev1.Container
		for j := range old.Spec.EphemeralContainers {
			if old.Spec.EphemeralContainers[j].Name == c.Name {
				o = (*corev1.Container)(&old.Spec.EphemeralContainers[j].EphemeralContainerCommon)
				break
			}
		}
		if o == nil || changed(c, o) {
			return true
		}
	}
	return false
}
