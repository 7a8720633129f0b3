// Command proxy benchmarks Skiff's service proxy backends (iptables and
// nftables) against a real kernel: for each backend, in a fresh network
// namespace of its own, it builds N Services with 5 endpoints each from
// API objects with the proxy's state builder, times the first full sync
// of the backend's Syncer and then single-endpoint changes, and loads the
// full text the Syncer generated with the tool alone (iptables-restore
// without --noflush, nft -f) into another fresh namespace as the
// reference. The iptables Syncer runs twice: with the system's iptables
// tools (iptables-nft here) and with iptables-legacy. It also times the rule computation without a kernel. The
// host's own network namespace is never written to. Needs root, ip,
// iptables-restore and nft. Results go to <out-dir>/proxy-<date>.txt and
// <out-dir>/proxy-latest.txt.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	Services, IPTablesServices, Endpoints, Changes, PureRounds int
	NoflushRef                                                 bool
	Backends                                                   string
	OutDir                                                     string
	Timeout                                                    time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.Services, "services", 10000, "Services (each with one port and one EndpointSlice)")
	flag.IntVar(&o.IPTablesServices, "iptables-services", 0, "Services for the iptables backends (0: --services)")
	flag.IntVar(&o.Endpoints, "endpoints", 5, "endpoints per Service")
	flag.IntVar(&o.Changes, "changes", 5, "single-endpoint changes timed after the full sync")
	flag.IntVar(&o.PureRounds, "pure-rounds", 5, "rounds of the rule computation alone")
	flag.BoolVar(&o.NoflushRef, "noflush-ref", true, "also load the iptables text with iptables-restore --noflush as a second reference (with iptables-nft as slow as the full sync)")
	flag.StringVar(&o.Backends, "backends", "nftables,iptables-legacy,iptables",
		"backends to measure, in this order: nftables, iptables (the system's iptables tools, here iptables-nft), "+
			"iptables-legacy (the same Syncer running the iptables-legacy tools)")
	flag.StringVar(&o.OutDir, "out-dir", "", "directory for proxy-<date>.txt and proxy-latest.txt (none: stdout only)")
	flag.DurationVar(&o.Timeout, "timeout", 15*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "proxy bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root (it creates network namespaces)")
	}
	backends := strings.Split(o.Backends, ",")
	for _, b := range backends {
		if b != "iptables" && b != "iptables-legacy" && b != "nftables" {
			return fmt.Errorf("unknown backend %q", b)
		}
	}
	tools := []string{"ip"}
	if slices.Contains(backends, "iptables") {
		tools = append(tools, "iptables", "iptables-restore", "iptables-save")
	}
	if slices.Contains(backends, "iptables-legacy") {
		tools = append(tools, "iptables-legacy", "iptables-legacy-restore", "iptables-legacy-save")
	}
	if slices.Contains(backends, "nftables") {
		tools = append(tools, "nft")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s is not installed: %w", t, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	start := time.Now()
	var results []backendResult
	var failed error
	for _, b := range backends {
		p := params{Services: o.Services, Endpoints: o.Endpoints, Changes: o.Changes, PureRounds: o.PureRounds}
		var r backendResult
		var err error
		if b == "iptables" || b == "iptables-legacy" {
			if o.IPTablesServices > 0 {
				p.Services = o.IPTablesServices
			}
			r, err = measureIPTables(ctx, log, p, b == "iptables-legacy", o.NoflushRef)
		} else {
			r, err = measureNFTables(ctx, log, p)
		}
		if err != nil {
			r.Err = err.Error()
			failed = errors.Join(failed, err)
			log.Error("backend failed", "backend", b, "err", err)
		}
		results = append(results, r)
	}

	h := reportHeader{
		When:    start,
		Machine: fmt.Sprintf("%d CPUs (GOMAXPROCS %d), %s/%s, %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version()),
		Tools:   toolVersions(tools),
		Setup: fmt.Sprintf("ClusterIP Services (one TCP port, one EndpointSlice each) x %d ready endpoints on other nodes, "+
			"state from the objects by state.Builder (cached per Service by resourceVersion), Syncer in a fresh netns per backend (tools run via setns); "+
			"%d changes = one endpoint address replaced (slice resourceVersion bumped), state rebuilt, Sync (rules cached per Service port); raw load = the Syncer's full text "+
			"loaded by the tool alone into another fresh netns (iptables-restore without --noflush, nft -f); "+
			"tool times below are the iptables-restore / nft processes as run by the Syncer; total run %s",
			o.Endpoints, o.Changes, time.Since(start).Round(time.Second)),
		Aim: time.Second,
	}
	var buf bytes.Buffer
	if err := writeReport(&buf, h, results); err != nil {
		return err
	}
	os.Stdout.Write(buf.Bytes())
	if o.OutDir != "" {
		name := filepath.Join(o.OutDir, "proxy-"+start.UTC().Format("20060102-150405")+".txt")
		for _, f := range []string{name, filepath.Join(o.OutDir, "proxy-latest.txt")} {
			if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("writing report: %w", err)
			}
		}
		fmt.Fprintln(os.Stderr, "wrote", name)
	}
	return failed
}

// toolVersions is the first line of `<tool> --version` for the rule
// tools.
func toolVersions(tools []string) string {
	var out []string
	for _, t := range tools {
		if t == "ip" || strings.HasSuffix(t, "-save") || strings.HasSuffix(t, "-restore") {
			continue
		}
		v, err := exec.Command(t, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		out = append(out, firstLines(v, 1))
	}
	return strings.Join(out, "; ")
}
