// Command apiserver benchmarks `skiff server` run as a process: time from
// start to /readyz, idle RSS, pod creates per second with concurrent
// clients and LIST latency, next to a raw etcd reference measured in the
// same run. bench/run-apiserver.sh builds skiff and runs it; see
// bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/skiff-io/skiff/bench/internal/skiffproc"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type options struct {
	skiff      string
	serverArgs string
	pods       int
	clients    int
	starts     int
	listRuns   int
	idle       time.Duration
	valueSize  int
	outDir     string
	name       string
	kubectl    string
	timeout    time.Duration
	skipEtcd   bool
}

func main() {
	var o options
	flag.StringVar(&o.skiff, "skiff", "", "path of the skiff binary to benchmark (required)")
	flag.StringVar(&o.serverArgs, "server-args", "--disable-agent --disable-scheduler --disable-controllers --disable-dns --disable-ingress", "extra flags for `skiff server`, space separated (default: the API server alone)")
	flag.IntVar(&o.pods, "pods", 10000, "pods to create and list")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients for the creates (and raw etcd puts)")
	flag.IntVar(&o.starts, "starts", 5, "start-up measurements (each on a fresh data dir, then a restart on it)")
	flag.IntVar(&o.listRuns, "list-runs", 5, "measured runs of each LIST variant (after one warm-up)")
	flag.DurationVar(&o.idle, "idle", 5*time.Second, "how long the server idles after ready before RSS is read")
	flag.IntVar(&o.valueSize, "etcd-value-size", 1024, "value size of the raw etcd puts, bytes")
	flag.StringVar(&o.outDir, "out-dir", "", "write <name>-<date>.txt and <name>-latest.txt here (default: print only)")
	flag.StringVar(&o.name, "name", "apiserver", "report file name prefix")
	flag.StringVar(&o.kubectl, "kubectl", "auto", "kubectl binary for the `kubectl get pods` note (auto: from PATH if present; none: skip)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	flag.BoolVar(&o.skipEtcd, "skip-etcd-baseline", false, "do not measure the raw etcd reference")
	flag.Parse()
	if o.skiff == "" || o.pods <= 0 || o.clients <= 0 || o.starts <= 0 || o.listRuns <= 0 {
		fmt.Fprintln(os.Stderr, "usage: apiserver --skiff PATH [flags]; counts must be positive")
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

func run(ctx context.Context, o options) (err error) {
	bin, err := filepath.Abs(o.skiff)
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp("", "skiff-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	res := &Results{Pods: o.pods, Clients: o.clients, ListRuns: o.listRuns, Idle: o.idle, Env: environment(ctx, bin, o.serverArgs)}
	extra := strings.Fields(o.serverArgs)

	// (a) start-up, fresh and restarted.
	var fresh, restart, shutdown []time.Duration
	for i := range o.starts {
		dir := filepath.Join(root, fmt.Sprintf("start-%d", i))
		for pass, into := range []*[]time.Duration{&fresh, &restart} {
			p, err := skiffproc.New(bin, dir, extra)
			if err != nil {
				return err
			}
			d, err := p.Start(ctx, 60*time.Second)
			if err != nil {
				p.Stop(10 * time.Second)
				return err
			}
			*into = append(*into, d)
			sd, err := p.Stop(15 * time.Second)
			if err != nil {
				return err
			}
			shutdown = append(shutdown, sd)
			logf("start %d/%d (%s): ready in %s, stopped in %s", i+1, o.starts, []string{"fresh", "restart"}[pass], fmtDur(d), fmtDur(sd))
		}
		os.RemoveAll(dir)
	}
	res.ReadyFresh, res.ReadyRestart, res.Shutdown = Summarize(fresh), Summarize(restart), Summarize(shutdown)

	// The server the load runs against.
	p, err := skiffproc.New(bin, filepath.Join(root, "main"), extra)
	if err != nil {
		return err
	}
	if _, err := p.Start(ctx, 60*time.Second); err != nil {
		p.Stop(10 * time.Second)
		return err
	}
	defer func() {
		if _, serr := p.Stop(15 * time.Second); serr != nil && err == nil {
			err = serr
		}
	}()

	// (b) idle memory.
	logf("idling %s before reading RSS of pid %d", o.idle, p.Pid())
	select {
	case <-time.After(o.idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	if res.IdleMem, err = ReadProcMem(p.Pid()); err != nil {
		return fmt.Errorf("reading RSS: %w", err)
	}
	logf("  idle VmRSS %s", MB(res.IdleMem.VmRSS))

	// The reference, measured just before the load it is compared with
	// (the machine's noise changes by the minute), while skiff idles.
	if !o.skipEtcd {
		logf("raw etcd baseline: %d puts of %d B with %d goroutines, then %d range reads", o.pods, o.valueSize, o.clients, o.listRuns)
		if res.Etcd, err = runEtcdBaseline(ctx, o.pods, o.clients, o.valueSize, o.listRuns); err != nil {
			return fmt.Errorf("raw etcd baseline: %w", err)
		}
		logf("  %.0f puts/s, range %s", res.Etcd.Put.PerSecond(), fmtDur(res.Etcd.Range.Median))
	}

	// (c) creates.
	cs, _, err := clientFor(p.Kubeconfig(), protobufCT)
	if err != nil {
		return err
	}
	const ns, warmNS = "bench", "bench-warmup"
	for _, n := range []string{ns, warmNS} {
		if err := ensureNamespace(ctx, cs, n); err != nil {
			return fmt.Errorf("creating namespace %s: %w", n, err)
		}
	}
	if w := createPods(ctx, cs, warmNS, 4*o.clients, o.clients); w.Errors > 0 {
		return fmt.Errorf("warm-up creates: %d failed, first: %v", w.Errors, w.FirstErr)
	}
	logf("creating %d pods with %d clients", o.pods, o.clients)
	res.Create = createPods(ctx, cs, ns, o.pods, o.clients)
	if res.Create.Errors > 0 {
		return fmt.Errorf("pod creates: %d of %d failed, first: %v", res.Create.Errors, o.pods, res.Create.FirstErr)
	}
	logf("  %.0f creates/s, p50 %s, p99 %s", res.Create.PerSecond(), fmtDur(res.Create.Latency.P50), fmtDur(res.Create.Latency.P99))
	res.PodStoredBytes = storedPodSize(ctx, p.EtcdPort, ns, podName(0))

	// (d) lists.
	jcs, _, err := clientFor(p.Kubeconfig(), jsonCT)
	if err != nil {
		return err
	}
	type variant struct {
		name string
		f    func(context.Context) error
		into *Summary
	}
	variants := []variant{
		{"protobuf, decoded", listTyped(cs, ns, o.pods), &res.ListProto},
		{"JSON, decoded", listTyped(jcs, ns, o.pods), &res.ListJSON},
		{"protobuf, body only", listRaw(cs, ns, protobufCT, &res.ListProtoBytes), &res.ListProtoRaw},
		{"JSON, body only", listRaw(cs, ns, jsonCT, &res.ListJSONBytes), &res.ListJSONRaw},
		{"Table, limit=500", listTablePaged(jcs, ns, o.pods), &res.ListTablePaged},
	}
	for _, v := range variants {
		ds, err := timeRuns(ctx, 1, o.listRuns, v.f)
		if err != nil {
			return fmt.Errorf("LIST %s: %w", v.name, err)
		}
		*v.into = Summarize(ds)
		logf("LIST %s: median %s", v.name, fmtDur(v.into.Median))
	}
	switch kubectl := o.kubectl; {
	case kubectl == "none":
		res.KubectlSkipNote = "skipped (--kubectl none)"
	default:
		if kubectl == "auto" {
			if kubectl, err = exec.LookPath("kubectl"); err != nil {
				res.KubectlSkipNote = "skipped: kubectl not on PATH"
				break
			}
		}
		cache, err := kubectlCacheDir(root)
		if err != nil {
			return err
		}
		runs := min(o.listRuns, 3)
		ds, err := timeRuns(ctx, 1, runs, kubectlGet(kubectl, p.Kubeconfig(), cache, ns, o.pods))
		if err != nil {
			return err
		}
		res.Kubectl = Summarize(ds)
		logf("kubectl get pods: median %s", fmtDur(res.Kubectl.Median))
	}
	if res.LoadMem, err = ReadProcMem(p.Pid()); err != nil {
		return fmt.Errorf("reading RSS: %w", err)
	}

	report := res.String()
	fmt.Print("\n" + report)
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return err
		}
		name := filepath.Join(o.outDir, o.name+"-"+res.Env.Date.UTC().Format("20060102-150405")+".txt")
		for _, f := range []string{name, filepath.Join(o.outDir, o.name+"-latest.txt")} {
			if err := os.WriteFile(f, []byte(report), 0o644); err != nil {
				return err
			}
		}
		logf("wrote %s and %s-latest.txt", name, o.name)
	}
	return nil
}

// storedPodSize reads one pod's value from the server's embedded etcd
// (127.0.0.1) to report what skiff stores per object; 0 if it cannot.
func storedPodSize(ctx context.Context, etcdPort int, ns, name string) int {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{fmt.Sprintf("127.0.0.1:%d", etcdPort)}, DialTimeout: 5 * time.Second})
	if err != nil {
		return 0
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "/registry/core/pods/"+ns+"/"+name)
	if err != nil || len(resp.Kvs) != 1 {
		return 0
	}
	return len(resp.Kvs[0].Value)
}

func environment(ctx context.Context, bin, serverArgs string) Env {
	e := Env{Date: time.Now(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), ServerArgs: serverArgs}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			e.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			out = ee.Stderr
		}
	}
	e.SkiffVersion = strings.TrimSpace(string(out))
	return e
}
