package overlay

import (
	"net"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// Node annotations through which each node agent publishes what its
// peers need to reach it.
const (
	// AnnotationVTEPMAC holds the MAC of the node's VXLAN device.
	AnnotationVTEPMAC = "skiff.io/vtep-mac"
	// AnnotationPublicIP holds the address peers send overlay traffic
	// (or, in host-gw mode, route pod traffic) to.
	AnnotationPublicIP = "skiff.io/public-ip"
)

// Annotations returns the annotations a node with the given address and
// VTEP MAC publishes; a nil MAC (host-gw mode) is left out.
func Annotations(publicIP netip.Addr, vtepMAC net.HardwareAddr) map[string]string {
	a := map[string]string{AnnotationPublicIP: publicIP.String()}
	if len(vtepMAC) != 0 {
		a[AnnotationVTEPMAC] = vtepMAC.String()
	}
	return a
}

// PeersFromNodes turns Node objects into NodeInfo: the address is the
// AnnotationPublicIP annotation, or else the first IPv4 InternalIP of
// the node's status; the pod CIDR is the first IPv4 range of
// spec.podCIDRs (or spec.podCIDR); the VTEP MAC is AnnotationVTEPMAC.
// Nodes without a usable address or pod CIDR are left out; a node with
// a missing or malformed MAC is kept without one (Plan skips it in vxlan
// mode, host-gw mode does not need it).
func PeersFromNodes(nodes []*corev1.Node) []NodeInfo {
	var out []NodeInfo
	for _, n := range nodes {
		if n == nil {
			continue
		}
		info := NodeInfo{Name: n.Name, InternalIP: nodeIP(n), PodCIDR: podCIDR(n)}
		if !info.InternalIP.IsValid() || !info.PodCIDR.IsValid() {
			continue
		}
		if mac, err := net.ParseMAC(n.Annotations[AnnotationVTEPMAC]); err == nil && len(mac) == 6 {
			info.VTEPMAC = mac
		}
		out = append(out, info)
	}
	return out
}

func nodeIP(n *corev1.Node) netip.Addr {
	if ip, err := netip.ParseAddr(n.Annotations[AnnotationPublicIP]); err == nil && ip.Unmap().Is4() {
		return ip.Unmap()
	}
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Unmap().Is4() {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

func podCIDR(n *corev1.Node) netip.Prefix {
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			return p.Masked()
		}
	}
	return netip.Prefix{}
}
