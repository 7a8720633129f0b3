package endpoints

import (
	"net"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// The helpers in this file are shared with the EndpointSlice controller:
// both publish the same pods for a Service, by the same rules.

// PodIncluded reports whether a pod's addresses belong in a Service's
// endpoints: it must have an IP and not have finished (Succeeded or
// Failed). A terminating pod (deletionTimestamp set) is included only when
// includeTerminating is true.
func PodIncluded(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	if pod.DeletionTimestamp != nil && !includeTerminating {
		return false
	}
	return true
}

// PodReady reports whether the pod's Ready condition is True.
func PodReady(pod *corev1.Pod) bool {
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// PodIPs returns the pod's IPs, status.podIPs first, else status.podIP.
func PodIPs(pod *corev1.Pod) []string {
	if len(pod.Status.PodIPs) > 0 {
		out := make([]string, 0, len(pod.Status.PodIPs))
		for _, ip := range pod.Status.PodIPs {
			out = append(out, ip.IP)
		}
		return out
	}
	if pod.Status.PodIP != "" {
		return []string{pod.Status.PodIP}
	}
	return nil
}

// IsIPv6 reports whether s is an IPv6 address (false for IPv4 and junk).
func IsIPv6(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() == nil
}

// NormalizeIP returns the canonical form of an IP address, or s unchanged
// if it does not parse.
func NormalizeIP(s string) string {
	if ip := net.ParseIP(s); ip != nil {
		return ip.String()
	}
	return s
}

// ServiceIPSet reports whether the Service has a cluster IP (it is not
// headless).
func ServiceIPSet(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

// HostnameFor returns the hostname to publish for a pod in a Service's
// endpoints: the pod's spec.hostname when its spec.subdomain names the
// Service (in the same namespace), else "".
func HostnameFor(pod *corev1.Pod, svc *corev1.Service) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// ResolvePort returns the container port a Service port's targetPort
// designates on a pod: a number as is, a name looked up among the pod's
// container ports (and those of sidecar init containers) with the same
// protocol. ok is false when a named port is not found.
func ResolvePort(pod *corev1.Pod, sp *corev1.ServicePort) (port int32, ok bool) {
	tp := sp.TargetPort
	switch {
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return tp.IntVal, true
	case tp.Type == intstr.Int || (tp.Type == intstr.String && tp.StrVal == ""):
		// Unset targetPort defaults to the port itself.
		return sp.Port, true
	}
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	match := func(cs []corev1.Container, sidecarsOnly bool) (int32, bool) {
		for _, c := range cs {
			if sidecarsOnly && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
				continue
			}
			for _, p := range c.Ports {
				pp := p.Protocol
				if pp == "" {
					pp = corev1.ProtocolTCP
				}
				if p.Name == tp.StrVal && pp == proto {
					return p.ContainerPort, true
				}
			}
		}
		return 0, false
	}
	if p, ok := match(pod.Spec.Containers, false); ok {
		return p, true
	}
	return match(pod.Spec.InitContainers, true)
}

// ServicesForPod returns the keys ("namespace/name") of the Services in
// the pod's namespace whose selector matches the pod's labels.
func ServicesForPod(services corelisters.ServiceLister, pod *corev1.Pod) []string {
	if pod == nil {
		return nil
	}
	list, err := services.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var keys []string
	set := labels.Set(pod.Labels)
	for _, svc := range list {
		if svc.Spec.Selector == nil {
			continue
		}
		if labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(set) {
			keys = append(keys, svc.Namespace+"/"+svc.Name)
		}
	}
	return keys
}

// PodFromObject unwraps an informer object (or tombstone) into a pod.
func PodFromObject(obj interface{}) (*corev1.Pod, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	return pod, ok
}

// PodEndpointChanged reports whether a pod update can change any
// Service's endpoints: its labels, IPs, readiness, phase, deletion, node,
// hostname or ports.
func PodEndpointChanged(old, cur *corev1.Pod) bool {
	if old == nil || cur == nil {
		return true
	}
	if !reflect.DeepEqual(old.Labels, cur.Labels) ||
		!reflect.DeepEqual(PodIPs(old), PodIPs(cur)) ||
		PodReady(old) != PodReady(cur) ||
		old.Status.Phase != cur.Status.Phase ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		old.Spec.NodeName != cur.Spec.NodeName ||
		old.Spec.Hostname != cur.Spec.Hostname || old.Spec.Subdomain != cur.Spec.Subdomain {
		return true
	}
	if readyTime(old) != readyTime(cur) {
		return true
	}
	return !reflect.DeepEqual(containerPorts(old), containerPorts(cur))
}

func readyTime(pod *corev1.Pod) string {
	if c := readyCondition(pod); c != nil {
		return c.LastTransitionTime.String()
	}
	return ""
}

func containerPorts(pod *corev1.Pod) [][]corev1.ContainerPort {
	var out [][]corev1.ContainerPort
	for _, c := range pod.Spec.Containers {
		out = append(out, c.Ports)
	}
	for _, c := range pod.Spec.InitContainers {
		out = append(out, c.Ports)
	}
	return out
}
