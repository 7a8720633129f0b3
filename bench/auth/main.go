// Command auth measures what authentication, authorization and audit cost
// `skiff server`: GETs, LISTs and CREATEs from 16 concurrent clients as the
// admin client certificate (system:masters, which the authorizer lets
// through first), as a ServiceAccount bearer token bound to the view and
// edit ClusterRoles (JWT verification and RBAC), as an ordinary user's
// client certificate with the same RoleBindings (RBAC without the JWT), as
// a node client certificate (the Node authorizer), and as admin again on a
// second server with the audit log off. bench/run-auth.sh builds skiff and runs it; see
// bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/skiff-io/skiff/bench/internal/skiffproc"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

type options struct {
	skiff      string
	serverArgs string
	clients    int
	pods       int
	rounds     int
	slice      time.Duration
	warmup     time.Duration
	outDir     string
	name       string
	timeout    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.skiff, "skiff", "", "path of the skiff binary to benchmark (required)")
	flag.StringVar(&o.serverArgs, "server-args", "--disable-agent --disable-dns --disable-ingress", "flags for both `skiff server`s, space separated; the second also gets --audit-log-path none")
	flag.IntVar(&o.clients, "clients", 16, "concurrent workers per scenario")
	flag.IntVar(&o.pods, "pods", 100, "pods in the namespace that is listed")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds; each runs every scenario for --slice")
	flag.DurationVar(&o.slice, "slice", 800*time.Millisecond, "how long each scenario runs per round")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured load per scenario before the first round")
	flag.StringVar(&o.outDir, "out-dir", "", "write <name>-<date>.txt and <name>-latest.txt here (default: print only)")
	flag.StringVar(&o.name, "name", "auth", "report file name prefix")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if o.skiff == "" || o.clients <= 0 || o.pods <= 0 || o.rounds <= 0 || o.slice <= 0 || o.warmup < 0 {
		fmt.Fprintln(os.Stderr, "usage: auth --skiff PATH [flags]; counts and --slice must be positive")
		flag.PrintDefaults()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	err := run(ctx, o)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmark failed:", err)
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
	root, err := os.MkdirTemp("", "skiff-authbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	rep := Report{Env: environment(ctx, bin, o)}

	// Both servers run for the whole benchmark, so that the audited and
	// unaudited scenarios alternate and see the same machine noise.
	extra := strings.Fields(o.serverArgs)
	logf("starting two skiff servers (audit log on / off)")
	audited, err := skiffproc.Start(ctx, bin, filepath.Join(root, "audited"), extra, 60*time.Second)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProc(audited)) }()
	unaudited, err := skiffproc.Start(ctx, bin, filepath.Join(root, "unaudited"), append(extra, "--audit-log-path", "none"), 60*time.Second)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProc(unaudited)) }()

	c, err := setup(ctx, audited, unaudited, o.pods)
	if err != nil {
		return err
	}
	if rep.Checks, err = runAccessChecks(ctx, accessChecks(c)); err != nil {
		return fmt.Errorf("access check: %w", err)
	}
	mems := []*Memory{{Label: "audited server"}, {Label: "server with --audit-log-path none"}}
	procs := []*skiffproc.Proc{audited, unaudited}
	for i, p := range procs {
		if mems[i].Before, err = readRSS(p.Pid()); err != nil {
			return fmt.Errorf("reading RSS: %w", err)
		}
	}

	scs := scenarios(c, audited.Pid(), unaudited.Pid(), o.pods)
	counters := make([]atomic.Int64, len(scs))
	// Requests of the load to the audited server, each of which the
	// default policy records as one event.
	auditedRequests := 0
	results := make([]Result, len(scs))
	if o.warmup > 0 {
		logf("warm-up: %s per scenario", o.warmup)
		for i, s := range scs {
			w := runSlice(ctx, o.clients, o.warmup, &counters[i], s.req, nil)
			if w.Errors > 0 {
				return fmt.Errorf("warm-up %s %s: %d errors, first: %w", s.Case, s.Op, w.Errors, w.FirstErr)
			}
			if s.pid == audited.Pid() {
				auditedRequests += w.Requests
			}
		}
	}
	for round := range o.rounds {
		logf("round %d/%d: %d scenarios x %s", round+1, o.rounds, len(scs), o.slice)
		for _, i := range roundOrder(scs, round) {
			s := scs[i]
			pid := s.pid
			smp := runSlice(ctx, o.clients, o.slice, &counters[i], s.req, func() (time.Duration, error) { return readCPUTime(pid) })
			if smp.Errors > 0 {
				return fmt.Errorf("%s %s: %d errors, first: %w", s.Case, s.Op, smp.Errors, smp.FirstErr)
			}
			results[i].Case, results[i].Op = s.Case, s.Op
			results[i].Add(smp)
			if s.pid == audited.Pid() {
				auditedRequests += smp.Requests
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	rep.Results = results
	for i, p := range procs {
		if mems[i].After, err = readRSS(p.Pid()); err != nil {
			return fmt.Errorf("reading RSS: %w", err)
		}
		rep.Memory = append(rep.Memory, *mems[i])
	}
	rep.AuditLog = auditLogStats(filepath.Join(audited.DataDir, "audit"))
	rep.AuditLog.LoadRequests = auditedRequests
	if b, err := os.ReadFile(audited.LogPath); err == nil {
		rep.AuditLog.Dropped = DroppedAuditEvents(string(b))
	}

	text := rep.String()
	fmt.Print("\n" + text)
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return err
		}
		name := filepath.Join(o.outDir, o.name+"-"+rep.Env.Date.UTC().Format("20060102-150405")+".txt")
		for _, f := range []string{name, filepath.Join(o.outDir, o.name+"-latest.txt")} {
			if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
				return err
			}
		}
		logf("wrote %s and %s-latest.txt", name, o.name)
	}
	return nil
}

