package overlay

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
)

// Plan computes the kernel state self needs to reach its peers' pod
// CIDRs in the given mode, in the manner of flannel's backends:
//
//   - vxlan: a route for each peer's pod CIDR via the peer's gateway
//     address (the pod CIDR's ".0") on the VXLAN device, onlink; a
//     permanent ARP entry mapping that gateway address to the peer's
//     VTEP MAC; and an FDB entry sending frames for that MAC to the
//     peer's InternalIP.
//   - host-gw: a route for each peer's pod CIDR via the peer's
//     InternalIP.
//
// Peers that are self (by name or pod CIDR), lack an address or pod
// CIDR, are of another address family than self, overlap self's pod
// CIDR, or (vxlan) lack a VTEP MAC are skipped, as is a second peer
// claiming an already routed pod CIDR. Only IPv4 is supported. The
// result is sorted, so equal inputs give equal plans. ModeNone plans
// nothing.
func Plan(self NodeInfo, peers []NodeInfo, mode Mode) Desired {
	d := Desired{Mode: mode}
	if mode == ModeNone || !self.InternalIP.IsValid() || !self.PodCIDR.IsValid() || !self.PodCIDR.Addr().Is4() {
		return d
	}
	selfCIDR := self.PodCIDR.Masked()
	if mode == ModeVXLAN {
		mac := self.VTEPMAC
		if len(mac) == 0 {
			mac = VTEPMAC(self.InternalIP)
		}
		d.Device = &Device{
			Name: DeviceName, VNI: VNI, Port: Port,
			Local:   self.InternalIP.Unmap(),
			Address: netip.PrefixFrom(selfCIDR.Addr(), 32),
			MAC:     mac,
		}
	}
	sorted := slices.Clone(peers)
	slices.SortFunc(sorted, func(a, b NodeInfo) int {
		if c := a.PodCIDR.Addr().Compare(b.PodCIDR.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	var routed []netip.Prefix
	for _, p := range sorted {
		if !usablePeer(self, selfCIDR, p, mode) {
			continue
		}
		cidr := p.PodCIDR.Masked()
		if slices.ContainsFunc(routed, cidr.Overlaps) {
			continue
		}
		routed = append(routed, cidr)
		ip := p.InternalIP.Unmap()
		switch mode {
		case ModeHostGW:
			d.Routes = append(d.Routes, Route{Dst: cidr, Via: ip})
		default:
			gw := cidr.Addr()
			d.Routes = append(d.Routes, Route{Dst: cidr, Via: gw, Dev: DeviceName, OnLink: true})
			d.Neighbors = append(d.Neighbors, Neighbor{IP: gw, MAC: slices.Clone(p.VTEPMAC)})
			d.FDB = append(d.FDB, FDBEntry{MAC: slices.Clone(p.VTEPMAC), Dst: ip})
		}
	}
	slices.SortFunc(d.FDB, func(a, b FDBEntry) int {
		if c := bytes.Compare(a.MAC, b.MAC); c != 0 {
			return c
		}
		return a.Dst.Compare(b.Dst)
	})
	return d
}

// usablePeer says whether Plan can route to p.
func usablePeer(self NodeInfo, selfCIDR netip.Prefix, p NodeInfo, mode Mode) bool {
	switch {
	case p.Name != "" && p.Name == self.Name:
		return false
	case !p.InternalIP.IsValid() || !p.PodCIDR.IsValid():
		return false
	case !p.InternalIP.Unmap().Is4() || !p.PodCIDR.Addr().Is4():
		return false
	case p.PodCIDR.Masked().Overlaps(selfCIDR):
		return false
	case p.InternalIP.Unmap() == self.InternalIP.Unmap():
		return false
	case mode != ModeHostGW && len(p.VTEPMAC) != 6:
		return false
	}
	return true
}
