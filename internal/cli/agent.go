package cli

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/dns"
	"github.com/skiff-io/skiff/internal/ingress"
	"github.com/skiff-io/skiff/internal/proxy"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/skiff-io/skiff/internal/agent"
	"github.com/skiff-io/skiff/internal/agent/node"
	"github.com/skiff-io/skiff/internal/join"
)

// newAgentCommand runs a node agent on a machine of its own, joining the
// cluster at --server with the server's join token.
func newAgentCommand() *cobra.Command {
	var opts agent.Options
	var serverURL, token, tokenFile, dataDir, logLevel, proxyMode, clusterDomain string
	var ingressHTTPPort, ingressHTTPSPort int
	var disableIngress bool
	cmd := &cobra.Command{
		Use:   "agent --server URL --token TOKEN",
		Short: "Run a node agent that joins a Skiff cluster (the token is in <data-dir>/token on the server)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			if serverURL == "" {
				return fmt.Errorf("--server is required")
			}
			if tokenFile != "" {
				data, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				token = string(data)
			}
			tok, err := join.ParseToken(token)
			if err != nil {
				return err
			}
			if opts.NodeName == "" {
				if opts.NodeName, err = node.DefaultName(); err != nil {
					return err
				}
			}
			if opts.NodeIP == "" {
				opts.NodeIP = node.DefaultIPv4()
			}
			dir := agent.Dir(dataDir)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			// Client and serving certificates come from CSRs: the first
			// client one authenticated with the token's bootstrap token,
			// the rest as the node. Stored ones are reused on restart.
			certs, err := join.Bootstrap(cmd.Context(), join.BootstrapConfig{Server: serverURL, Token: tok, NodeName: opts.NodeName,
				NodeIPs: []string{opts.NodeIP}, Dir: dir, Logger: log.With("component", "node-certs")})
			if err != nil {
				return err
			}
			kubeconfig := filepath.Join(dir, "node.kubeconfig")
			if err := certs.WriteKubeconfig(kubeconfig); err != nil {
				return err
			}
			rc := certs.RestConfig()
			rc.QPS, rc.Burst = 50, 100
			rc.UserAgent = "skiff-agent/" + opts.NodeName
			log.Info("joined cluster", "server", serverURL, "node", opts.NodeName, "kubeconfig", kubeconfig)
			dnsIP, err := dns.ServiceIP(opts.ServiceCIDR)
			if err != nil {
				return fmt.Errorf("--service-cidr: %w", err)
			}
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return err
			}
			px, err := proxy.New(proxy.Config{NodeName: opts.NodeName, ClusterCIDR: opts.ClusterCIDR, Mode: proxy.Mode(proxyMode),
				Client: client, Logger: log.With("component", "skiff-proxy")})
			if err != nil {
				return err
			}
			// The node's ingress proxy (routes only: the server writes the
			// Ingress statuses and creates the default IngressClass).
			var in *ingress.Ingress
			if !disableIngress {
				httpAddr, err := agentIngressAddr(ingressHTTPPort, ingressHTTPSPort)
				if err != nil {
					return err
				}
				if in, err = ingress.New(ingress.Config{HTTPAddr: httpAddr, Client: client, SkipDefaultClass: true,
					Logger: log}); err != nil {
					return err
				}
			}
			a, err := agent.New(agent.Config{
				DataDir: dataDir, NodeName: opts.NodeName, NodeIP: opts.NodeIP, Port: opts.Port, RuntimeEndpoint: opts.RuntimeEndpoint,
				ClusterCIDR: opts.ClusterCIDR, ServiceCIDR: opts.ServiceCIDR, OverlayMode: opts.OverlayMode, RestConfig: rc,
				ClusterDNS: []string{dnsIP.String()}, ClusterDomain: clusterDomain,
				CAPEM: certs.CAPEM(), ServingCertificate: certs.GetCertificate, Logger: log,
			})
			if err != nil {
				return err
			}
			// The agent, the Service proxy, the ingress proxy and
			// certificate renewal run together; any failing stops all.
			g, ctx := errgroup.WithContext(cmd.Context())
			g.Go(func() error { return a.Run(ctx) })
			g.Go(func() error { return px.Run(ctx) })
			g.Go(func() error { return certs.Run(ctx) })
			if in != nil {
				g.Go(func() error { return in.Run(ctx) })
			}
			return g.Wait()
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "server", "", "URL of the cluster's API server, e.g. https://10.0.0.1:6443")
	f.StringVar(&token, "token", "", "the server's join token (from <data-dir>/token on the server)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the join token (instead of --token)")
	f.StringVar(&dataDir, "data-dir", "/var/lib/skiff", "directory for the agent's containerd, pods and logs")
	addAgentFlags(f, &opts)
	f.StringVar(&opts.ClusterCIDR, "cluster-cidr", "10.42.0.0/16", "the cluster's pod range (never routed off this machine)")
	f.StringVar(&opts.ServiceCIDR, "service-cidr", "10.43.0.0/16", "the cluster's Service range (never routed off this machine)")
	f.StringVar(&proxyMode, "proxy-mode", "iptables", "how the Service proxy programs the kernel: iptables or nftables")
	f.StringVar(&clusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.BoolVar(&disableIngress, "disable-ingress", false, "do not run the ingress proxy on this node")
	f.IntVar(&ingressHTTPPort, "ingress-http-port", 80, "port the node's ingress proxy serves HTTP on")
	f.IntVar(&ingressHTTPSPort, "ingress-https-port", 0,
		"must be 0: a node's ingress proxy serves HTTP only (its node identity may not read TLS Secrets); HTTPS is served by the server")
	return cmd
}

// agentIngressAddr is the listen address of a node agent's ingress proxy.
// It serves plain HTTP only: HTTPS needs the Ingresses' TLS Secrets,
// which the node authorizer does not let a node read.
func agentIngressAddr(httpPort, httpsPort int) (string, error) {
	if httpPort < 1 || httpPort > 65535 {
		return "", fmt.Errorf("--ingress-http-port %d: not a port (1-65535)", httpPort)
	}
	if httpsPort != 0 {
		return "", fmt.Errorf("--ingress-https-port %d: a node agent's ingress proxy serves HTTP only (TLS Secrets are not readable by a node); leave it 0 or use --disable-ingress", httpsPort)
	}
	return ":" + strconv.Itoa(httpPort), nil
}
