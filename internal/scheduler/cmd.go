package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// NewCommand returns `skiff scheduler`: the scheduler as its own process,
// a client of the API server named by --kubeconfig, running until SIGTERM
// (the command's context ends).
func NewCommand() *cobra.Command {
	var (
		kubeconfig, name, logLevel string
		leaderElect                bool
		parallelism                int
		percentage                 int32
	)
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the scheduler against an API server (for servers started with --disable-scheduler)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			if kubeconfig == "" {
				kubeconfig = os.Getenv("KUBECONFIG")
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading kubeconfig: %w", err)
			}
			return RunStandalone(cmd.Context(), cfg, StandaloneOptions{SchedulerName: name, Logger: log, LeaderElect: leaderElect,
				Parallelism: parallelism, PercentageOfNodesToScore: percentage})
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the API server (default $KUBECONFIG)")
	f.StringVar(&name, "scheduler-name", DefaultSchedulerName, "spec.schedulerName of the pods to schedule")
	f.BoolVar(&leaderElect, "leader-elect", true, "hold the kube-system/"+LeaseName+" Lease while scheduling, so that only one scheduler runs")
	f.IntVar(&parallelism, "parallelism", 0, "goroutines filtering and scoring nodes (0: 1)")
	f.Int32Var(&percentage, "percentage-of-nodes-to-score", 0, "share of nodes to find feasible before scoring (0: Kubernetes' adaptive default)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// StandaloneOptions configure RunStandalone.
type StandaloneOptions struct {
	SchedulerName            string
	Logger                   *slog.Logger
	LeaderElect              bool
	Parallelism              int
	PercentageOfNodesToScore int32
}

// RunStandalone runs a scheduler with its own clients and informers
// against the API server at cfg until ctx ends. Requests use protobuf and
// are not rate-limited on the client side.
func RunStandalone(ctx context.Context, cfg *rest.Config, o StandaloneOptions) error {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "skiff-scheduler"
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	run := func(ctx context.Context) error {
		factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(stripManagedFields))
		s, err := New(Config{Client: client, Informers: factory, Logger: o.Logger, SchedulerName: o.SchedulerName,
			Parallelism: o.Parallelism, PercentageOfNodesToScore: o.PercentageOfNodesToScore})
		if err != nil {
			return err
		}
		factory.Start(ctx.Done())
		defer factory.Shutdown()
		return s.Run(ctx)
	}
	if !o.LeaderElect {
		return run(ctx)
	}
	return RunWithLeaderElection(ctx, client, LeaseName, o.Logger, run)
}

// RunWithLeaderElection runs fn while holding the kube-system Lease named
// lease (identity: hostname plus a random suffix), with kube-scheduler's
// default timings (15 s lease, 10 s renew deadline, 2 s retry). It returns
// when ctx ends or leadership is lost (fn's context is cancelled first).
func RunWithLeaderElection(ctx context.Context, client kubernetes.Interface, lease string, log *slog.Logger, fn func(context.Context) error) error {
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s_%d", host, time.Now().UnixNano())
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: lease},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	errc := make(chan error, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            lease,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				log.Info("became leader", "lease", lease, "identity", id)
				errc <- fn(ctx)
				cancel()
			},
			OnStoppedLeading: func() { log.Info("stopped leading", "lease", lease, "identity", id) },
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	le.Run(lctx)
	select {
	case err := <-errc:
		return err
	default:
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("leader election lost")
}

// stripManagedFields drops managedFields from informer objects: the
// scheduler never reads them, and they are a large part of every pod.
func stripManagedFields(obj interface{}) (interface{}, error) {
	if m, ok := obj.(metav1.Object); ok && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
