package dns

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// pod handles names below pod.<zone>; l excludes "pod".
func (r *resolver) pod(l []string) {
	if r.pods == PodsDisabled {
		r.nxdomain()
		return
	}
	switch len(l) {
	case 0, 1:
		r.nodata()
		return
	case 2:
	default:
		r.nxdomain()
		return
	}
	ip, ok := parseDashedIP(l[0])
	if !ok {
		r.nxdomain()
		return
	}
	if r.pods == PodsVerified && !podInNamespace(r.st.PodsByIP(ip.String()), l[1]) {
		r.nxdomain()
		return
	}
	if rr := r.addrRR(r.q.Name, ip.String(), false); rr != nil {
		r.add(rr)
	}
	r.nodata()
}

func podInNamespace(pods []*corev1.Pod, ns string) bool {
	for _, p := range pods {
		if p.Namespace == ns && p.DeletionTimestamp == nil {
			return true
		}
	}
	return false
}

// parseDashedIP reads "10-42-0-5" or "fd00--1" (dashes for the dots or
// colons of the address).
func parseDashedIP(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(strings.ReplaceAll(s, "-", ".")); err == nil && ip.Is4() {
		return ip, true
	}
	if ip, err := netip.ParseAddr(strings.ReplaceAll(s, "-", ":")); err == nil && ip.Is6() && !ip.Is4In6() {
		return ip, true
	}
	return netip.Addr{}, false
}

// dashedIP is the label form of ip used for endpoints without hostname.
func dashedIP(ip string) string {
	return strings.NewReplacer(".", "-", ":", "-").Replace(ip)
}
