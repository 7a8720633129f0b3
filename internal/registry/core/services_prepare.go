package core

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The service fields that are allocated or derived from one another
// (clusterIP/clusterIPs, node ports, IP families) and how they carry over
// from one version of a service to the next.

// svcNormalizeClusterIPs keeps clusterIP and clusterIPs consistent for
// clients that only know the singular field. old is nil on create.
func svcNormalizeClusterIPs(svc, old *corev1.Service) {
	if old == nil {
		if svc.Spec.ClusterIP != "" && len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
		return
	}
	// An old client patching another field sends clusterIP but not clusterIPs.
	if len(old.Spec.ClusterIPs) > 0 && len(svc.Spec.ClusterIPs) == 0 && old.Spec.ClusterIP == svc.Spec.ClusterIP {
		svc.Spec.ClusterIPs = old.Spec.ClusterIPs
	}
	if old.Spec.ClusterIP != svc.Spec.ClusterIP && svcSameClusterIPs(old, svc) {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIPs = nil
		} else {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
	}
}

func svcSameClusterIPs(a, b *corev1.Service) bool {
	return svcSameStrings(a.Spec.ClusterIPs, b.Spec.ClusterIPs)
}

func svcSameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// svcPatchAllocated copies values allocated for old into svc when the client
// left them out, so that re-applying the original manifest works.
func svcPatchAllocated(svc, old *corev1.Service) {
	if svc.Spec.Type != corev1.ServiceTypeExternalName && old.Spec.Type != corev1.ServiceTypeExternalName {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 && len(old.Spec.ClusterIPs) > 0 {
			svc.Spec.ClusterIPs = append([]string(nil), old.Spec.ClusterIPs...)
		}
	}
	if svcUsesNodePorts(svc) && svcUsesNodePorts(old) {
		inNew := map[int32]bool{}
		for _, p := range svc.Spec.Ports {
			inNew[p.NodePort] = true
		}
		byName := map[string]int32{}
		for _, p := range old.Spec.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			// A node port the client moved to another port stays there.
			if v := byName[p.Name]; v != 0 && !inNew[v] {
				p.NodePort = v
				inNew[v] = true
			}
		}
	}
	if svcNeedsHealthCheck(svc) && svcNeedsHealthCheck(old) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}

// svcDropTypeDependentFields clears, on a type change, the fields the new
// type does not use, unless the client also changed them (validation then
// reports the conflict).
func svcDropTypeDependentFields(svc, old *corev1.Service) {
	extName := corev1.ServiceTypeExternalName
	if old.Spec.Type != extName && svc.Spec.Type == extName {
		if old.Spec.ClusterIP == svc.Spec.ClusterIP && svcSameClusterIPs(old, svc) {
			svc.Spec.ClusterIP = ""
			svc.Spec.ClusterIPs = nil
		}
		if svcSameFamilies(old.Spec.IPFamilies, svc.Spec.IPFamilies) {
			svc.Spec.IPFamilies = nil
		}
		if svcPolicyString(old.Spec.IPFamilyPolicy) == svcPolicyString(svc.Spec.IPFamilyPolicy) {
			svc.Spec.IPFamilyPolicy = nil
		}
	}
	if svcUsesNodePorts(old) && !svcUsesNodePorts(svc) && svcNodePortsSubset(svc, old) {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}
	if svcNeedsHealthCheck(old) && !svcNeedsHealthCheck(svc) && old.Spec.HealthCheckNodePort == svc.Spec.HealthCheckNodePort {
		svc.Spec.HealthCheckNodePort = 0
	}
	if old.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		a, b := old.Spec.AllocateLoadBalancerNodePorts, svc.Spec.AllocateLoadBalancerNodePorts
		if a != nil && b != nil && *a == *b {
			svc.Spec.AllocateLoadBalancerNodePorts = nil
		}
		if svcSameStringPtr(old.Spec.LoadBalancerClass, svc.Spec.LoadBalancerClass) {
			svc.Spec.LoadBalancerClass = nil
		}
	}
	if svcUsesNodePorts(old) && !svcUsesNodePorts(svc) && old.Spec.ExternalTrafficPolicy == svc.Spec.ExternalTrafficPolicy {
		svc.Spec.ExternalTrafficPolicy = ""
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
	if svc.Spec.Type == extName {
		svc.Spec.InternalTrafficPolicy = nil
	}
}

