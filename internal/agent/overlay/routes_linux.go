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

func (a *Applier) syncRoutes(want []Route, devIndex int, dev *Device, st *Status) error {
	owned, err := a.h.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("list overlay routes: %w", err)
	}
	have := map[netip.Prefix]netlink.Route{}
	for _, r := range owned {
		if p, ok := prefixOf(r.Dst); ok {
			have[p] = r
		}
	}
	var errs []error
	wanted := map[netip.Prefix]bool{}
	for _, r := range want {
		wanted[r.Dst] = true
		nr := netlink.Route{
			Dst:      ipNet(r.Dst),
			Gw:       net.IP(r.Via.AsSlice()),
			Protocol: RouteProtocol,
			Table:    unix.RT_TABLE_MAIN,
			Scope:    netlink.SCOPE_UNIVERSE,
		}
		if r.Dev != "" {
			if dev == nil || r.Dev != dev.Name {
				errs = append(errs, fmt.Errorf("route %s: unknown device %q", r.Dst, r.Dev))
				continue
			}
			nr.LinkIndex = devIndex
		}
		if r.OnLink {
			nr.Flags = int(netlink.FLAG_ONLINK)
		}
		if old, ok := have[r.Dst]; ok && routeMatches(old, nr) {
			continue
		}
		if err := a.h.RouteReplace(&nr); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s: %w", r.Dst, r.Via, err))
			continue
		}
		st.Changes++
		a.log.Info("overlay: route", "dst", r.Dst, "via", r.Via, "dev", r.Dev)
	}
	for p, r := range have {
		if wanted[p] {
			continue
		}
		if err := a.h.RouteDel(&r); err != nil {
			errs = append(errs, fmt.Errorf("remove route %s: %w", p, err))
			continue
		}
		st.Changes++
		a.log.Info("overlay: removed route", "dst", p)
	}
	return errors.Join(errs...)
}

func routeMatches(have, want netlink.Route) bool {
	if !have.Gw.Equal(want.Gw) || len(have.MultiPath) != 0 {
		return false
	}
	if want.LinkIndex != 0 && have.LinkIndex != want.LinkIndex {
		return false
	}
	onlink := int(netlink.FLAG_ONLINK)
	return have.Flags&onlink == want.Flags&onlink
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones).Masked(), true
}
