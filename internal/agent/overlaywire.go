package agent

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-io/skiff/internal/agent/overlay"
)

// runOverlay connects this node's pod network to the other nodes' once
// the node has its pod CIDR: it publishes the node's overlay annotations
// and keeps the routes (and, in vxlan mode, the VXLAN device with its
// forwarding and neighbour entries) of the agent's network namespace in
// line with the Node list until ctx ends.
func (a *Agent) runOverlay(ctx context.Context) error {
	if a.cfg.OverlayMode == overlay.ModeNone {
		a.log.Info("overlay: mode none, pod CIDRs of other nodes are routed by the administrator")
		return nil
	}
	cidr, err := a.waitPodCIDR(ctx)
	if err != nil {
		return nil // ctx ended
	}
	podCIDR, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("overlay: pod CIDR %q: %w", cidr, err)
	}
	ip, err := netip.ParseAddr(a.internalIP())
	if err != nil {
		return fmt.Errorf("overlay: node address: %w", err)
	}
	applier, err := overlay.NewApplier(a.log.With("component", "overlay"))
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	defer applier.Close()
	loop := &overlayLoop{client: a.client, self: overlaySelf(a.cfg.NodeName, ip, podCIDR, a.cfg.OverlayMode),
		mode: a.cfg.OverlayMode, applier: applier, log: a.log.With("component", "overlay")}
	return loop.run(ctx)
}

// internalIP is the node's InternalIP as it reports it.
func (a *Agent) internalIP() string {
	for _, ad := range a.currentFacts().Addresses {
		if ad.Type == corev1.NodeInternalIP {
			return ad.Address
		}
	}
	return a.cfg.NodeIP
}

// podMTU is the MTU the pod network's configuration gives pod interfaces.
func (a *Agent) podMTU() int {
	ip, err := netip.ParseAddr(a.internalIP())
	if err != nil {
		return podNetworkMTU(netip.Addr{}, 0, a.cfg.OverlayMode)
	}
	return podNetworkMTU(ip, interfaceMTU(ip), a.cfg.OverlayMode)
}

// OverlayModeFlag is a command-line flag value for an overlay mode (the
// --flannel-backend flag): it accepts what overlay.ParseMode does, so an
// unknown backend is refused when the flags are parsed.
func OverlayModeFlag(m *overlay.Mode) pflag.Value { return (*modeFlag)(m) }

type modeFlag overlay.Mode

func (f *modeFlag) String() string {
	if *f == "" {
		return string(overlay.ModeVXLAN)
	}
	return string(*f)
}

func (f *modeFlag) Set(s string) error {
	m, err := overlay.ParseMode(s)
	if err != nil {
		return err
	}
	*f = modeFlag(m)
	return nil
}

func (f *modeFlag) Type() string { return "backend" }
