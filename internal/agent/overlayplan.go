package agent

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"reflect"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-io/skiff/internal/agent/overlay"
)

// The pure decisions of the overlay wiring: what this node publishes,
// what it programs into the kernel, and the pod network's MTU. The loop
// in overlayloop.go only feeds them the Node list and applies the
// results.

// overlaySelf is this node as the overlay sees it: its InternalIP, its
// pod CIDR and (vxlan mode) the VTEP MAC derived from the address, which
// it publishes before its device exists so that peers can plan for it.
func overlaySelf(name string, ip netip.Addr, podCIDR netip.Prefix, mode overlay.Mode) overlay.NodeInfo {
	self := overlay.NodeInfo{Name: name, InternalIP: ip.Unmap(), PodCIDR: podCIDR.Masked()}
	if mode == overlay.ModeVXLAN && ip.IsValid() {
		self.VTEPMAC = overlay.VTEPMAC(ip)
	}
	return self
}

// overlayAnnotations are the annotations this node publishes on its Node:
// its address and (vxlan mode) VTEP MAC; nothing in none mode.
func overlayAnnotations(self overlay.NodeInfo, mode overlay.Mode) map[string]string {
	if mode == overlay.ModeNone || !self.InternalIP.IsValid() {
		return nil
	}
	var mac net.HardwareAddr
	if mode == overlay.ModeVXLAN {
		mac = self.VTEPMAC
	}
	return overlay.Annotations(self.InternalIP, mac)
}

// overlayAnnotationPatch is the JSON merge patch that brings a Node's
// annotations (have) to what it should publish (want), and whether one is
// needed. A VTEP MAC left over from vxlan mode is removed in host-gw mode,
// so that no peer mistakes the node for a VTEP; none mode (want nil)
// never patches.
func overlayAnnotationPatch(have, want map[string]string, mode overlay.Mode) ([]byte, bool, error) {
	if len(want) == 0 {
		return nil, false, nil
	}
	change := map[string]any{}
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			change[k] = v
		}
	}
	if _, stale := have[overlay.AnnotationVTEPMAC]; stale && mode == overlay.ModeHostGW {
		change[overlay.AnnotationVTEPMAC] = nil
	}
	if len(change) == 0 {
		return nil, false, nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": change}})
	if err != nil {
		return nil, false, fmt.Errorf("overlay annotations patch: %w", err)
	}
	return patch, true, nil
}

// planOverlay is the kernel state this node wants given every Node of
// the cluster: overlay.Plan over the peers, except that in vxlan mode the
// device exists only while there is at least one peer to reach, so that a
// single-node cluster gets no VXLAN device (the applier removes one left
// from an earlier peer). In none mode it is empty; the loop does not
// apply it at all.
func planOverlay(self overlay.NodeInfo, nodes []*corev1.Node, mode overlay.Mode) overlay.Desired {
	d := overlay.Plan(self, overlay.PeersFromNodes(nodes), mode)
	if len(d.Routes) == 0 {
		d.Device = nil
	}
	return d
}

// overlayNodeChanged says whether a Node update can change any node's
// plan or this node's published annotations: the heartbeats that update
// a Node's status every few seconds mostly cannot.
func overlayNodeChanged(old, cur *corev1.Node) bool {
	if old == nil || cur == nil {
		return true
	}
	if old.Annotations[overlay.AnnotationPublicIP] != cur.Annotations[overlay.AnnotationPublicIP] ||
		old.Annotations[overlay.AnnotationVTEPMAC] != cur.Annotations[overlay.AnnotationVTEPMAC] {
		return true
	}
	return !reflect.DeepEqual(overlay.PeersFromNodes([]*corev1.Node{old}), overlay.PeersFromNodes([]*corev1.Node{cur}))
}

// podNetworkMTU is the MTU of the pods' interfaces: overlay.PodMTU of the
// MTU of the interface holding the node's address. When that interface
// is unknown (uplinkMTU <= 0) or is the loopback device (a node without
// a network, whose 64 KiB MTU no peer could carry), Ethernet's 1500 is
// assumed.
func podNetworkMTU(nodeIP netip.Addr, uplinkMTU int, mode overlay.Mode) int {
	if nodeIP.IsLoopback() || uplinkMTU <= 0 {
		uplinkMTU = 1500
	}
	return overlay.PodMTU(uplinkMTU, mode)
}

// interfaceMTU is the MTU of the interface holding ip, or 0 when none
// does.
func interfaceMTU(ip netip.Addr) int {
	ifaces, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if have, ok := netip.AddrFromSlice(n.IP); ok && have.Unmap() == ip.Unmap() {
				return ifc.MTU
			}
		}
	}
	return 0
}
