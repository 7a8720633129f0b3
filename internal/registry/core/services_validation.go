package core

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// svcKubeletPort may not be exposed through a load balancer.
const svcKubeletPort = 10250

// svcMaxAffinityTimeout is the longest ClientIP affinity timeout (one day).
const svcMaxAffinityTimeout = 86400

func svcTypes() []string {
	return []string{
		string(corev1.ServiceTypeClusterIP), string(corev1.ServiceTypeExternalName),
		string(corev1.ServiceTypeLoadBalancer), string(corev1.ServiceTypeNodePort),
	}
}

func svcProtocols() []string {
	return []string{string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP)}
}

func svcAffinities() []string {
	return []string{string(corev1.ServiceAffinityClientIP), string(corev1.ServiceAffinityNone)}
}

func svcTrafficPolicy() []string { return []string{"Cluster", "Local"} }

func svcFamilies() []string {
	return []string{string(corev1.IPv4Protocol), string(corev1.IPv6Protocol)}
}

func svcFamilyPolicies() []string {
	return []string{
		string(corev1.IPFamilyPolicyPreferDualStack), string(corev1.IPFamilyPolicyRequireDualStack),
		string(corev1.IPFamilyPolicySingleStack),
	}
}

func svcTrafficDistributions() []string {
	return []string{
		corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameNode,
		corev1.ServiceTrafficDistributionPreferSameZone,
	}
}

func svcIPModes() []string {
	return []string{string(corev1.LoadBalancerIPModeProxy), string(corev1.LoadBalancerIPModeVIP)}
}

func svcOneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// svcValidate checks a service as Kubernetes' ValidateService does.
func svcValidate(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	meta := field.NewPath("metadata")
	hints, hintsSet := svc.Annotations[corev1.DeprecatedAnnotationTopologyAwareHints]
	mode, modeSet := svc.Annotations[corev1.AnnotationTopologyMode]
	if hintsSet && modeSet && hints != mode {
		errs = append(errs, field.Invalid(meta.Child("annotations").Key(corev1.AnnotationTopologyMode), mode,
			fmt.Sprintf("must match annotations[%s] when both are specified", corev1.DeprecatedAnnotationTopologyAwareHints)))
	}

	spec := field.NewPath("spec")
	ports := spec.Child("ports")
	headless := svcIsHeadless(svc)
	if len(svc.Spec.Ports) == 0 && !headless && svc.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(ports, ""))
	}
	errs = append(errs, svcValidateByType(svc, spec)...)

	names := map[string]bool{}
	for i := range svc.Spec.Ports {
		errs = append(errs, svcValidatePort(&svc.Spec.Ports[i], len(svc.Spec.Ports) > 1, names, ports.Index(i))...)
	}
	if svc.Spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabels(svc.Spec.Selector, spec.Child("selector"))...)
	}
	errs = append(errs, svcValidateAffinity(svc, spec)...)
	errs = append(errs, svcValidateClusterIPs(svc)...)
	for i, ip := range svc.Spec.ExternalIPs {
		p := spec.Child("externalIPs").Index(i)
		if e := validation.IsValidIP(p, ip); len(e) > 0 {
			errs = append(errs, e...)
		} else {
			errs = append(errs, commonNonSpecialIP(ip, p)...)
		}
	}
	if svc.Spec.Type == "" {
		errs = append(errs, field.Required(spec.Child("type"), ""))
	} else if !svcOneOf(string(svc.Spec.Type), svcTypes()) {
		errs = append(errs, field.NotSupported(spec.Child("type"), svc.Spec.Type, svcTypes()))
	}
	if svc.Spec.Type == corev1.ServiceTypeClusterIP {
		for i := range svc.Spec.Ports {
			if svc.Spec.Ports[i].NodePort != 0 {
				errs = append(errs, field.Forbidden(ports.Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}
	errs = append(errs, svcValidateDuplicatePorts(svc, ports)...)
	errs = append(errs, svcValidateSourceRanges(svc, spec)...)
	if svc.Spec.AllocateLoadBalancerNodePorts != nil && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(spec.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.AllocateLoadBalancerNodePorts == nil {
		// Kubernetes reports this one without the "spec." prefix.
		errs = append(errs, field.Required(field.NewPath("allocateLoadBalancerNodePorts"), ""))
	}
	errs = append(errs, svcValidateLoadBalancerClass(nil, svc)...)
	errs = append(errs, svcValidateTrafficPolicies(svc, spec)...)
	return errs
}

// svcValidateByType checks the rules specific to one service type.
func svcValidateByType(svc *corev1.Service, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		for i, p := range svc.Spec.Ports {
			if p.Port == svcKubeletPort {
				errs = append(errs, field.Invalid(spec.Child("ports").Index(i), p.Port,
					fmt.Sprintf("may not expose port %v externally since it is used by kubelet", svcKubeletPort)))
			}
		}
		if svcIsHeadless(svc) {
			errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), svc.Spec.ClusterIPs[0], "may not be set to 'None' for LoadBalancer services"))
		}
	case corev1.ServiceTypeNodePort:
		if svcIsHeadless(svc) {
			errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), svc.Spec.ClusterIPs[0], "may not be set to 'None' for NodePort services"))
		}
	case corev1.ServiceTypeExternalName:
		if len(svc.Spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(spec.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(svc.Spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(spec.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if svc.Spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(spec.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		// A trailing dot marks the name as fully qualified.
		if cname := strings.TrimSuffix(svc.Spec.ExternalName, "."); cname != "" {
			errs = append(errs, commonDNS1123Subdomain(cname, spec.Child("externalName"))...)
		} else {
			errs = append(errs, field.Required(spec.Child("externalName"), ""))
		}
	}
	return errs
}

// svcValidatePort checks one port; names records the port names seen.
func svcValidatePort(sp *corev1.ServicePort, requireName bool, names map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && sp.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else if sp.Name != "" {
		errs = append(errs, commonDNS1123Label(sp.Name, p.Child("name"))...)
		if names[sp.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), sp.Name))
		}
		names[sp.Name] = true
	}
	errs = append(errs, commonMessages(p.Child("port"), sp.Port, validation.IsValidPortNum(int(sp.Port)))...)
	if sp.Protocol == "" {
		errs = append(errs, field.Required(p.Child("protocol"), ""))
	} else if !svcOneOf(string(sp.Protocol), svcProtocols()) {
		errs = append(errs, field.NotSupported(p.Child("protocol"), sp.Protocol, svcProtocols()))
	}
	errs = append(errs, svcValidatePortNumOrName(sp.TargetPort, p.Child("targetPort"))...)
	if sp.AppProtocol != nil {
		errs = append(errs, commonQualifiedName(*sp.AppProtocol, p.Child("appProtocol"))...)
	}
	return errs
}

