//go:build linux

package overlay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func (a *Applier) syncNeighbors(devIndex int, want []Neighbor, st *Status) error {
	list, err := a.h.NeighList(devIndex, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list neighbours of %s: %w", DeviceName, err)
	}
	wanted := map[netip.Addr]string{}
	for _, n := range want {
		wanted[n.IP] = n.MAC.String()
	}
	have := map[netip.Addr]bool{}
	var errs []error
	for _, n := range list {
		ip, ok := netip.AddrFromSlice(n.IP)
		ip = ip.Unmap()
		mac, isWanted := wanted[ip]
		if ok && isWanted {
			if n.State&netlink.NUD_PERMANENT != 0 && mac == n.HardwareAddr.String() {
				have[ip] = true
			}
			continue // right, or replaced below
		}
		if err := a.h.NeighDel(&n); err != nil {
			errs = append(errs, fmt.Errorf("remove neighbour %s: %w", n.IP, err))
			continue
		}
		st.Changes++
	}
	for _, n := range want {
		if have[n.IP] {
			continue
		}
		err := a.h.NeighSet(&netlink.Neigh{
			LinkIndex: devIndex, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT,
			Type: unix.RTN_UNICAST, IP: net.IP(n.IP.AsSlice()), HardwareAddr: n.MAC,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("neighbour %s lladdr %s: %w", n.IP, n.MAC, err))
			continue
		}
		st.Changes++
	}
	return errors.Join(errs...)
}

type fdbKey struct {
	mac string
	dst netip.Addr
}

func (a *Applier) syncFDB(devIndex int, want []FDBEntry, st *Status) error {
	list, err := a.h.NeighList(devIndex, unix.AF_BRIDGE)
	if err != nil {
		return fmt.Errorf("list forwarding entries of %s: %w", DeviceName, err)
	}
	wanted := map[fdbKey]bool{}
	for _, f := range want {
		wanted[fdbKey{f.MAC.String(), f.Dst}] = true
	}
	have := map[fdbKey]bool{}
	var errs []error
	for _, n := range list {
		dst, ok := netip.AddrFromSlice(n.IP)
		if !ok || n.LinkIndex != devIndex {
			continue // not a remote entry
		}
		k := fdbKey{n.HardwareAddr.String(), dst.Unmap()}
		if wanted[k] {
			have[k] = true
			continue
		}
		del := netlink.Neigh{LinkIndex: devIndex, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			HardwareAddr: n.HardwareAddr, IP: n.IP}
		if err := a.h.NeighDel(&del); err != nil {
			errs = append(errs, fmt.Errorf("remove forwarding entry %s dst %s: %w", n.HardwareAddr, n.IP, err))
			continue
		}
		st.Changes++
	}
	for _, f := range want {
		if have[fdbKey{f.MAC.String(), f.Dst}] {
			continue
		}
		err := a.h.NeighSet(&netlink.Neigh{
			LinkIndex: devIndex, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			State: netlink.NUD_PERMANENT, IP: net.IP(f.Dst.AsSlice()), HardwareAddr: f.MAC,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("forwarding entry %s dst %s: %w", f.MAC, f.Dst, err))
			continue
		}
		st.Changes++
	}
	return errors.Join(errs...)
}
