// Package fieldpath resolves the Kubernetes downward API for the node agent:
// pod fields named by an ObjectFieldSelector and container resources named by
// a ResourceFieldSelector, formatted the way the kubelet formats them for
// environment variables and downwardAPI volume files. The package is pure: it
// reads only the objects it is given.
package fieldpath

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Runtime carries the pod facts that the pod object may not hold yet when a
// container is started: the addresses the agent has just assigned.
type Runtime struct {
	// PodIPs are the pod's addresses, primary first (status.podIP is the
	// first, status.podIPs all of them joined by commas).
	PodIPs []string
	// HostIPs are the node's addresses, primary first.
	HostIPs []string
}

// RuntimeFromStatus returns the addresses recorded in the pod's status.
func RuntimeFromStatus(pod *corev1.Pod) Runtime {
	var rt Runtime
	for _, ip := range pod.Status.PodIPs {
		rt.PodIPs = append(rt.PodIPs, ip.IP)
	}
	if len(rt.PodIPs) == 0 && pod.Status.PodIP != "" {
		rt.PodIPs = []string{pod.Status.PodIP}
	}
	for _, ip := range pod.Status.HostIPs {
		rt.HostIPs = append(rt.HostIPs, ip.IP)
	}
	if len(rt.HostIPs) == 0 && pod.Status.HostIP != "" {
		rt.HostIPs = []string{pod.Status.HostIP}
	}
	return rt
}

// FormatMap renders a label or annotation map the way the downward API does:
// one key="value" line per entry (the value quoted with Go %q rules), keys in
// sorted order, lines joined by newlines without a trailing newline.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// SplitSubscript splits a subscripted field path such as
// "metadata.labels['app']" into ("metadata.labels", "app", true). A path
// without a subscript is returned unchanged with ok false.
func SplitSubscript(fieldPath string) (path, key string, ok bool) {
	if !strings.HasSuffix(fieldPath, "']") {
		return fieldPath, "", false
	}
	base, key, found := strings.Cut(strings.TrimSuffix(fieldPath, "']"), "['")
	if !found || base == "" {
		return fieldPath, "", false
	}
	return base, key, true
}

// PodField returns the value the downward API gives sel for pod. Supported
// paths: metadata.name, metadata.namespace, metadata.uid, metadata.labels,
// metadata.annotations (whole map or one key by subscript), spec.nodeName
// (and its old alias spec.host), spec.serviceAccountName, status.hostIP,
// status.hostIPs, status.podIP and status.podIPs; the status addresses come
// from rt. Other paths and API versions other than v1 are errors worded as
// the kubelet words them.
func PodField(pod *corev1.Pod, sel *corev1.ObjectFieldSelector, rt Runtime) (string, error) {
	version := sel.APIVersion
	if version == "" {
		version = "v1"
	}
	if version != "v1" {
		return "", fmt.Errorf("unsupported pod version: %s", version)
	}
	if base, key, ok := SplitSubscript(sel.FieldPath); ok {
		return subscriptedField(pod, sel.FieldPath, base, key)
	}
	switch sel.FieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return FormatMap(pod.Labels), nil
	case "metadata.annotations":
		return FormatMap(pod.Annotations), nil
	case "spec.nodeName", "spec.host":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		if len(rt.HostIPs) == 0 {
			return "", fmt.Errorf("cannot resolve %s: the node's address is not known", sel.FieldPath)
		}
		return rt.HostIPs[0], nil
	case "status.hostIPs":
		if len(rt.HostIPs) == 0 {
			return "", fmt.Errorf("cannot resolve %s: the node's address is not known", sel.FieldPath)
		}
		return strings.Join(rt.HostIPs, ","), nil
	case "status.podIP":
		if len(rt.PodIPs) == 0 {
			return "", nil
		}
		return rt.PodIPs[0], nil
	case "status.podIPs":
		return strings.Join(rt.PodIPs, ","), nil
	case "spec.restartPolicy", "spec.schedulerName", "status.phase", "spec.terminationGracePeriodSeconds":
		// The API accepts these labels but the kubelet cannot extract them.
		return "", fmt.Errorf("unsupported fieldPath: %s", sel.FieldPath)
	}
	return "", fmt.Errorf("field label not supported: %s", sel.FieldPath)
}

// subscriptedField resolves metadata.labels['k'] and metadata.annotations['k'].
func subscriptedField(pod *corev1.Pod, fieldPath, base, key string) (string, error) {
	switch base {
	case "metadata.annotations":
		if errs := validation.IsQualifiedName(strings.ToLower(key)); len(errs) != 0 {
			return "", fmt.Errorf("invalid key subscript in %s: %s", fieldPath, strings.Join(errs, ";"))
		}
		return pod.Annotations[key], nil
	case "metadata.labels":
		if errs := validation.IsQualifiedName(key); len(errs) != 0 {
			return "", fmt.Errorf("invalid key subscript in %s: %s", fieldPath, strings.Join(errs, ";"))
		}
		return pod.Labels[key], nil
	}
	return "", fmt.Errorf("field label does not support subscript: %s", fieldPath)
}