// svcValidatePortNumOrName checks a target port given as number or name.
func svcValidatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	if port.Type == intstr.String {
		return commonMessages(p, port.StrVal, validation.IsValidPortName(port.StrVal))
	}
	return commonMessages(p, port.IntValue(), validation.IsValidPortNum(port.IntValue()))
}

func svcValidateAffinity(svc *corev1.Service, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	aff := svc.Spec.SessionAffinity
	cfgPath := spec.Child("sessionAffinityConfig")
	switch {
	case aff == "":
		errs = append(errs, field.Required(spec.Child("sessionAffinity"), ""))
	case !svcOneOf(string(aff), svcAffinities()):
		errs = append(errs, field.NotSupported(spec.Child("sessionAffinity"), aff, svcAffinities()))
	case aff == corev1.ServiceAffinityClientIP:
		cfg := svc.Spec.SessionAffinityConfig
		msg := fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP)
		switch {
		case cfg == nil:
			errs = append(errs, field.Required(cfgPath, msg))
		case cfg.ClientIP == nil:
			errs = append(errs, field.Required(cfgPath.Child("clientIP"), msg))
		case cfg.ClientIP.TimeoutSeconds == nil:
			errs = append(errs, field.Required(cfgPath.Child("clientIP").Child("timeoutSeconds"), msg))
		default:
			t := *cfg.ClientIP.TimeoutSeconds
			if t <= 0 || t > svcMaxAffinityTimeout {
				errs = append(errs, field.Invalid(cfgPath.Child("clientIP").Child("timeoutSeconds"), t,
					validation.InclusiveRangeError(1, svcMaxAffinityTimeout)))
			}
		}
	case aff == corev1.ServiceAffinityNone && svc.Spec.SessionAffinityConfig != nil:
		errs = append(errs, field.Forbidden(cfgPath, fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone)))
	}
	return errs
}

