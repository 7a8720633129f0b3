package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/agent/certs"
	"github.com/skiff-io/skiff/internal/agent/node"
	"github.com/skiff-io/skiff/internal/agent/overlay"
	"github.com/skiff-io/skiff/internal/server"
)

// Options are the settings of the agent that runs inside `skiff server`.
type Options struct {
	NodeName        string
	NodeIP          string
	Port            int
	RuntimeEndpoint string
	ClusterCIDR     string
	ServiceCIDR     string
	ClusterDNS      []string
	ClusterDomain   string
	// OverlayMode is the --flannel-backend: how this node reaches the
	// other nodes' pod CIDRs (empty: overlay.ModeVXLAN).
	OverlayMode overlay.Mode
}

// servingCertValidity is how long the agent's serving certificate lasts;
// a new one is issued at every start.
const servingCertValidity = 365 * 24 * time.Hour

// Component returns the node agent as a server component, turned off by
// --disable-agent. It runs on every server (no leader election): each
// server is a node.
func Component(opts Options) server.Component {
	return server.Component{Name: "skiff-agent", Role: server.RoleAgent, Run: func(ctx context.Context, env server.Env) error {
		name := opts.NodeName
		if name == "" {
			var err error
			if name, err = node.DefaultName(); err != nil {
				return fmt.Errorf("agent: %w", err)
			}
		}
		ip := opts.NodeIP
		if ip == "" {
			ip = node.DefaultIPv4()
		}
		// The agent acts as its node (system:node:<name>), so the node
		// authorizer and NodeRestriction hold it to its own pods.
		rc, err := certs.NodeClientConfig(env.PKI, env.Config, name)
		if err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		cert, key, err := env.PKI.IssueServingCert(name, []string{name, ip, "127.0.0.1", "localhost"}, servingCertValidity)
		if err != nil {
			return fmt.Errorf("agent: serving certificate: %w", err)
		}
		a, err := New(Config{
			DataDir: env.DataDir, NodeName: name, NodeIP: ip, Port: opts.Port, RuntimeEndpoint: opts.RuntimeEndpoint,
			ClusterCIDR: opts.ClusterCIDR, ServiceCIDR: opts.ServiceCIDR, ClusterDNS: opts.ClusterDNS, ClusterDomain: opts.ClusterDomain,
			OverlayMode: opts.OverlayMode, RestConfig: rc, CAPEM: env.CAPEM, ServingCertPEM: cert, ServingKeyPEM: key, Logger: env.Logger,
		})
		if err != nil {
			return err
		}
		return a.Run(ctx)
	}}
}
