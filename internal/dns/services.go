package dns

import (
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

// svc handles names below svc.<zone>; l excludes "svc".
func (r *resolver) svc(l []string) {
	switch len(l) {
	case 0:
		r.nodata()
		return
	case 1:
		if r.st.HasNamespace(l[0]) {
			r.nodata()
		} else {
			r.nxdomain()
		}
		return
	}
	if len(l) > 4 {
		r.nxdomain()
		return
	}
	ns, name := l[len(l)-1], l[len(l)-2]
	svc := r.st.Service(ns, name)
	if svc == nil {
		r.nxdomain()
		return
	}
	switch len(l) {
	case 2:
		r.service(svc)
	case 3:
		r.serviceChild(svc, l[0])
	case 4:
		r.srv(svc, l[0], l[1])
	}
}

func isHeadless(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && len(serviceIPs(svc)) == 0
}

func (r *resolver) svcName(svc *corev1.Service) string {
	return svc.Name + "." + svc.Namespace + ".svc." + r.zone
}

func (r *resolver) service(svc *corev1.Service) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		target := dns.Fqdn(strings.ToLower(svc.Spec.ExternalName))
		r.add(&dns.CNAME{Hdr: r.hdr(r.q.Name, dns.TypeCNAME), Target: target})
		if r.q.Qtype == dns.TypeA || r.q.Qtype == dns.TypeAAAA {
			r.answer.Target = target
		}
		return
	}
	if isHeadless(svc) {
		eps := readyEndpoints(svc, r.st.EndpointSlices(svc.Namespace, svc.Name))
		if len(eps) == 0 {
			r.nxdomain()
			return
		}
		switch r.q.Qtype {
		case dns.TypeA, dns.TypeAAAA, dns.TypeANY:
			for _, ep := range eps {
				if rr := r.addrRR(r.q.Name, ep.IP, false); rr != nil {
					r.add(rr)
				}
			}
		case dns.TypeSRV:
			for _, p := range svc.Spec.Ports {
				if p.Name != "" {
					r.headlessSRV(svc, eps, p.Name, string(p.Protocol))
				}
			}
		}
		r.nodata()
		return
	}
	switch r.q.Qtype {
	case dns.TypeA, dns.TypeAAAA, dns.TypeANY:
		for _, ip := range serviceIPs(svc) {
			if rr := r.addrRR(r.q.Name, ip, false); rr != nil {
				r.add(rr)
			}
		}
	case dns.TypeSRV:
		for _, p := range svc.Spec.Ports {
			if p.Name != "" {
				r.clusterSRV(svc, p)
			}
		}
	}
	r.nodata()
}

// serviceChild answers <label>.<svc>.<ns>.svc.<zone>: an endpoint's
// hostname (or dashed IP) for headless Services, or the empty
// non-terminal _<proto> of an SRV name.
func (r *resolver) serviceChild(svc *corev1.Service, label string) {
	if strings.HasPrefix(label, "_") {
		if _, ok := findPort(svc, "", label[1:]); ok {
			r.nodata()
		} else {
			r.nxdomain()
		}
		return
	}
	if !isHeadless(svc) {
		r.nxdomain()
		return
	}
	found := false
	for _, ep := range readyEndpoints(svc, r.st.EndpointSlices(svc.Namespace, svc.Name)) {
		if ep.label() != label {
			continue
		}
		found = true
		if rr := r.addrRR(r.q.Name, ep.IP, false); rr != nil {
			r.add(rr)
		}
	}
	if !found {
		r.nxdomain()
		return
	}
	r.nodata()
}

// findPort returns the Service port named name (any name when empty) with
// protocol proto, both compared case-insensitively.
func findPort(svc *corev1.Service, name, proto string) (corev1.ServicePort, bool) {
	for _, p := range svc.Spec.Ports {
		if p.Name == "" || !strings.EqualFold(string(p.Protocol), proto) {
			continue
		}
		if name == "" || strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return corev1.ServicePort{}, false
}

// srv answers _<port>._<proto>.<svc>.<ns>.svc.<zone>.
func (r *resolver) srv(svc *corev1.Service, portLabel, protoLabel string) {
	if !strings.HasPrefix(portLabel, "_") || !strings.HasPrefix(protoLabel, "_") || svc.Spec.Type == corev1.ServiceTypeExternalName {
		r.nxdomain()
		return
	}
	p, ok := findPort(svc, portLabel[1:], protoLabel[1:])
	if !ok {
		r.nxdomain()
		return
	}
	if isHeadless(svc) {
		eps := readyEndpoints(svc, r.st.EndpointSlices(svc.Namespace, svc.Name))
		if len(eps) == 0 {
			r.nxdomain()
			return
		}
		if r.q.Qtype == dns.TypeSRV || r.q.Qtype == dns.TypeANY {
			r.headlessSRV(svc, eps, p.Name, string(p.Protocol))
		}
		r.nodata()
		return
	}
	if r.q.Qtype == dns.TypeSRV || r.q.Qtype == dns.TypeANY {
		r.clusterSRV(svc, p)
	}
	r.nodata()
}

func (r *resolver) srvOwner(svc *corev1.Service, port, proto string) string {
	if r.qname == r.svcName(svc) {
		// SRV asked of the Service name itself: name each port.
		return "_" + strings.ToLower(port) + "._" + strings.ToLower(proto) + "." + r.svcName(svc)
	}
	return r.q.Name
}

func (r *resolver) clusterSRV(svc *corev1.Service, p corev1.ServicePort) {
	target := r.svcName(svc)
	r.add(&dns.SRV{Hdr: r.hdr(r.srvOwner(svc, p.Name, string(p.Protocol)), dns.TypeSRV), Priority: 0, Weight: 100,
		Port: uint16(p.Port), Target: target})
	for _, ip := range serviceIPs(svc) {
		if rr := r.addrRR(target, ip, true); rr != nil {
			r.answer.Extra = appendUnique(r.answer.Extra, rr)
		}
	}
}

func (r *resolver) headlessSRV(svc *corev1.Service, eps []endpoint, port, proto string) {
	owner := r.srvOwner(svc, port, proto)
	var n int
	for _, ep := range eps {
		if _, ok := ep.Ports[portKey(port, proto)]; ok {
			n++
		}
	}
	for _, ep := range eps {
		num, ok := ep.Ports[portKey(port, proto)]
		if !ok {
			continue
		}
		target := ep.label() + "." + r.svcName(svc)
		r.add(&dns.SRV{Hdr: r.hdr(owner, dns.TypeSRV), Priority: 0, Weight: srvWeight(n), Port: uint16(num), Target: target})
		if rr := r.addrRR(target, ep.IP, true); rr != nil {
			r.answer.Extra = appendUnique(r.answer.Extra, rr)
		}
	}
}

// srvWeight spreads a weight of 100 over n equal targets.
func srvWeight(n int) uint16 {
	if n <= 1 {
		return 100
	}
	if w := 100 / n; w > 0 {
		return uint16(w)
	}
	return 1
}

func appendUnique(rrs []dns.RR, rr dns.RR) []dns.RR {
	for _, o := range rrs {
		if dns.IsDuplicate(o, rr) {
			return rrs
		}
	}
	return append(rrs, rr)
}