// svcValidateClusterIPs checks clusterIP, clusterIPs, ipFamilies and
// ipFamilyPolicy on their own. An empty clusterIP is accepted: the store
// allocates it.
func svcValidateClusterIPs(svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	var errs field.ErrorList
	spec := field.NewPath("spec")
	ipsPath := spec.Child("clusterIPs")
	ips := svc.Spec.ClusterIPs
	if svc.Spec.ClusterIP != "" {
		if len(ips) == 0 {
			errs = append(errs, field.Required(ipsPath, ""))
		} else if ips[0] != svc.Spec.ClusterIP {
			errs = append(errs, field.Invalid(ipsPath, ips, "first value must match `clusterIP`"))
		}
	} else if len(ips) != 0 {
		errs = append(errs, field.Invalid(ipsPath, ips, "must be empty when `clusterIP` is not specified"))
	}

	seen := map[corev1.IPFamily]bool{}
	for i, f := range svc.Spec.IPFamilies {
		if !svcOneOf(string(f), svcFamilies()) {
			errs = append(errs, field.NotSupported(spec.Child("ipFamilies").Index(i), f, svcFamilies()))
		}
		if seen[f] {
			errs = append(errs, field.Duplicate(spec.Child("ipFamilies").Index(i), f))
		}
		seen[f] = true
	}
	if p := svc.Spec.IPFamilyPolicy; p != nil && !svcOneOf(string(*p), svcFamilyPolicies()) {
		errs = append(errs, field.NotSupported(spec.Child("ipFamilyPolicy"), p, svcFamilyPolicies()))
	}

	invalid := false
	for i, ip := range ips {
		if i == 0 && ip == corev1.ClusterIPNone {
			if len(ips) > 1 {
				invalid = true
				errs = append(errs, field.Invalid(ipsPath, ips, "'None' must be the first and only value"))
			}
			continue
		}
		if e := validation.IsValidIP(ipsPath.Index(i), ip); len(e) > 0 {
			invalid = true
			errs = append(errs, e...)
		}
	}
	if len(ips) > 2 {
		errs = append(errs, field.Invalid(ipsPath, ips, "may only hold up to 2 values"))
	}
	if invalid {
		return errs
	}
	if len(ips) > 1 && svcFamilyOf(ips[0]) == svcFamilyOf(ips[1]) {
		errs = append(errs, field.Invalid(ipsPath, ips, "may specify no more than one IP for each IP family"))
	}
	if !svcIsHeadless(svc) {
		for i, ip := range ips {
			if i >= len(svc.Spec.IPFamilies) {
				break
			}
			want := svc.Spec.IPFamilies[i]
			if want == corev1.IPv4Protocol && svcFamilyOf(ip) == corev1.IPv6Protocol {
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv4 value as indicated by `ipFamilies[%v]`", i)))
			}
			if want == corev1.IPv6Protocol && svcFamilyOf(ip) != corev1.IPv6Protocol {
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv6 value as indicated by `ipFamilies[%v]`", i)))
			}
		}
	}
	return errs
}

// svcValidateDuplicatePorts rejects repeated (protocol, port) and
// (protocol, nodePort) pairs.
func svcValidateDuplicatePorts(svc *corev1.Service, ports *field.Path) field.ErrorList {
	var errs field.ErrorList
	nodePorts := map[corev1.ServicePort]bool{}
	for i, p := range svc.Spec.Ports {
		if p.NodePort == 0 {
			continue
		}
		key := corev1.ServicePort{Protocol: p.Protocol, NodePort: p.NodePort}
		if nodePorts[key] {
			errs = append(errs, field.Duplicate(ports.Index(i).Child("nodePort"), p.NodePort))
		}
		nodePorts[key] = true
	}
	seen := map[corev1.ServicePort]bool{}
	for i, p := range svc.Spec.Ports {
		key := corev1.ServicePort{Protocol: p.Protocol, Port: p.Port}
		if seen[key] {
			errs = append(errs, field.Duplicate(ports.Index(i), key))
		}
		seen[key] = true
	}
	return errs
}

