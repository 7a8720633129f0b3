//go:build linux

package overlay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Applier reconciles one network namespace to a Desired state through
// netlink. It owns the VXLAN device DeviceName, the routes marked with
// RouteProtocol, and the neighbour and FDB entries on its device; it
// leaves everything else alone.
type Applier struct {
	h   *netlink.Handle
	log *slog.Logger
}

// Status reports the overlay's state after an Apply.
type Status struct {
	// MAC is the VXLAN device's MAC (vxlan mode), to publish in
	// AnnotationVTEPMAC.
	MAC net.HardwareAddr
	// UplinkMTU is the MTU of the interface holding the node address
	// (vxlan mode); DeviceMTU is the VXLAN device's MTU.
	UplinkMTU, DeviceMTU int
	// Changes counts the kernel objects added, changed or removed.
	Changes int
}

// NewApplier returns an Applier for the calling process's network
// namespace.
func NewApplier(logger *slog.Logger) (*Applier, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("netlink handle: %w", err)
	}
	return &Applier{h: h, log: orDefault(logger)}, nil
}

// NewApplierAt returns an Applier for the network namespace ns; its
// calls need no thread pinning.
func NewApplierAt(ns netns.NsHandle, logger *slog.Logger) (*Applier, error) {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in namespace: %w", err)
	}
	return &Applier{h: h, log: orDefault(logger)}, nil
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// Close releases the netlink sockets.
func (a *Applier) Close() { a.h.Close() }

// Apply makes the namespace match d: it creates or repairs the VXLAN
// device (or removes it in host-gw mode), then adds missing and replaces
// wrong routes, neighbour and FDB entries and removes the stale ones it
// owns. It is idempotent: a second call with the same d changes nothing.
// It carries on past individual failures and returns them joined.
func (a *Applier) Apply(d Desired) (Status, error) {
	var st Status
	var errs []error
	devIndex := 0
	if d.Device != nil {
		link, err := a.ensureDevice(*d.Device, &st)
		if err != nil {
			return st, err
		}
		devIndex = link.Attrs().Index
		st.MAC = link.Attrs().HardwareAddr
		st.DeviceMTU = link.Attrs().MTU
	} else if err := a.deleteDevice(&st); err != nil {
		errs = append(errs, err)
	}
	if err := a.syncRoutes(d.Routes, devIndex, d.Device, &st); err != nil {
		errs = append(errs, err)
	}
	if d.Device != nil {
		if err := a.syncNeighbors(devIndex, d.Neighbors, &st); err != nil {
			errs = append(errs, err)
		}
		if err := a.syncFDB(devIndex, d.FDB, &st); err != nil {
			errs = append(errs, err)
		}
	}
	return st, errors.Join(errs...)
}

// Remove deletes everything the Applier owns: its routes and the VXLAN
// device with its entries.
func (a *Applier) Remove() error {
	var st Status
	return errors.Join(a.syncRoutes(nil, 0, nil, &st), a.deleteDevice(&st))
}
