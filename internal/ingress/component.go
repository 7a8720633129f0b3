package ingress

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/skiff-io/skiff/internal/server"
	"k8s.io/client-go/kubernetes"
)

// Options configure the ingress components (flags --ingress-http-port,
// --ingress-https-port; --disable-ingress leaves both components out).
type Options struct {
	// HTTPPort and HTTPSPort default to 80 and 443.
	HTTPPort, HTTPSPort int
	// BindAddress is the listen address (default: all addresses).
	BindAddress string
	// NodeIPs are published in Ingress status (default: Node addresses).
	NodeIPs []string
}

// validate refuses ports outside 1-65535 (0 means the default) and
// equal HTTP and HTTPS ports.
func (o Options) validate() error {
	for _, p := range []struct {
		flag string
		port int
	}{{"--ingress-http-port", o.HTTPPort}, {"--ingress-https-port", o.HTTPSPort}} {
		if p.port < 0 || p.port > 65535 {
			return fmt.Errorf("ingress: %s %d: not a port (1-65535)", p.flag, p.port)
		}
	}
	if h, s := o.addrs(); h == s {
		return fmt.Errorf("ingress: HTTP and HTTPS cannot both listen on %s", h)
	}
	return nil
}

func (o Options) addrs() (string, string) {
	hp, sp := o.HTTPPort, o.HTTPSPort
	if hp == 0 {
		hp = 80
	}
	if sp == 0 {
		sp = 443
	}
	return net.JoinHostPort(o.BindAddress, strconv.Itoa(hp)), net.JoinHostPort(o.BindAddress, strconv.Itoa(sp))
}

// Component is the ingress proxy and its routing controller. It runs on
// every server (each server is a node answering on the ingress ports).
func Component(opts Options) server.Component {
	return server.Component{Name: "skiff-ingress", Role: server.RoleIngress, User: "system:skiff-ingress", Run: func(ctx context.Context, env server.Env) error {
		if err := opts.validate(); err != nil {
			return err
		}
		cs, err := kubernetes.NewForConfig(env.Config)
		if err != nil {
			return fmt.Errorf("ingress: client: %w", err)
		}
		httpAddr, httpsAddr := opts.addrs()
		in, err := New(Config{HTTPAddr: httpAddr, HTTPSAddr: httpsAddr, Client: cs, Logger: env.Logger})
		if err != nil {
			return err
		}
		return in.Run(ctx)
	}}
}

// StatusComponent writes Ingress status.loadBalancer.ingress. It is
// leader-elected so that only one server writes statuses at a time.
func StatusComponent(opts Options) server.Component {
	return server.Component{Name: "skiff-ingress-status", Role: server.RoleIngress, LeaderElected: true, User: "system:skiff-ingress",
		Run: func(ctx context.Context, env server.Env) error {
			cs, err := kubernetes.NewForConfig(env.Config)
			if err != nil {
				return fmt.Errorf("ingress status: client: %w", err)
			}
			s, err := NewStatus(StatusConfig{NodeIPs: opts.NodeIPs, Client: cs, Logger: env.Logger})
			if err != nil {
				return err
			}
			return s.Run(ctx)
		}}
}