func svcValidateSourceRanges(svc *corev1.Service, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	notLB := svc.Spec.Type != corev1.ServiceTypeLoadBalancer
	if len(svc.Spec.LoadBalancerSourceRanges) > 0 {
		// Kubernetes spells this path with a capital L.
		p := spec.Child("LoadBalancerSourceRanges")
		if notLB {
			errs = append(errs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
		}
		for i, v := range svc.Spec.LoadBalancerSourceRanges {
			errs = append(errs, validation.IsValidCIDR(p.Index(i), strings.TrimSpace(v))...)
		}
		return errs
	}
	val, ok := svc.Annotations[corev1.AnnotationLoadBalancerSourceRangesKey]
	if !ok {
		return nil
	}
	p := field.NewPath("metadata", "annotations").Key(corev1.AnnotationLoadBalancerSourceRangesKey)
	if notLB {
		errs = append(errs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
	}
	if val = strings.TrimSpace(val); val != "" {
		for _, v := range strings.Split(val, ",") {
			errs = append(errs, validation.IsValidCIDR(p, strings.TrimSpace(v))...)
		}
	}
	return errs
}

// svcValidateLoadBalancerClass checks the class format and, on update
// (old != nil), that it does not change.
func svcValidateLoadBalancerClass(old, svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "loadBalancerClass")
	isLB := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	if old != nil {
		if old.Spec.Type == corev1.ServiceTypeLoadBalancer && isLB && !svcSameStringPtr(old.Spec.LoadBalancerClass, svc.Spec.LoadBalancerClass) {
			errs = append(errs, field.Invalid(p, svc.Spec.LoadBalancerClass, "may not change once set"))
		}
		return errs
	}
	if svc.Spec.LoadBalancerClass == nil {
		return nil
	}
	if isLB {
		return commonQualifiedName(*svc.Spec.LoadBalancerClass, p)
	}
	return field.ErrorList{field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'")}
}

func svcValidateTrafficPolicies(svc *corev1.Service, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	etp := svc.Spec.ExternalTrafficPolicy
	if !svcExternallyAccessible(svc) {
		if etp != "" {
			errs = append(errs, field.Invalid(spec.Child("externalTrafficPolicy"), etp, "may only be set for externally-accessible services"))
		}
	} else if etp == "" {
		errs = append(errs, field.Required(spec.Child("externalTrafficPolicy"), ""))
	} else if !svcOneOf(string(etp), svcTrafficPolicy()) {
		errs = append(errs, field.NotSupported(spec.Child("externalTrafficPolicy"), etp, svcTrafficPolicy()))
	}

	hc := svc.Spec.HealthCheckNodePort
	if !svcNeedsHealthCheck(svc) {
		if hc != 0 {
			errs = append(errs, field.Invalid(spec.Child("healthCheckNodePort"), hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		}
	} else if hc != 0 {
		// Zero means "to be allocated by the store".
		errs = append(errs, commonMessages(spec.Child("healthCheckNodePort"), hc, validation.IsValidPortNum(int(hc)))...)
	}

	itp := svc.Spec.InternalTrafficPolicy
	if itp == nil {
		if svcUsesNodePorts(svc) || svc.Spec.Type == corev1.ServiceTypeClusterIP {
			errs = append(errs, field.Required(spec.Child("internalTrafficPolicy"), ""))
		}
	} else if !svcOneOf(string(*itp), svcTrafficPolicy()) {
		errs = append(errs, field.NotSupported(spec.Child("internalTrafficPolicy"), *itp, svcTrafficPolicy()))
	}

	if td := svc.Spec.TrafficDistribution; td != nil && !svcOneOf(*td, svcTrafficDistributions()) {
		errs = append(errs, field.NotSupported(spec.Child("trafficDistribution"), *td, svcTrafficDistributions()))
	}
	return errs
}

// svcValidateClusterIPsUpdate forbids changing allocated cluster IPs, except
// when switching to or from ExternalName or between headless variants.
func svcValidateClusterIPsUpdate(old, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || old.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if svcIsHeadless(old) && svcIsHeadless(svc) {
		return nil
	}
	var errs field.ErrorList
	p := field.NewPath("spec", "clusterIPs")
	oldIPs, ips := old.Spec.ClusterIPs, svc.Spec.ClusterIPs
	switch {
	case len(oldIPs) == len(ips):
		for i := range oldIPs {
			if oldIPs[i] != ips[i] {
				errs = append(errs, field.Invalid(p.Index(i), ips, "may not change once set"))
			}
		}
	case len(oldIPs) > len(ips):
		if len(ips) == 0 {
			errs = append(errs, field.Invalid(p.Index(0), ips, "primary clusterIP can not be unset"))
		}
		if len(oldIPs) > 0 && len(ips) > 0 && ips[0] != oldIPs[0] {
			errs = append(errs, field.Invalid(p.Index(0), ips, "may not change once set"))
		}
		if len(ips) == 1 && svcPolicyString(svc.Spec.IPFamilyPolicy) != string(corev1.IPFamilyPolicySingleStack) {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy, "must be set to 'SingleStack' when releasing the secondary clusterIP"))
		}
	default:
		if len(oldIPs) > 0 && ips[0] != oldIPs[0] {
			errs = append(errs, field.Invalid(p.Index(0), ips, "may not change once set"))
		}
	}
	return errs
}

// svcValidateIPFamiliesUpdate forbids changing the IP families of a
// service with cluster IPs.
func svcValidateIPFamiliesUpdate(old, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || old.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if svcIsHeadless(old) || svcIsHeadless(svc) {
		return nil
	}
	var errs field.ErrorList
	p := field.NewPath("spec", "ipFamilies")
	oldF, f := old.Spec.IPFamilies, svc.Spec.IPFamilies
	switch {
	case len(oldF) == len(f):
		for i := range oldF {
			if oldF[i] != f[i] {
				errs = append(errs, field.Invalid(p.Index(0), f, "may not change once set"))
			}
		}
	case len(oldF) > len(f):
		if len(svc.Spec.ClusterIPs) == 0 {
			errs = append(errs, field.Invalid(p.Index(0), f, "primary ipFamily can not be unset"))
		}
		if len(f) > 0 && f[0] != oldF[0] {
			errs = append(errs, field.Invalid(p.Index(0), svc.Spec.ClusterIPs, "may not change once set"))
		}
		if len(f) == 1 && svcPolicyString(svc.Spec.IPFamilyPolicy) != string(corev1.IPFamilyPolicySingleStack) {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy, "must be set to 'SingleStack' when releasing the secondary ipFamily"))
		}
	default:
		if len(oldF) > 0 && len(f) > 0 && f[0] != oldF[0] {
			errs = append(errs, field.Invalid(p.Index(0), svc.Spec.ClusterIPs, "may not change once set"))
		}
	}
	return errs
}

