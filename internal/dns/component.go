package dns

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"k8s.io/client-go/kubernetes"
)

// Options are the settings of the cluster DNS inside `skiff server`.
type Options struct {
	// Domain is the cluster domain (--cluster-domain, default cluster.local).
	Domain string
	// Listen is the host:port served over UDP and TCP (default
	// 0.0.0.0:10053); its port is kube-dns's targetPort.
	Listen string
	// ServiceCIDR gives kube-dns its ClusterIP, the tenth address
	// (--service-cidr, default 10.43.0.0/16).
	ServiceCIDR string
	// NodeIPs are this server's addresses that pods reach; they become
	// kube-dns's endpoints.
	NodeIPs []string
	// Upstreams overrides the resolvers read from /etc/resolv.conf.
	Upstreams []string
	// Pods selects how pod names are answered (default PodsInsecure).
	Pods PodMode
}

// Component returns the cluster DNS as a server component. It runs on
// every server (not leader-elected: each server answers queries) and is
// turned off by --disable-dns.
func Component(opts Options) server.Component {
	return server.Component{Name: "skiff-dns", Role: server.RoleDNS, User: "system:skiff-dns", Run: func(ctx context.Context, env server.Env) error {
		if env.Logger == nil {
			env.Logger = slog.Default()
		}
		if opts.Listen == "" {
			opts.Listen = DefaultListen
		}
		if opts.ServiceCIDR == "" {
			opts.ServiceCIDR = "10.43.0.0/16"
		}
		_, portStr, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return fmt.Errorf("dns: listen address %q: %w", opts.Listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port <= 0 || port > 65535 {
			return fmt.Errorf("dns: listen address %q: bad port", opts.Listen)
		}
		// Refuse bad settings now rather than warn about them every 2s.
		if _, err := DesiredService(opts.ServiceCIDR, port); err != nil {
			return err
		}
		if _, err := DesiredEndpointSlices(opts.NodeIPs, port); err != nil {
			return err
		}
		client, err := kubernetes.NewForConfig(env.Config)
		if err != nil {
			return fmt.Errorf("dns: client: %w", err)
		}
		srv, err := New(Config{Client: client, Domain: opts.Domain, Listen: []string{opts.Listen},
			Upstreams: opts.Upstreams, Pods: opts.Pods, Logger: env.Logger})
		if err != nil {
			return err
		}
		if len(opts.NodeIPs) > 0 {
			go ensureLoop(ctx, env, client, opts, port)
		}
		return srv.Run(ctx)
	}}
}

// ensureLoop keeps kube-dns in place: it retries EnsureService every 2s
// until it succeeds, then checks again every 30s (a deleted or edited
// kube-dns comes back), until ctx ends.
func ensureLoop(ctx context.Context, env server.Env, client kubernetes.Interface, opts Options, port int) {
	for {
		next := 30 * time.Second
		if err := EnsureService(ctx, client, opts.ServiceCIDR, opts.NodeIPs, port); err != nil {
			if ctx.Err() != nil {
				return
			}
			env.Logger.Warn("dns: kube-dns service not ensured; retrying", "err", err)
			next = 2 * time.Second
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
