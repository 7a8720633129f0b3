package dns

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// reverseIP parses an in-addr.arpa or ip6.arpa name (lower case, FQDN).
func reverseIP(name string) (netip.Addr, bool) {
	switch {
	case strings.HasSuffix(name, ".in-addr.arpa."):
		l := strings.Split(strings.TrimSuffix(name, ".in-addr.arpa."), ".")
		if len(l) != 4 {
			return netip.Addr{}, false
		}
		ip, err := netip.ParseAddr(l[3] + "." + l[2] + "." + l[1] + "." + l[0])
		return ip, err == nil
	case strings.HasSuffix(name, ".ip6.arpa."):
		l := strings.Split(strings.TrimSuffix(name, ".ip6.arpa."), ".")
		if len(l) != 32 {
			return netip.Addr{}, false
		}
		var b strings.Builder
		for i := 31; i >= 0; i-- {
			if len(l[i]) != 1 {
				return netip.Addr{}, false
			}
			b.WriteString(l[i])
			if i%4 == 0 && i > 0 {
				b.WriteByte(':')
			}
		}
		ip, err := netip.ParseAddr(b.String())
		return ip, err == nil && ip.Is6()
	}
	return netip.Addr{}, false
}

// reverse answers a PTR question for a ClusterIP or a published endpoint
// address of a headless Service; false if the address is not the
// cluster's.
func (r *resolver) reverse() bool {
	ip, ok := reverseIP(r.qname)
	if !ok {
		return false
	}
	addr := ip.String()
	seen := map[string]bool{}
	ptr := func(target string) {
		if !seen[target] {
			seen[target] = true
			r.add(&dns.PTR{Hdr: r.hdr(r.q.Name, dns.TypePTR), Ptr: target})
		}
	}
	for _, svc := range r.st.ServicesByIP(addr) {
		ptr(r.svcName(svc))
	}
	for _, s := range r.st.EndpointSlicesByIP(addr) {
		svc := r.st.Service(s.Namespace, s.Labels[labelSvcName])
		if svc == nil || !isHeadless(svc) {
			continue
		}
		for _, ep := range readyEndpoints(svc, []*discoveryv1.EndpointSlice{s}) {
			if ep.IP == addr {
				ptr(ep.label() + "." + r.svcName(svc))
			}
		}
	}
	if len(r.answer.Answer) == 0 {
		return false
	}
	r.answer.Rcode = dns.RcodeSuccess
	return true
}