// svcValidateLBStatus checks status.loadBalancer.
func svcValidateLBStatus(st *corev1.LoadBalancerStatus, p *field.Path, spec *corev1.ServiceSpec) field.ErrorList {
	ingPath := p.Child("ingress")
	if spec.Type != corev1.ServiceTypeLoadBalancer && len(st.Ingress) != 0 {
		return field.ErrorList{field.Forbidden(ingPath, "may only be used when `spec.type` is 'LoadBalancer'")}
	}
	var errs field.ErrorList
	for i, ing := range st.Ingress {
		ip := ingPath.Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIP(ip.Child("ip"), ing.IP)...)
		}
		switch {
		case ing.IPMode == nil && ing.IP != "":
			errs = append(errs, field.Required(ip.Child("ipMode"), "must be specified when `ip` is set"))
		case ing.IPMode != nil && ing.IP == "":
			errs = append(errs, field.Forbidden(ip.Child("ipMode"), "may not be specified when `ip` is not set"))
		case ing.IPMode != nil && !svcOneOf(string(*ing.IPMode), svcIPModes()):
			errs = append(errs, field.NotSupported(ip.Child("ipMode"), ing.IPMode, svcIPModes()))
		}
		if ing.Hostname != "" {
			errs = append(errs, commonDNS1123Subdomain(ing.Hostname, ip.Child("hostname"))...)
			if net.ParseIP(ing.Hostname) != nil {
				errs = append(errs, field.Invalid(ip.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}
