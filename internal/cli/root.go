// Package cli defines skiff's command line: one cobra command per role.
package cli

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/agent"
	"github.com/skiff-io/skiff/internal/agent/node"
	"github.com/skiff-io/skiff/internal/dns"
	"github.com/skiff-io/skiff/internal/proxy"
	"github.com/spf13/pflag"
	"log/slog"
	"os"
	"time"

	"github.com/skiff-io/skiff/internal/components"
	"github.com/skiff-io/skiff/internal/scheduler"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/simulator"
	"github.com/skiff-io/skiff/internal/version"
	"github.com/spf13/cobra"
)

// NewRoot returns the `skiff` command with every subcommand.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "skiff",
		Short:         "A single-binary, Kubernetes-compatible container orchestrator",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCommand(), newVersionCommand(), scheduler.NewCommand(), simulator.NewCommand(), newAgentCommand(), newSecretsEncryptCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Kubernetes API level and Skiff version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "skiff version %s (go %s)\n", version.String(), version.Info().GoVersion)
			return nil
		},
	}
}

func newServerCommand() *cobra.Command {
	var cfg server.Config
	var opts components.Options
	var logLevel, proxyMode string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane (API server on etcd, and the components built so far)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			cfg.Logger = log
			opts.Controllers.ClusterCIDR = cfg.ClusterCIDR
			opts.Agent.ClusterCIDR, opts.Agent.ServiceCIDR = cfg.ClusterCIDR, cfg.ServiceCIDR
			opts.DNS.ServiceCIDR = cfg.ServiceCIDR
			if opts.Agent.NodeName == "" {
				if opts.Agent.NodeName, err = node.DefaultName(); err != nil {
					return err
				}
			}
			switch proxy.Mode(proxyMode) {
			case proxy.ModeIPTables, proxy.ModeNFTables:
			default:
				return fmt.Errorf("--proxy-mode: %q is not one of iptables, nftables", proxyMode)
			}
			opts.Proxy.NodeName, opts.Proxy.ClusterCIDR, opts.Proxy.Mode = opts.Agent.NodeName, cfg.ClusterCIDR, proxy.Mode(proxyMode)
			if !cfg.DisableDNS {
				ip, err := dns.ServiceIP(cfg.ServiceCIDR)
				if err != nil {
					return fmt.Errorf("--service-cidr: %w", err)
				}
				opts.Agent.ClusterDNS = []string{ip.String()}
			}
			opts.Agent.ClusterDomain = opts.DNS.Domain
			nodeIP := opts.Agent.NodeIP
			if nodeIP == "" {
				nodeIP = node.DefaultIPv4()
			}
			if nodeIP != "127.0.0.1" {
				opts.DNS.NodeIPs = []string{nodeIP} // kube-dns's endpoint
				opts.Ingress.NodeIPs = []string{nodeIP}
			}
			cfg.Components = components.All(opts)
			s, err := server.New(cfg)
			if err != nil {
				return err
			}
			return s.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/skiff", "directory for etcd data, certificates and the admin kubeconfig")
	f.IntVar(&cfg.HTTPSPort, "https-listen-port", 6443, "port the API server listens on (HTTPS)")
	f.StringVar(&cfg.BindAddress, "bind-address", "0.0.0.0", "address the API server listens on")
	f.StringSliceVar(&cfg.EtcdServers, "etcd-servers", nil, "client URLs of an external etcd cluster (default: run an embedded etcd)")
	f.IntVar(&cfg.EtcdClientPort, "etcd-client-port", 2379, "client port of the embedded etcd (on 127.0.0.1)")
	f.IntVar(&cfg.EtcdPeerPort, "etcd-peer-port", 2380, "peer port of the embedded etcd (on 127.0.0.1)")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "10.43.0.0/16", "range Service cluster IPs are allocated from")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.42.0.0/16", "range each node's pod CIDR is allocated from")
	f.StringVar(&cfg.NodePortRange, "service-node-port-range", "30000-32767", "range NodePorts are allocated from")
	f.StringSliceVar(&cfg.TLSSANs, "tls-san", nil, "extra names or addresses for the API server's certificate")
	f.BoolVar(&cfg.DisableAgent, "disable-agent", false, "do not run a node agent in this process")
	f.BoolVar(&cfg.DisableScheduler, "disable-scheduler", false, "do not run the scheduler in this process")
	f.BoolVar(&cfg.DisableControllers, "disable-controllers", false, "do not run the controllers in this process")
	f.BoolVar(&cfg.DisableDNS, "disable-dns", false, "do not run the cluster DNS server in this process")
	f.BoolVar(&opts.Controllers.DisableServiceLB, "disable-servicelb", false, "leave LoadBalancer Services pending instead of giving them the nodes' addresses")
	f.StringVar(&proxyMode, "proxy-mode", "iptables", "how the Service proxy programs the kernel: iptables or nftables")
	f.BoolVar(&cfg.DisableIngress, "disable-ingress", false, "do not run the ingress controller and proxy in this process")
	f.IntVar(&opts.Ingress.HTTPPort, "ingress-http-port", 80, "port the ingress proxy serves HTTP on")
	f.IntVar(&opts.Ingress.HTTPSPort, "ingress-https-port", 443, "port the ingress proxy serves HTTPS on")
	f.StringVar(&opts.DNS.Domain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	f.StringVar(&opts.DNS.Listen, "cluster-dns-address", "0.0.0.0:10053", "address the cluster DNS server listens on (UDP and TCP); the kube-dns Service forwards to its port")
	addAgentFlags(f, &opts.Agent)
	f.DurationVar(&opts.Controllers.NodeMonitorGracePeriod, "node-monitor-grace-period", 50*time.Second, "how long a node may miss heartbeats before it is marked unreachable")
	f.StringVar(&cfg.Audit.LogPath, "audit-log-path", "", `audit log file (default <data-dir>/audit/audit.log; "-" writes to standard output, "none" turns auditing off)`)
	f.StringVar(&cfg.Audit.PolicyFile, "audit-policy-file", "", "audit.k8s.io/v1 Policy deciding what is logged (default: metadata of every request but health checks and lease renewals)")
	f.IntVar(&cfg.Audit.MaxSizeMB, "audit-log-maxsize", 100, "size in megabytes at which the audit log is rotated")
	f.IntVar(&cfg.Audit.MaxBackups, "audit-log-maxbackup", 10, "number of rotated audit logs to keep (0 keeps all)")
	f.IntVar(&cfg.Audit.MaxAgeDays, "audit-log-maxage", 0, "days to keep rotated audit logs (0 keeps them whatever their age)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// addAgentFlags adds the node agent's flags, shared by `server` and `agent`.
func addAgentFlags(f *pflag.FlagSet, o *agent.Options) {
	f.StringVar(&o.NodeName, "node-name", "", "name of this machine's Node (default: the host name)")
	f.StringVar(&o.NodeIP, "node-ip", "", "InternalIP of this machine's Node (default: the first global IPv4 address)")
	f.IntVar(&o.Port, "agent-port", agent.DefaultPort, "HTTPS port of the node agent's API (logs, exec, port-forward, stats)")
	f.StringVar(&o.RuntimeEndpoint, "container-runtime-endpoint", "", "existing CRI runtime socket (default: run containerd under <data-dir>/agent/containerd)")
	f.Var(agent.OverlayModeFlag(&o.OverlayMode), "flannel-backend",
		"how pods reach pods on other nodes: vxlan (an overlay over UDP 8472), host-gw (routes via the nodes' addresses; needs one L2 segment) or none (routed by the administrator)")
}

// newLogger is the text logger on stderr at the --log-level given.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
