package dns

import (
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpoint is one address of a Service as DNS sees it.
type endpoint struct {
	IP       string
	Hostname string
	// Ports maps portKey(name, protocol) to the port number.
	Ports map[string]int32
}

// label is the endpoint's name below its Service: the hostname, or the
// address with dashes.
func (e endpoint) label() string {
	if e.Hostname != "" {
		return strings.ToLower(e.Hostname)
	}
	return dashedIP(e.IP)
}

func portKey(name, proto string) string { return strings.ToLower(name) + "/" + strings.ToLower(proto) }

// ready reports whether DNS publishes the endpoint: ready (a missing
// condition counts as ready), or serving and not terminating when the
// Service publishes not-ready addresses.
func ready(svc *corev1.Service, ep discoveryv1.Endpoint) bool {
	if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
		return true
	}
	return svc.Spec.PublishNotReadyAddresses
}

// readyEndpoints lists the published endpoints of svc over its slices,
// one per address, sorted by address for stable answers.
func readyEndpoints(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) []endpoint {
	byIP := map[string]int{}
	var out []endpoint
	for _, s := range slices {
		if s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		for _, ep := range s.Endpoints {
			if !ready(svc, ep) {
				continue
			}
			for _, a := range ep.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				addr := ip.Unmap().String()
				i, ok := byIP[addr]
				if !ok {
					i = len(out)
					byIP[addr] = i
					h := ""
					if ep.Hostname != nil {
						h = *ep.Hostname
					}
					out = append(out, endpoint{IP: addr, Hostname: h, Ports: map[string]int32{}})
				}
				for _, p := range s.Ports {
					if p.Name == nil || p.Port == nil {
						continue
					}
					proto := corev1.ProtocolTCP
					if p.Protocol != nil {
						proto = *p.Protocol
					}
					out[i].Ports[portKey(*p.Name, string(proto))] = *p.Port
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP < out[j].IP })
	return out
}