// svcNodePortsSubset reports whether svc adds no node port old did not have.
func svcNodePortsSubset(svc, old *corev1.Service) bool {
	had := map[int32]bool{}
	for _, p := range old.Spec.Ports {
		had[p.NodePort] = true
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 && !had[p.NodePort] {
			return false
		}
	}
	return true
}

func svcSameFamilies(a, b []corev1.IPFamily) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func svcPolicyString(p *corev1.IPFamilyPolicy) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func svcSameStringPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func svcFamilyOf(ip string) corev1.IPFamily {
	if strings.Contains(ip, ":") {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

func svcOtherFamily(f corev1.IPFamily) corev1.IPFamily {
	if f == corev1.IPv4Protocol {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

// initIPFamilies defaults ipFamilyPolicy and ipFamilies as the allocator of
// a single-stack Kubernetes cluster does. old is nil on create.
func (s svcStrategy) initIPFamilies(svc, old *corev1.Service) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	headlessNoSelector := svc.Spec.ClusterIP == corev1.ClusterIPNone && len(svc.Spec.Selector) == 0
	if svc.Spec.IPFamilyPolicy == nil {
		var p corev1.IPFamilyPolicy
		switch {
		case old != nil && old.Spec.IPFamilyPolicy != nil:
			p = *old.Spec.IPFamilyPolicy
		case headlessNoSelector:
			p = corev1.IPFamilyPolicyRequireDualStack
		default:
			p = corev1.IPFamilyPolicySingleStack
		}
		svc.Spec.IPFamilyPolicy = &p
	}
	single := *svc.Spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack
	if old != nil && single {
		if svcSameClusterIPs(old, svc) && len(svc.Spec.ClusterIPs) > 1 {
			svc.Spec.ClusterIPs = svc.Spec.ClusterIPs[:1]
		}
		if svcSameFamilies(old.Spec.IPFamilies, svc.Spec.IPFamilies) && len(svc.Spec.IPFamilies) > 1 {
			svc.Spec.IPFamilies = svc.Spec.IPFamilies[:1]
		}
	}
	for i, ip := range svc.Spec.ClusterIPs {
		if ip == corev1.ClusterIPNone || net.ParseIP(ip) == nil {
			break
		}
		if i >= len(svc.Spec.IPFamilies) {
			svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, svcFamilyOf(ip))
		}
	}
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []corev1.IPFamily{s.family}
	}
	// Headless services without selectors may list both families even on a
	// single-stack cluster: their endpoints are managed by hand.
	if headlessNoSelector && !single && len(svc.Spec.IPFamilies) == 1 {
		svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, svcOtherFamily(svc.Spec.IPFamilies[0]))
	}
}

// validateFamilies reports IP family settings this single-stack cluster
// cannot honour.
func (s svcStrategy) validateFamilies(svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if p := svc.Spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicySingleStack {
		if len(svc.Spec.ClusterIPs) == 2 {
			errs = append(errs, field.Invalid(spec.Child("ipFamilyPolicy"), p, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
		}
		if len(svc.Spec.IPFamilies) == 2 {
			errs = append(errs, field.Invalid(spec.Child("ipFamilyPolicy"), p, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
		}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone && len(svc.Spec.Selector) == 0 {
		return errs
	}
	if p := svc.Spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicyRequireDualStack {
		errs = append(errs, field.Invalid(spec.Child("ipFamilyPolicy"), p, "this cluster is not configured for dual-stack services"))
	}
	var ipErrs field.ErrorList
	for i, ip := range svc.Spec.ClusterIPs {
		if ip == corev1.ClusterIPNone || net.ParseIP(ip) == nil {
			continue
		}
		if f := svcFamilyOf(ip); f != s.family {
			ipErrs = append(ipErrs, field.Invalid(spec.Child("clusterIPs").Index(i), svc.Spec.ClusterIPs, fmt.Sprintf("%s is not configured on this cluster", f)))
		}
	}
	if len(ipErrs) > 0 {
		// The families were inferred from these addresses; repeating the
		// problem for them would only add noise.
		return append(errs, ipErrs...)
	}
	for i, f := range svc.Spec.IPFamilies {
		if f != s.family && (f == corev1.IPv4Protocol || f == corev1.IPv6Protocol) {
			errs = append(errs, field.Invalid(spec.Child("ipFamilies").Index(i), f, "not configured on this cluster"))
		}
	}
	return errs
}
