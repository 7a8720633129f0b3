package state

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Build derives the Service ports to program from Services and their
// EndpointSlices (IPv4 only). Headless and ExternalName Services, and
// Services without an IPv4 cluster IP, are left out.
func Build(services []*corev1.Service, slices []*discoveryv1.EndpointSlice) []ServicePort {
	bySvc := groupSlices(slices)
	var out []ServicePort
	for _, svc := range services {
		out = append(out, servicePorts(svc, bySvc[svc.Namespace+"/"+svc.Name])...)
	}
	// The names are built once, not at every comparison: at thousands of
	// Services this runs at every sync.
	keys := make([]string, len(out))
	for i := range out {
		keys[i] = out[i].String()
	}
	sort.Sort(byName{out, keys})
	return out
}

// groupSlices groups the IPv4 slices by "namespace/service", each group
// sorted by slice name so that the result does not depend on the order
// the slices were listed in.
func groupSlices(slices []*discoveryv1.EndpointSlice) map[string][]*discoveryv1.EndpointSlice {
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := s.Namespace + "/" + name
		bySvc[key] = append(bySvc[key], s)
	}
	for _, group := range bySvc {
		if len(group) > 1 {
			sort.Slice(group, func(i, j int) bool { return group[i].Name < group[j].Name })
		}
	}
	return bySvc
}

// byName sorts Service ports by String() then protocol; keys[i] is
// ports[i].String().
type byName struct {
	ports []ServicePort
	keys  []string
}

func (b byName) Len() int { return len(b.ports) }

func (b byName) Less(i, j int) bool {
	if b.keys[i] != b.keys[j] {
		return b.keys[i] < b.keys[j]
	}
	return b.ports[i].Protocol < b.ports[j].Protocol
}

func (b byName) Swap(i, j int) {
	b.ports[i], b.ports[j] = b.ports[j], b.ports[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

// clusterIPv4 is the Service's IPv4 cluster IP, or "".
func clusterIPv4(svc *corev1.Service) string {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			return a.String()
		}
	}
	return ""
}

func ipv4s(ips []string) []string {
	var out []string
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			out = append(out, a.String())
		}
	}
	return out
}

func servicePorts(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) []ServicePort {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	cip := clusterIPv4(svc)
	if cip == "" {
		return nil
	}
	var lbIPs []string
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IPMode != nil && *ing.IPMode == corev1.LoadBalancerIPModeProxy {
				continue
			}
			lbIPs = append(lbIPs, ipv4s([]string{ing.IP})...)
		}
	}
	var affinity int32
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		affinity = corev1.DefaultClientIPServiceAffinitySeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			affinity = *c.ClientIP.TimeoutSeconds
		}
	}
	external := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer || len(svc.Spec.ExternalIPs) > 0
	var out []ServicePort
	for _, p := range svc.Spec.Ports {
		proto := Protocol(p.Protocol)
		if proto == "" {
			proto = TCP
		}
		sp := ServicePort{
			Namespace: svc.Namespace, Name: svc.Name, PortName: p.Name, Protocol: proto,
			ClusterIP: cip, Port: p.Port, ExternalIPs: ipv4s(svc.Spec.ExternalIPs), LoadBalancerIPs: lbIPs,
			ExternalPolicyLocal: external && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
			InternalPolicyLocal: svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal,
			AffinitySeconds:     affinity,
		}
		if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			sp.NodePort = p.NodePort
		}
		sp.Endpoints = endpointsFor(p.Name, proto, slices)
		out = append(out, sp)
	}
	return out
}

// endpointsFor collects the endpoints serving the Service port named
// portName: those of every slice whose port of the same name and protocol
// says where they listen.
func endpointsFor(portName string, proto Protocol, slices []*discoveryv1.EndpointSlice) []Endpoint {
	seen := map[string]int{}
	var out []Endpoint
	for _, s := range slices {
		for _, sp := range s.Ports {
			name, p := "", TCP
			if sp.Name != nil {
				name = *sp.Name
			}
			if sp.Protocol != nil {
				p = Protocol(*sp.Protocol)
			}
			if name != portName || p != proto || sp.Port == nil {
				continue
			}
			for _, ep := range s.Endpoints {
				e, ok := endpoint(ep, *sp.Port)
				if !ok {
					continue
				}
				if i, dup := seen[e.Addr()]; dup {
					// The same address in two slices (during a move between
					// slices): the readier copy wins.
					if e.Ready && !out[i].Ready {
						out[i] = e
					}
					continue
				}
				seen[e.Addr()] = len(out)
				out = append(out, e)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessEndpoint(out[i], out[j]) })
	return out
}

func endpoint(ep discoveryv1.Endpoint, port int32) (Endpoint, bool) {
	if len(ep.Addresses) == 0 {
		return Endpoint{}, false
	}
	a, err := netip.ParseAddr(ep.Addresses[0])
	if err != nil || !a.Is4() {
		return Endpoint{}, false
	}
	e := Endpoint{IP: a.String(), Port: port, Ready: true, Serving: true}
	if c := ep.Conditions; c.Ready != nil {
		e.Ready = *c.Ready
	}
	if c := ep.Conditions; c.Serving != nil {
		e.Serving = *c.Serving
	} else {
		e.Serving = e.Ready
	}
	if c := ep.Conditions; c.Terminating != nil {
		e.Terminating = *c.Terminating
	}
	if ep.NodeName != nil {
		e.NodeName = *ep.NodeName
	}
	return e, true
}

func lessEndpoint(a, b Endpoint) bool {
	aa, errA := netip.ParseAddr(a.IP)
	bb, errB := netip.ParseAddr(b.IP)
	if errA == nil && errB == nil && aa != bb {
		return aa.Less(bb)
	}
	if a.IP != b.IP {
		return a.IP < b.IP
	}
	return a.Port < b.Port
}