// setup creates the fixtures on both servers and the clients of every
// case: admin from each server's kubeconfig, the service accounts' tokens
// from the TokenRequest API, the user's and node's certificates from the
// CA.
func setup(ctx context.Context, audited, unaudited *skiffproc.Proc, pods int) (clients, error) {
	var c clients
	cfgs := make([]*rest.Config, 2)
	for i, p := range []*skiffproc.Proc{audited, unaudited} {
		cfg, err := adminConfig(p.Kubeconfig())
		if err != nil {
			return c, err
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return c, err
		}
		logf("creating fixtures on %s (%d pods to list)", p.URL(), pods)
		if err := setupFixtures(ctx, cs, pods); err != nil {
			return c, fmt.Errorf("fixtures on %s: %w", p.URL(), err)
		}
		cfgs[i] = cfg
		if i == 0 {
			c.admin = cs
		} else {
			c.adminNoAudit = cs
		}
	}
	readerToken, err := serviceAccountToken(ctx, c.admin, nsMain, readerSA)
	if err != nil {
		return c, err
	}
	writerToken, err := serviceAccountToken(ctx, c.admin, nsMain, writerSA)
	if err != nil {
		return c, err
	}
	nodeCert, nodeKey, err := clientCert(audited.DataDir, "system:node:"+nodeName, []string{"system:nodes"})
	if err != nil {
		return c, fmt.Errorf("node certificate: %w", err)
	}
	userCert, userKey, err := clientCert(audited.DataDir, certUser, nil)
	if err != nil {
		return c, fmt.Errorf("user certificate: %w", err)
	}
	for _, x := range []struct {
		into *kubernetes.Interface
		cfg  *rest.Config
	}{
		{&c.reader, bearerConfig(cfgs[0], readerToken)},
		{&c.writer, bearerConfig(cfgs[0], writerToken)},
		{&c.user, certConfig(cfgs[0], userCert, userKey)},
		{&c.node, certConfig(cfgs[0], nodeCert, nodeKey)},
	} {
		cs, err := kubernetes.NewForConfig(x.cfg)
		if err != nil {
			return c, err
		}
		*x.into = cs
	}
	return c, nil
}

// auditLogStats sums the size and lines (one event each) of the audit
// log and its rotated backups in dir.
func auditLogStats(dir string) AuditLog {
	a := AuditLog{Path: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return a
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		n, lines, _ := countLines(f)
		f.Close()
		a.Bytes += n
		a.Events += lines
	}
	return a
}

// DroppedAuditEvents returns the highest droppedTotal the server logged
// with "audit: dropping events" (the audit writer warns at most once per
// interval, with the running total), 0 if it never did.
func DroppedAuditEvents(serverLog string) uint64 {
	var most uint64
	for _, line := range strings.Split(serverLog, "\n") {
		if !strings.Contains(line, "audit: dropping events") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "droppedTotal="); ok {
				if n, err := strconv.ParseUint(v, 10, 64); err == nil && n > most {
					most = n
				}
			}
		}
	}
	return most
}

// countLines returns the bytes and newlines read from r.
func countLines(r io.Reader) (int64, int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 1<<20)
	var n int64
	lines := 0
	for {
		k, err := br.Read(buf)
		n += int64(k)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, lines, nil
		}
		if err != nil {
			return n, lines, err
		}
	}
}

func environment(ctx context.Context, bin string, o options) Env {
	e := Env{Date: time.Now(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), ServerArgs: o.serverArgs,
		Clients: o.clients, Rounds: o.rounds, Slice: o.slice, Pods: o.pods}
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
	if out, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil {
		e.SkiffVersion = strings.TrimSpace(string(out))
	}
	return e
}

// stopProc stops a server at the end of the benchmark.
func stopProc(p *skiffproc.Proc) error {
	_, err := p.Stop(15 * time.Second)
	return err
}
