package simulator

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/clientcmd"
)

// NewCommand returns `skiff simulate`, which runs hollow nodes against the
// cluster of a kubeconfig until interrupted.
func NewCommand() *cobra.Command {
	var (
		kubeconfig, cpu, memory, logLevel string
		labels, taints, zones             []string
		qps                               float32
		cfg                               Config
	)
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run simulated nodes (hollow kubelets) against a cluster",
		Long: `Registers --nodes Node objects and plays their node agents: leases and
status are kept fresh, pods bound to the nodes become Running and Ready with
a pod IP, pods of Jobs complete, deleted pods are removed. No containers run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
			if err != nil {
				return fmt.Errorf("loading kubeconfig: %w", err)
			}
			rc.QPS, rc.Burst = qps, int(2*qps)
			if qps <= 0 {
				rc.QPS, rc.Burst = -1, 0
			}
			rc.UserAgent = "skiff-simulator"
			cfg.RESTConfig = rc
			if cfg.CPU, err = resource.ParseQuantity(cpu); err != nil {
				return fmt.Errorf("--cpu: %w", err)
			}
			if cfg.Memory, err = resource.ParseQuantity(memory); err != nil {
				return fmt.Errorf("--memory: %w", err)
			}
			if cfg.Labels, err = ParseLabels(labels); err != nil {
				return err
			}
			if cfg.Taints, err = ParseTaints(taints); err != nil {
				return err
			}
			cfg.Zones = zones
			sim, err := New(cfg)
			if err != nil {
				return err
			}
			return sim.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config)")
	f.IntVar(&cfg.Nodes, "nodes", 1, "number of nodes to simulate")
	f.StringVar(&cfg.NamePrefix, "name-prefix", DefaultNamePrefix, "node names are this prefix followed by 0, 1, ...")
	f.StringVar(&cpu, "cpu", "32", "CPU capacity of each node")
	f.StringVar(&memory, "memory", "256Gi", "memory capacity of each node")
	f.IntVar(&cfg.Pods, "pods", 110, "pod capacity of each node")
	f.StringSliceVar(&labels, "label", nil, "extra node label KEY=VALUE (repeatable, or comma-separated)")
	f.StringSliceVar(&taints, "taint", nil, "node taint KEY[=VALUE]:EFFECT (repeatable, or comma-separated)")
	f.StringSliceVar(&zones, "zones", nil, "spread nodes over these topology.kubernetes.io/zone values")
	f.DurationVar(&cfg.JobDuration, "job-duration", DefaultJobDuration, "how long the containers of Job pods run before completing")
	f.DurationVar(&cfg.StatusInterval, "node-status-interval", DefaultStatusInterval, "how often unchanged node status is re-posted")
	f.DurationVar(&cfg.RenewInterval, "lease-renew-interval", DefaultRenewInterval, "how often node leases are renewed")
	f.IntVar(&cfg.Workers, "workers", DefaultWorkers, "concurrent API requests")
	f.Float32Var(&qps, "qps", 0, "client requests per second (0: unthrottled)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// ParseLabels parses KEY=VALUE pairs.
func ParseLabels(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("label %q: want KEY=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}

// ParseTaints parses taints written as kubectl taint does:
// KEY[=VALUE]:EFFECT.
func ParseTaints(specs []string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	for _, s := range specs {
		kv, effect, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("taint %q: want KEY[=VALUE]:EFFECT", s)
		}
		e := corev1.TaintEffect(effect)
		switch e {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("taint %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", s)
		}
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("taint %q: empty key", s)
		}
		out = append(out, corev1.Taint{Key: k, Value: v, Effect: e})
	}
	return out, nil
}
