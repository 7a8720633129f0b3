package proxy

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/skiff-io/skiff/internal/agent/node"
	"github.com/skiff-io/skiff/internal/server"
)

// Options are the proxy's settings inside `skiff server` / `skiff agent`.
type Options struct {
	// NodeName defaults to the lower-cased host name, as the agent's does.
	NodeName string
	// NodeIPs restrict NodePorts to these addresses (default: all).
	NodeIPs     []string
	ClusterCIDR string
	Mode        Mode
}

// Component returns the proxy as a server component. It runs next to the
// node agent on every node (turned off with it), not leader-elected.
func Component(opts Options) server.Component {
	return server.Component{Name: "skiff-proxy", Role: server.RoleAgent, User: "system:kube-proxy", Run: func(ctx context.Context, env server.Env) error {
		name := opts.NodeName
		if name == "" {
			var err error
			if name, err = node.DefaultName(); err != nil {
				return fmt.Errorf("proxy: %w", err)
			}
		}
		client, err := kubernetes.NewForConfig(env.Config)
		if err != nil {
			return fmt.Errorf("proxy: client: %w", err)
		}
		p, err := New(Config{
			NodeName: name, NodeIPs: opts.NodeIPs, ClusterCIDR: opts.ClusterCIDR, Mode: opts.Mode,
			Client: client, Logger: env.Logger,
		})
		if err != nil {
			return err
		}
		return p.Run(ctx)
	}}
}
