package pki

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// serviceDNSNames returns the names in-cluster clients use for the API
// server through the "kubernetes" service.
func serviceDNSNames() []string {
	return []string{
		"kubernetes",
		"kubernetes.default",
		"kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local",
	}
}

// sanSet is the de-duplicated set of names a serving certificate needs.
type sanSet struct {
	dns []string
	ips []net.IP
}

func (s *sanSet) addDNS(name string) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, d := range s.dns {
		if d == name {
			return
		}
	}
	s.dns = append(s.dns, name)
}

func (s *sanSet) addIP(ip netip.Addr) {
	ip = ip.Unmap().WithZone("")
	for _, have := range s.ips {
		if a, ok := netip.AddrFromSlice(have); ok && a.Unmap() == ip {
			return
		}
	}
	s.ips = append(s.ips, net.IP(ip.AsSlice()))
}

// requiredSANs lists every name the serving certificate must carry.
func requiredSANs(cfg Config, e env) (sanSet, error) {
	var s sanSet
	s.addDNS("localhost")
	s.addIP(netip.MustParseAddr("127.0.0.1"))
	s.addIP(netip.IPv6Loopback())

	// A hostname that cannot be a DNS SAN (non-ASCII, empty) is skipped
	// rather than fatal: the server must still start on odd hosts.
	if h, err := e.hostname(); err == nil && validDNSName(h) {
		s.addDNS(h)
	}
	addrs, err := e.interfaces()
	if err != nil {
		return sanSet{}, fmt.Errorf("pki: listing interface addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := interfaceIP(a); ok {
			s.addIP(ip)
		}
	}

	for _, name := range serviceDNSNames() {
		s.addDNS(name)
	}
	for _, cidr := range strings.Split(cfg.ServiceCIDR, ",") {
		ip, err := FirstServiceIP(strings.TrimSpace(cidr))
		if err != nil {
			return sanSet{}, err
		}
		addr, _ := netip.AddrFromSlice(ip)
		s.addIP(addr)
	}

	for _, extra := range cfg.ExtraSANs {
		extra = strings.TrimSpace(extra)
		if extra == "" {
			continue
		}
		if ip, err := netip.ParseAddr(extra); err == nil {
			s.addIP(ip)
			continue
		}
		if !validDNSName(extra) {
			return sanSet{}, fmt.Errorf("pki: extra SAN %q is neither an IP address nor a DNS name", extra)
		}
		s.addDNS(extra)
	}
	return s, nil
}

// interfaceIP returns the address of a host interface worth putting in a
// certificate. Loopback is already covered; link-local addresses need a
// zone to be dialled and change with every interface, so they are left out.
func interfaceIP(a net.Addr) (netip.Addr, bool) {
	var ip net.IP
	switch v := a.(type) {
	case *net.IPNet:
		ip = v.IP
	case *net.IPAddr:
		ip = v.IP
	default:
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsLinkLocalUnicast() || addr.IsUnspecified() || addr.IsMulticast() {
		return netip.Addr{}, false
	}
	return addr, true
}

// validDNSName accepts names x509 can encode as a dNSName (IA5String) and
// that a client could plausibly ask for; "*." wildcards are allowed.
func validDNSName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	name = strings.TrimPrefix(name, "*.")
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

// FirstServiceIP returns the first usable address of a service CIDR (the
// network address plus one), which Kubernetes assigns to the "kubernetes"
// service in the default namespace. IPv4 results are 4 bytes long.
func FirstServiceIP(cidr string) (net.IP, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("pki: service CIDR %q: %w", cidr, err)
	}
	prefix = prefix.Masked()
	first := prefix.Addr().Next()
	if !first.IsValid() || !prefix.Contains(first) {
		return nil, fmt.Errorf("pki: service CIDR %q has no room for a service IP", cidr)
	}
	return net.IP(first.AsSlice()), nil
}

// coveredBy reports whether a certificate with these SANs carries every
// name in s; extra names on the certificate are fine.
func (s sanSet) coveredBy(dns []string, ips []net.IP) bool {
	for _, want := range s.dns {
		found := false
		for _, have := range dns {
			if strings.EqualFold(want, have) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, want := range s.ips {
		found := false
		for _, have := range ips {
			if want.Equal(have) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
