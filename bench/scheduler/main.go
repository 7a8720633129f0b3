// Command scheduler benchmarks Skiff's scheduler the way kube-scheduler was
// measured on this machine: 1,000 fake Ready nodes, 10,000 pods with small
// requests, client QPS unthrottled, time until every pod is bound (seen on
// a watch). It starts `skiff server --disable-scheduler` as a process and
// runs the scheduler as a separate process (this program re-executed as
// `run-scheduler`, which is what `skiff scheduler` runs), and reports next
// to references measured in the same run. bench/run-scheduler.sh builds
// and runs it; see bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

type options struct {
	skiff, serverArgs, outDir string
	nodes, pods, clients      int
	zones                     int
	nodeCPU, nodeMemory       string
	parallelism               int
	timeout                   time.Duration
	skipBacklog               bool
	schedCPUProfile           string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "run-scheduler" {
		os.Exit(runSchedulerChild(os.Args[2:]))
	}
	var o options
	flag.StringVar(&o.skiff, "skiff", "", "path of the skiff binary (required)")
	flag.StringVar(&o.serverArgs, "server-args", "--disable-agent --disable-scheduler --disable-controllers --disable-dns --disable-ingress", "flags for `skiff server`, space separated (controllers are off: the fake nodes send no heartbeats)")
	flag.IntVar(&o.nodes, "nodes", 1000, "fake nodes")
	flag.IntVar(&o.pods, "pods", 10000, "pods per measured phase")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients creating pods and nodes")
	flag.IntVar(&o.zones, "zones", 10, "zones the nodes are spread over")
	flag.StringVar(&o.nodeCPU, "node-cpu", "32", "allocatable CPU of each node")
	flag.StringVar(&o.nodeMemory, "node-memory", "128Gi", "allocatable memory of each node")
	flag.IntVar(&o.parallelism, "parallelism", 0, "scheduler --parallelism (0: its default)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	flag.BoolVar(&o.skipBacklog, "skip-backlog", false, "skip the backlog phase (pods created before the scheduler starts)")
	flag.StringVar(&o.schedCPUProfile, "scheduler-cpuprofile", "", "write the scheduler process's CPU profile here")
	flag.StringVar(&o.outDir, "out-dir", "", "write scheduler-<date>.txt and scheduler-latest.txt here (default: print only)")
	flag.Parse()
	if o.skiff == "" || o.nodes <= 0 || o.pods <= 0 || o.clients <= 0 {
		fmt.Fprintln(os.Stderr, "usage: scheduler --skiff PATH [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark failed:", err)
		cancel()
		stop()
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// runSchedulerChild is the scheduler process: scheduler.RunStandalone, as
// `skiff scheduler --leader-elect=false` runs it.
func runSchedulerChild(args []string) int {
	fs := flag.NewFlagSet("run-scheduler", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "")
	parallelism := fs.Int("parallelism", 0, "")
	profile := fs.String("cpuprofile", "", "")
	_ = fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := scheduler.RunStandalone(ctx, cfg, scheduler.StandaloneOptions{Logger: log, Parallelism: *parallelism}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func run(ctx context.Context, o options) error {
	res := &results{opts: o, started: time.Now().UTC(), cpus: runtime.NumCPU(), host: hostInfo()}
	bin, err := filepath.Abs(o.skiff)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "skiff-sched-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Reference 1: the algorithm alone, before anything else runs.
	logf("reference: scheduling %d pods onto %d nodes in memory", o.pods, o.nodes)
	if res.core, err = runCoreReference(ctx, o.nodes, o.pods, o.zones, 1, o.nodeCPU, o.nodeMemory); err != nil {
		return err
	}
	logf("  %.0f placements/s (1 goroutine)", res.core.perSecond())

	srv, kubeconfig, err := startServer(ctx, bin, filepath.Join(tmp, "server"), strings.Fields(o.serverArgs))
	if err != nil {
		return err
	}
	defer srv.stop(30 * time.Second)
	res.version = skiffVersion(bin)
	cs, restCfg, err := clientFor(kubeconfig, "skiff-scheduler-bench")
	if err != nil {
		return err
	}
	logf("creating %d nodes", o.nodes)
	res.nodeCreate, _, err = runConcurrent(ctx, o.nodes, o.clients, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(i, o.zones, o.nodeCPU, o.nodeMemory), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("creating nodes: %w", err)
	}
	for _, ns := range []string{"backlog", "e2e"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	createIn := func(ns string) func(context.Context, int) error {
		return func(ctx context.Context, i int) error {
			_, err := cs.CoreV1().Pods(ns).Create(ctx, benchPod(fmt.Sprintf("%s-%06d", ns, i), scheduler.DefaultSchedulerName), metav1.CreateOptions{})
			return err
		}
	}

	schedArgs := []string{"run-scheduler", "--kubeconfig", kubeconfig, "--parallelism", fmt.Sprint(o.parallelism)}
	if o.schedCPUProfile != "" {
		prof, _ := filepath.Abs(o.schedCPUProfile)
		schedArgs = append(schedArgs, "--cpuprofile", prof)
	}
	var sched *proc
	defer func() { sched.stop(30 * time.Second) }()
	startScheduler := func() error {
		sched, err = startProc("scheduler", filepath.Join(tmp, "scheduler.log"), self, schedArgs...)
		return err
	}

	if !o.skipBacklog {
		// Reference 2 and the backlog phase: pods created with no
		// scheduler running, then the scheduler starts.
		logf("backlog: creating %d pods with no scheduler running", o.pods)
		w, err := watchBound(ctx, restCfg, "backlog", o.pods)
		if err != nil {
			return err
		}
		wall, failed, ferr := runConcurrent(ctx, o.pods, o.clients, createIn("backlog"))
		if ferr != nil {
			return fmt.Errorf("%d creates failed: %w", failed, ferr)
		}
		res.rawCreate = wall
		logf("  %.0f pod creates/s", float64(o.pods)/wall.Seconds())
		logf("backlog: starting the scheduler")
		start := time.Now()
		if err := startScheduler(); err != nil {
			return err
		}
		first, last, err := w.wait(ctx, 10*time.Minute)
		if err != nil {
			return fmt.Errorf("backlog: %w (scheduler log:\n%s)", err, tail(sched.logPath, 2000))
		}
		res.backlog, res.backlogBinding = last.Sub(start), last.Sub(first)
		logf("  all bound %v after the scheduler started: %.0f pods/s", res.backlog.Round(time.Millisecond), float64(o.pods)/res.backlog.Seconds())
	} else if err := startScheduler(); err != nil {
		return err
	}

	// Headline: pods created while the scheduler runs.
	logf("end to end: creating %d pods while the scheduler runs", o.pods)
	time.Sleep(2 * time.Second) // let the scheduler sync (relevant with --skip-backlog)
	w, err := watchBound(ctx, restCfg, "e2e", o.pods)
	if err != nil {
		return err
	}
	srvCPU0, schedCPU0, selfCPU0 := cpuSeconds(srv.pid()), cpuSeconds(sched.pid()), cpuSeconds(os.Getpid())
	start := time.Now()
	wall, failed, ferr := runConcurrent(ctx, o.pods, o.clients, createIn("e2e"))
	if ferr != nil {
		return fmt.Errorf("%d creates failed: %w", failed, ferr)
	}
	res.e2eCreate = wall
	_, last, err := w.wait(ctx, 10*time.Minute)
	if err != nil {
		return fmt.Errorf("end to end: %w (scheduler log:\n%s)", err, tail(sched.logPath, 2000))
	}
	res.e2e = last.Sub(start)
	res.e2eLag = last.Sub(start.Add(wall))
	res.srvCPU, res.schedCPU, res.selfCPU = cpuSeconds(srv.pid())-srvCPU0, cpuSeconds(sched.pid())-schedCPU0, cpuSeconds(os.Getpid())-selfCPU0
	res.schedRSS, res.srvRSS = rssMB(sched.pid()), rssMB(srv.pid())
	logf("  all bound %v after the first create: %.0f pods/s", res.e2e.Round(time.Millisecond), float64(o.pods)/res.e2e.Seconds())

	sched.stop(30 * time.Second)
	res.write(os.Stdout)
	if o.outDir != "" {
		if err := res.save(o.outDir); err != nil {
			return err
		}
	}
	return nil
}
