// Command agent benchmarks Skiff's node agent with real containers: pod
// start latency (create → Running and Ready, sequential and in a burst),
// pod deletion, and the memory of `skiff server`, containerd and the
// shims, next to the same containerd driven directly over CRI in the same
// run. It needs root, containerd, runc, ctr and the CNI plugins, and the
// image archives of `make images`. bench/run-agent.sh builds and runs it;
// see bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// options are the command-line settings.
type options struct {
	skiff, images, outDir    string
	nodeName                 string
	clusterCIDR, serviceCIDR string
	pods, clients            int
	rawWorkers, warmup       int
	idle, timeout            time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.skiff, "skiff", "", "path of the skiff binary (required)")
	flag.StringVar(&o.images, "images", "bin/images", "directory with pause.tar and busybox.tar (`make images`)")
	flag.StringVar(&o.outDir, "out-dir", "", "write agent-<date>.txt and agent-latest.txt here (default: print only)")
	flag.StringVar(&o.nodeName, "node-name", "skiff-bench-node", "the node's name")
	flag.StringVar(&o.clusterCIDR, "cluster-cidr", "10.44.0.0/16", "pod range (kept apart from the e2e tests' 10.42.0.0/16)")
	flag.StringVar(&o.serviceCIDR, "service-cidr", "10.45.0.0/16", "service range")
	flag.IntVar(&o.pods, "pods", 100, "pods per measured phase (a node takes 110)")
	flag.IntVar(&o.clients, "clients", 8, "goroutines creating and deleting pods in a burst")
	flag.IntVar(&o.rawWorkers, "raw-workers", 16, "goroutines of the raw CRI burst (the agent's pod workers: 16)")
	flag.IntVar(&o.warmup, "warmup", 3, "pods (and raw sandboxes) started and removed before measuring")
	flag.DurationVar(&o.idle, "idle", 5*time.Second, "how long a server idles before its memory is read")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	if o.skiff == "" || o.pods <= 0 || o.pods > 110 || o.clients <= 0 || o.rawWorkers <= 0 || o.warmup < 0 {
		fmt.Fprintln(os.Stderr, "usage: agent --skiff PATH [flags]; 0 < --pods <= 110, positive counts")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if err := preflight(o); err != nil {
		fmt.Fprintln(os.Stderr, "cannot run the agent benchmark:", err)
		os.Exit(1)
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

// preflight checks what the agent needs, so that a missing piece fails
// with a clear message instead of a node that never gets Ready.
func preflight(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("it must run as root: the node agent starts containerd and containers")
	}
	for _, bin := range []string{"containerd", "runc", "ctr", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not on PATH (Debian: apt-get install containerd runc iproute2, or `make deps`): %w", bin, err)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "portmap"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", plugin)); err != nil {
			return fmt.Errorf("CNI plugin missing (Debian: containernetworking-plugins): %w", err)
		}
	}
	for _, img := range []string{"pause.tar", "busybox.tar"} {
		if _, err := os.Stat(filepath.Join(o.images, img)); err != nil {
			return fmt.Errorf("image archive missing (build with `make images` or pass --images): %w", err)
		}
	}
	return nil
}

// copyImages puts the archives the benchmark needs where the agent
// imports them from.
func copyImages(from, dataDir string) error {
	to := filepath.Join(dataDir, "agent", "images")
	if err := os.MkdirAll(to, 0o755); err != nil {
		return fmt.Errorf("images dir: %w", err)
	}
	for _, name := range []string{"pause.tar", "busybox.tar"} {
		src, err := os.Open(filepath.Join(from, name))
		if err != nil {
			return fmt.Errorf("image archive: %w", err)
		}
		dst, err := os.Create(filepath.Join(to, name))
		if err == nil {
			_, err = io.Copy(dst, src)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("copying %s: %w", name, err)
		}
	}
	return nil
}

// sleepCtx waits d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func hostInfo() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	load, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(load))
	if len(f) > 3 {
		f = f[:3]
	}
	return fmt.Sprintf("%d CPUs (%s), Linux %s, load average at start: %s", runtime.NumCPU(), model,
		strings.TrimSpace(string(kernel)), strings.Join(f, " "))
}

func skiffVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
