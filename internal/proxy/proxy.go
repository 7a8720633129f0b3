// Package proxy is Skiff's Service proxy, the counterpart of kube-proxy:
// it runs with every node agent, watches Services and EndpointSlices and
// programs the node's kernel so that ClusterIPs, NodePorts, external and
// load-balancer IPs reach the Services' endpoints.
//
// The decisions (which endpoints serve which traffic under which policy)
// are pure functions in package state; the backends turn them into kernel
// rules: package iptables (the default, kube-proxy's iptables layout under
// SKIFF- chains, applied with iptables-restore --noflush, changed chains
// only) and package nftables (a table of Skiff's own with verdict maps,
// through knftables). kube-proxy's IPVS mode has no counterpart: IPVS is
// not compiled into the kernel Skiff is developed on.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/iptables"
	"github.com/skiff-io/skiff/internal/proxy/nftables"
	"github.com/skiff-io/skiff/internal/proxy/state"
)

// Mode selects the kernel backend.
type Mode string

// The backends.
const (
	ModeIPTables Mode = "iptables"
	// ModeNFTables programs one nftables table of Skiff's own through
	// knftables (needs the nft tool).
	ModeNFTables Mode = "nftables"
)

// backend is a kernel backend: it programs a state, remembering what it
// applied so that the next sync writes only the differences.
type backend interface {
	Sync(ctx context.Context, st *state.State) (int, error)
	// ForceFull makes the next Sync rewrite everything.
	ForceFull()
	// Intact reports whether the applied rules still seem in place.
	Intact(ctx context.Context) bool
}

// Defaults of the sync timing.
const (
	DefaultMinSyncInterval  = 100 * time.Millisecond
	DefaultSyncInterval     = 30 * time.Second
	DefaultFullSyncInterval = time.Hour
	retryInterval           = time.Second
)

// Config configures a Proxy.
type Config struct {
	// NodeName is this node's name; endpoints whose nodeName matches are
	// local for the Local traffic policies.
	NodeName string
	// NodeIPs, when set, are the only addresses NodePorts answer on;
	// empty means every non-loopback address of the node.
	NodeIPs []string
	// ClusterCIDR is the pod network; traffic to a ClusterIP from outside
	// it is masqueraded. Empty masquerades all ClusterIP traffic.
	ClusterCIDR string
	// Client reaches the API server (or use Informers).
	Client kubernetes.Interface
	// Informers, if set, is used instead of a factory made from Client;
	// the caller must not have started it before Run.
	Informers informers.SharedInformerFactory
	// Mode is the backend ("" means iptables).
	Mode Mode
	// Executor runs the iptables tools (default: directly).
	Executor iptables.Executor
	// NFTables is the nftables access of the nftables mode (default:
	// knftables for table nftables.TableName in the current namespace).
	NFTables knftables.Interface
	// Sysctl sets kernel parameters (default: /proc/sys of the proxy's
	// own network namespace).
	Sysctl Sysctl
	// MinSyncInterval is the least time between two syncs; changes
	// arriving meanwhile are coalesced into one sync.
	MinSyncInterval time.Duration
	// SyncInterval is how often the proxy syncs without any change.
	SyncInterval time.Duration
	// FullSyncInterval is how often every chain is rewritten, repairing
	// rules someone else changed.
	FullSyncInterval time.Duration
	Logger           *slog.Logger
}

// Proxy programs Services into the kernel.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	factory  informers.SharedInformerFactory
	services listersv1.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	syncer   backend
	// builder keeps each Service's ports between syncs, keyed by the
	// resourceVersions of the Service and its EndpointSlices.
	builder state.Builder
	kick    chan struct{}
}

// New checks cfg and sets the proxy up; Run starts it.
func New(cfg Config) (*Proxy, error) {
	if cfg.NodeName == "" {
		return nil, errors.New("proxy: NodeName is required")
	}
	if cfg.Client == nil && cfg.Informers == nil {
		return nil, errors.New("proxy: Client or Informers is required")
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeIPTables
	case ModeIPTables, ModeNFTables:
	default:
		return nil, fmt.Errorf("proxy: unsupported mode %q", cfg.Mode)
	}
	if cfg.ClusterCIDR != "" {
		p, err := netip.ParsePrefix(cfg.ClusterCIDR)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("proxy: cluster CIDR %q is not an IPv4 prefix", cfg.ClusterCIDR)
		}
		cfg.ClusterCIDR = p.Masked().String()
	}
	var nodeIPs []string
	for _, ip := range cfg.NodeIPs {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("proxy: node IP %q: %w", ip, err)
		}
		if a.Is4() {
			nodeIPs = append(nodeIPs, a.String())
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.NodeIPs) > 0 && len(nodeIPs) == 0 {
		// The proxy programs IPv4 only: an IPv6-only list restricts nothing.
		cfg.Logger.Warn("proxy: no IPv4 address among the node IPs; NodePorts answer on every IPv4 address of the node", "nodeIPs", cfg.NodeIPs)
	}
	cfg.NodeIPs = nodeIPs
	if cfg.Executor == nil {
		cfg.Executor = iptables.HostExecutor{}
	}
	if cfg.Sysctl == nil {
		cfg.Sysctl = ProcSysctl{}
	}
	if cfg.MinSyncInterval <= 0 {
		cfg.MinSyncInterval = DefaultMinSyncInterval
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.FullSyncInterval <= 0 {
		cfg.FullSyncInterval = DefaultFullSyncInterval
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger.With("component", "proxy"), kick: make(chan struct{}, 1)}
	p.factory = cfg.Informers
	if p.factory == nil {
		p.factory = informers.NewSharedInformerFactory(cfg.Client, 0)
	}
	switch cfg.Mode {
	case ModeNFTables:
		if cfg.NFTables == nil {
			s, err := nftables.New()
			if err != nil {
				return nil, fmt.Errorf("proxy: %w", err)
			}
			p.syncer = s
		} else {
			p.syncer = nftables.NewWithInterface(cfg.NFTables)
		}
	default:
		p.syncer = iptables.NewSyncer(cfg.Executor, p.log)
	}
	return p, nil
}

// state reads the current desired state from the informers' caches.
func (p *Proxy) state() (*state.State, error) {
	svcs, err := p.services.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	slices, err := p.slices.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing endpointslices: %w", err)
	}
	return &state.State{
		NodeName: p.cfg.NodeName, ClusterCIDR: p.cfg.ClusterCIDR, NodePortIPs: p.cfg.NodeIPs,
		Services: p.builder.Build(selectServices(svcs), selectSlices(slices)),
	}, nil
}
