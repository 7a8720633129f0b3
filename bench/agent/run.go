package main

import (
	"context"
	"fmt"
	"github.com/skiff-io/skiff/bench/internal/skiffproc"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// bench is one run's state: what it started, for the measurements and
// for the cleanup.
type bench struct {
	o        options
	bin      string
	root     string // temporary directory holding everything
	dataDir  string // the agent server's data dir
	srv      *skiffproc.Proc
	cs       kubernetes.Interface
	raw      *rawCRI
	podCIDR  string
	agentUID []string
	cleaned  bool
}

func (b *bench) socket() string {
	return filepath.Join(b.dataDir, "agent", "containerd", "containerd.sock")
}

// cidrFlags are the server flags for the run's own address ranges.
func (b *bench) cidrFlags() []string {
	return []string{"--cluster-cidr", b.o.clusterCIDR, "--service-cidr", b.o.serviceCIDR}
}

func run(ctx context.Context, o options) error {
	bin, err := filepath.Abs(o.skiff)
	if err != nil {
		return fmt.Errorf("skiff binary: %w", err)
	}
	root, err := os.MkdirTemp("", "skiff-agent-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	b := &bench{o: o, bin: bin, root: root, dataDir: filepath.Join(root, "server")}
	res := &results{started: time.Now().UTC(), host: hostInfo(), version: skiffVersion(bin), pods: o.pods,
		clients: o.clients, rawWorkers: o.rawWorkers, idle: o.idle}
	defer b.cleanup(res) // a no-op after the cleanup of a successful run
	if err := b.measure(ctx, res); err != nil {
		return err
	}
	b.cleanup(res)
	res.write(os.Stdout)
	if o.outDir != "" {
		name, err := res.save(o.outDir)
		if err != nil {
			return err
		}
		logf("wrote %s and agent-latest.txt", name)
	}
	return nil
}

func (b *bench) measure(ctx context.Context, res *results) error {
	o := b.o
	// (c) The reference for memory: the same server without the agent.
	logf("memory reference: `skiff server --disable-agent`, idle %v", o.idle)
	na, err := skiffproc.Start(ctx, b.bin, filepath.Join(b.root, "no-agent"), append(b.cidrFlags(), "--disable-agent"), time.Minute, "--agent-port")
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, o.idle); err != nil {
		_, _ = na.Stop(10 * time.Second)
		return err
	}
	res.noAgent = sampleMem(ctx, memSamples, memInterval, func() Mem { m, _ := ReadMem(na.Pid()); return m })
	if _, err := na.Stop(30 * time.Second); err != nil {
		return err
	}
	if res.noAgent.RSS == 0 {
		return fmt.Errorf("could not read the memory of pid %d", na.Pid())
	}
	_ = os.RemoveAll(filepath.Join(b.root, "no-agent"))
	logf("  VmRSS %s", mb(res.noAgent.RSS))

	// The server with the agent.
	if err := copyImages(o.images, b.dataDir); err != nil {
		return err
	}
	args := append([]string{"--node-name", o.nodeName}, b.cidrFlags()...)
	res.serverArgs = strings.Join(args, " ")
	logf("starting `skiff server %s` and waiting for the node to be Ready", res.serverArgs)
	begin := time.Now()
	if b.srv, err = skiffproc.Start(ctx, b.bin, b.dataDir, args, time.Minute, "--agent-port"); err != nil {
		return err
	}
	if b.cs, err = newClient(b.srv.Kubeconfig()); err != nil {
		return err
	}
	if b.podCIDR, err = waitNodeReady(ctx, b.cs, o.nodeName, 2*time.Minute); err != nil {
		return fmt.Errorf("%w; server log %s:\n%s", err, b.srv.LogPath, skiffproc.Tail(b.srv.LogPath, 3000))
	}
	res.nodeReady = time.Since(begin)
	logf("  node Ready after %s, pod CIDR %s", fmtDur(res.nodeReady), b.podCIDR)
	if b.raw, err = dialRaw(ctx, b.socket(), filepath.Join(b.root, "raw-logs")); err != nil {
		return err
	}
	if v, err := b.raw.rt.Version(ctx, &runtimeapi.VersionRequest{}); err == nil {
		res.runtime = v.RuntimeName + " " + v.RuntimeVersion
	}
	if err := sleepCtx(ctx, o.idle); err != nil {
		return err
	}
	res.idleMem = b.readMem(ctx)
	logf("  idle: server %s, containerd %s", mb(res.idleMem.server.RSS), mb(res.idleMem.containerd.RSS))

	for _, ns := range []string{"bench-warmup", "bench-sequential", "bench-burst"} {
		if _, err := b.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	if o.warmup > 0 {
		logf("warm-up: %d pods and %d raw sandboxes started and removed", o.warmup, o.warmup)
		if _, err := b.phase(ctx, "warmup", false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	for _, mode := range []string{"sequential", "burst"} {
		p, err := b.phase(ctx, mode, mode == "burst")
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		res.phases = append(res.phases, p)
	}
	return nil
}

// phase measures one mode: raw CRI sandboxes started and torn down, then
// the agent's pods started and deleted, with the runtime empty between.
func (b *bench) phase(ctx context.Context, mode string, burst bool) (phase, error) {
	o := b.o
	n := o.pods
	if mode == "warmup" {
		n = o.warmup
	}
	p := phase{name: mode}
	grace := graceSeconds * time.Second

	ns := "bench-" + mode
	w, err := watchPods(ctx, b.cs, ns)
	if err != nil {
		return p, err
	}
	rawNames, names := podNames("bench-raw-"+mode, n), podNames(mode, n)
	var rr rawRun
	var sr startRun
	if burst {
		logf("%s: %d raw CRI sandboxes at once", mode, n)
		if rr, err = b.raw.startBurst(ctx, rawNames, o.rawWorkers); err != nil {
			return p, err
		}
		if p.rawTeardown, err = b.raw.teardown(ctx, grace); err != nil {
			return p, err
		}
		if _, err := waitRuntimeEmpty(ctx, b.socket(), time.Minute); err != nil {
			return p, err
		}
		logRaw(rr, p.rawTeardown)
		logf("%s: %d pods at once", mode, n)
		sr, err = startBurst(ctx, b.cs, w, ns, names, o.clients, 5*time.Minute)
	} else {
		// One raw sandbox, then one pod, and so on: the machine's noise
		// falls on both alike.
		logf("%s: %d raw CRI sandboxes and %d pods, one at a time, alternating", mode, n, n)
		var inRaw time.Duration
		sr, err = startSequential(ctx, b.cs, w, ns, names, time.Minute, func(i int) error {
			t := time.Now()
			err := b.raw.start(ctx, rawNames[i])
			rr.latencies = append(rr.latencies, time.Since(t))
			inRaw += time.Since(t)
			return err
		})
		rr.wall = inRaw // the sum of the raw starts: their wall time
		if err == nil {
			p.rawTeardown, err = b.raw.teardown(ctx, grace)
			p.teardownNote = fmt.Sprintf(", %d pods running alongside", n)
			logRaw(rr, p.rawTeardown)
		}
	}
	for _, uid := range sr.uids {
		if uid != "" {
			b.agentUID = append(b.agentUID, string(uid))
		}
	}
	if err != nil {
		return p, err
	}
	p.raw, p.rawWall = Summarize(rr.latencies), rr.wall
	total, sched, node := startLatencies(sr.samples)
	p.start, p.scheduling, p.node, p.startWall = Summarize(total), Summarize(sched), Summarize(node), sr.wall
	p.mem = b.readMem(ctx)
	logf("  pods: p50 %s, p99 %s, all Running in %s; server %s, containerd %s, %d shims", fmtDur(p.start.P50), fmtDur(p.start.P99),
		fmtDur(p.startWall), mb(p.mem.server.RSS), mb(p.mem.containerd.RSS), p.mem.shims.Procs)

	dr, err := deletePods(ctx, b.cs, w, ns, names, o.clients, 3*time.Minute)
	if err != nil {
		return p, err
	}
	p.del, p.delWall = Summarize(dr.latencies), dr.wall
	if p.runtimeEmpty, err = waitRuntimeEmpty(ctx, b.socket(), time.Minute); err != nil {
		return p, err
	}
	logf("  deleted in %s (p99 per pod %s); containerd empty %s later", fmtDur(p.delWall), fmtDur(p.del.P99), fmtDur(p.runtimeEmpty))
	return p, nil
}

// Memory is read memSamples times, memInterval apart; the median counts.
const (
	memSamples  = 9
	memInterval = 200 * time.Millisecond
)

func logRaw(rr rawRun, teardown time.Duration) {
	s := Summarize(rr.latencies)
	logf("  raw CRI: p50 %s, p99 %s, all in %s; teardown %s", fmtDur(s.P50), fmtDur(s.P99), fmtDur(rr.wall), fmtDur(teardown))
}

// readMem reads the memory of the server, its containerd and the shims
// memSamples times, memInterval apart, and keeps each one's median.
func (b *bench) readMem(ctx context.Context) procSet {
	dir := filepath.Join(b.dataDir, "agent", "containerd")
	var server, ctrd, shims []Mem
	for i := range memSamples {
		if i > 0 && sleepCtx(ctx, memInterval) != nil {
			break
		}
		if m, err := ReadMem(b.srv.Pid()); err == nil {
			server = append(server, m)
		}
		c, sh := runtimeProcs(dir)
		ctrd, shims = append(ctrd, SumMem(c)), append(shims, SumMem(sh))
	}
	return procSet{server: medianMem(server), containerd: medianMem(ctrd), shims: medianMem(shims)}
}
