// Package overlay connects the pod networks of a cluster's nodes: every
// node's pods live in its pod CIDR, and each node routes the other nodes'
// pod CIDRs either through a VXLAN overlay (the default) or, when all
// nodes share one L2 segment, straight to the owning node ("host-gw").
//
// The package is split the usual way: Plan is a pure function from the
// node list to the desired kernel state (routes, VXLAN forwarding and
// neighbour entries), and Applier reconciles a network namespace to it
// with netlink. Nodes publish what their peers need in two annotations
// (AnnotationVTEPMAC, AnnotationPublicIP), which PeersFromNodes reads.
package overlay

import (
	"fmt"
	"net"
	"net/netip"
)

// Mode selects how a node reaches the other nodes' pod CIDRs.
type Mode string

const (
	// ModeVXLAN encapsulates pod traffic in VXLAN between the nodes'
	// addresses; it works on any network that carries UDP between nodes.
	ModeVXLAN Mode = "vxlan"
	// ModeHostGW routes each peer's pod CIDR via the peer's address; it
	// needs every node on one L2 segment but has no encapsulation cost.
	ModeHostGW Mode = "host-gw"
	// ModeNone leaves the routing of the other nodes' pod CIDRs to the
	// administrator: Plan returns an empty state and nodes publish
	// nothing.
	ModeNone Mode = "none"
)

// ParseMode accepts "vxlan" (also the empty string), "host-gw" and
// "none".
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeVXLAN:
		return ModeVXLAN, nil
	case ModeHostGW:
		return ModeHostGW, nil
	case ModeNone:
		return ModeNone, nil
	}
	return "", fmt.Errorf("unknown overlay mode %q (want %q, %q or %q)", s, ModeVXLAN, ModeHostGW, ModeNone)
}

// Fixed parameters of the VXLAN overlay. Port 8472 is the Linux kernel's
// historical VXLAN port, which flannel uses too.
const (
	DeviceName = "skiff.vxlan"
	VNI        = 4242
	Port       = 8472
	// Overhead is what VXLAN over IPv4 adds to every packet: outer IPv4
	// (20), UDP (8), VXLAN (8) and inner Ethernet (14) headers.
	Overhead = 50
	// RouteProtocol marks the routes the applier owns (rtnetlink's
	// rtm_protocol), so it can remove stale ones without touching others.
	RouteProtocol = 142
)

// PodMTU is the MTU pod interfaces must use so that their packets fit
// the uplink once the overlay has wrapped them: the uplink MTU less the
// VXLAN overhead in vxlan mode, the uplink MTU itself in host-gw and
// none modes. A non-positive uplink MTU counts as Ethernet's 1500.
func PodMTU(uplinkMTU int, mode Mode) int {
	if uplinkMTU <= 0 {
		uplinkMTU = 1500
	}
	if mode == ModeHostGW || mode == ModeNone {
		return uplinkMTU
	}
	return uplinkMTU - Overhead
}

// VTEPMAC is the MAC address of a node's VXLAN device, derived from the
// node's address so that it survives restarts and device re-creation: a
// locally administered unicast address 0e:6b followed by the four IPv4
// octets.
func VTEPMAC(ip netip.Addr) net.HardwareAddr {
	a := ip.Unmap().As4()
	return net.HardwareAddr{0x0e, 0x6b, a[0], a[1], a[2], a[3]}
}

// NodeInfo is what the overlay needs to know about one node.
type NodeInfo struct {
	Name string
	// InternalIP is the address other nodes reach this node at: the
	// VXLAN tunnel endpoint, or the next hop in host-gw mode.
	InternalIP netip.Addr
	// PodCIDR is the node's pod range.
	PodCIDR netip.Prefix
	// VTEPMAC is the MAC of the node's VXLAN device (vxlan mode only).
	VTEPMAC net.HardwareAddr
}

// Device describes the VXLAN device of the local node.
type Device struct {
	Name string
	VNI  int
	Port int
	// Local is the node's address, the source of encapsulated packets;
	// the device is bound to the interface that holds it, whose MTU
	// less Overhead becomes the device's MTU.
	Local netip.Addr
	// Address is the network address (".0") of the node's pod CIDR as a
	// host prefix, the source for traffic the node itself sends into the
	// overlay and the gateway its peers route to.
	Address netip.Prefix
	MAC     net.HardwareAddr
}

// Route sends a peer's pod CIDR to it.
type Route struct {
	Dst netip.Prefix
	Via netip.Addr
	// Dev is the output device; empty lets the kernel pick it from Via.
	Dev string
	// OnLink says Via is reachable on Dev without a covering route.
	OnLink bool
}

// FDBEntry makes the VXLAN device send frames for MAC to the tunnel
// endpoint Dst.
type FDBEntry struct {
	MAC net.HardwareAddr
	Dst netip.Addr
}

// Neighbor is a permanent ARP entry on the VXLAN device: the peer's
// gateway address IP has the peer's VTEP MAC.
type Neighbor struct {
	IP  netip.Addr
	MAC net.HardwareAddr
}

// Desired is the kernel state one node should have.
type Desired struct {
	Mode Mode
	// Device is the VXLAN device; nil in host-gw mode, where the
	// applier removes a left-over device instead.
	Device    *Device
	Routes    []Route
	FDB       []FDBEntry
	Neighbors []Neighbor
}
