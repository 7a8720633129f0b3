//go:build linux

package overlay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// UplinkMTU is the MTU of the interface holding the node address addr;
// with PodMTU it gives the MTU for the pod network's CNI configuration.
func (a *Applier) UplinkMTU(addr netip.Addr) (int, error) {
	l, err := a.uplink(addr.Unmap())
	if err != nil {
		return 0, err
	}
	return l.Attrs().MTU, nil
}

// uplink finds the interface holding addr.
func (a *Applier) uplink(addr netip.Addr) (netlink.Link, error) {
	links, err := a.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		addrs, err := a.h.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", l.Attrs().Name, err)
		}
		for _, ad := range addrs {
			if ip, ok := netip.AddrFromSlice(ad.IP); ok && ip.Unmap() == addr {
				return l, nil
			}
		}
	}
	return nil, fmt.Errorf("no interface has the node address %s", addr)
}

func (a *Applier) ensureDevice(dev Device, st *Status) (netlink.Link, error) {
	up, err := a.uplink(dev.Local)
	if err != nil {
		return nil, err
	}
	st.UplinkMTU = up.Attrs().MTU
	mtu := PodMTU(st.UplinkMTU, ModeVXLAN)
	want := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: dev.Name, MTU: mtu, HardwareAddr: dev.MAC},
		VxlanId:      dev.VNI,
		VtepDevIndex: up.Attrs().Index,
		SrcAddr:      net.IP(dev.Local.AsSlice()),
		Port:         dev.Port,
		Learning:     false,
	}
	link, err := a.h.LinkByName(dev.Name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		link = nil
	case err != nil:
		return nil, fmt.Errorf("look up %s: %w", dev.Name, err)
	}
	if link != nil && !deviceMatches(link, want) {
		a.log.Info("overlay: re-creating VXLAN device with new parameters", "device", dev.Name)
		if err := a.h.LinkDel(link); err != nil {
			return nil, fmt.Errorf("delete %s: %w", dev.Name, err)
		}
		link = nil
	}
	if link == nil {
		if err := a.h.LinkAdd(want); err != nil {
			return nil, fmt.Errorf("create VXLAN device %s: %w", dev.Name, err)
		}
		st.Changes++
		a.log.Info("overlay: created VXLAN device", "device", dev.Name, "vni", dev.VNI, "local", dev.Local, "mtu", mtu)
		if link, err = a.h.LinkByName(dev.Name); err != nil {
			return nil, fmt.Errorf("look up %s: %w", dev.Name, err)
		}
	}
	if len(dev.MAC) != 0 && link.Attrs().HardwareAddr.String() != dev.MAC.String() {
		if err := a.h.LinkSetHardwareAddr(link, dev.MAC); err != nil {
			return nil, fmt.Errorf("set MAC of %s: %w", dev.Name, err)
		}
		st.Changes++
	}
	if link.Attrs().MTU != mtu {
		if err := a.h.LinkSetMTU(link, mtu); err != nil {
			return nil, fmt.Errorf("set MTU of %s: %w", dev.Name, err)
		}
		st.Changes++
	}
	if err := a.syncAddress(link, dev.Address, st); err != nil {
		return nil, err
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := a.h.LinkSetUp(link); err != nil {
			return nil, fmt.Errorf("set %s up: %w", dev.Name, err)
		}
		st.Changes++
	}
	return a.h.LinkByName(dev.Name)
}

// deviceMatches says whether an existing link can serve as want without
// re-creation (MAC and MTU can be changed in place).
func deviceMatches(link netlink.Link, want *netlink.Vxlan) bool {
	vx, ok := link.(*netlink.Vxlan)
	return ok && vx.VxlanId == want.VxlanId && vx.Port == want.Port &&
		vx.VtepDevIndex == want.VtepDevIndex && vx.SrcAddr.Equal(want.SrcAddr) && !vx.Learning
}

func (a *Applier) syncAddress(link netlink.Link, want netip.Prefix, st *Status) error {
	addrs, err := a.h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	have := false
	for _, ad := range addrs {
		p, ok := prefixOf(ad.IPNet)
		if ok && p == want {
			have = true
			continue
		}
		if err := a.h.AddrDel(link, &ad); err != nil {
			return fmt.Errorf("remove address %s from %s: %w", ad.IPNet, link.Attrs().Name, err)
		}
		st.Changes++
	}
	if have {
		return nil
	}
	addr := &netlink.Addr{IPNet: ipNet(want)}
	if err := a.h.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("add address %s to %s: %w", want, link.Attrs().Name, err)
	}
	st.Changes++
	return nil
}

func (a *Applier) deleteDevice(st *Status) error {
	link, err := a.h.LinkByName(DeviceName)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up %s: %w", DeviceName, err)
	}
	if err := a.h.LinkDel(link); err != nil {
		return fmt.Errorf("delete %s: %w", DeviceName, err)
	}
	st.Changes++
	a.log.Info("overlay: removed VXLAN device", "device", DeviceName)
	return nil
}
