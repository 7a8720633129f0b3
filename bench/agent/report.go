package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// The aim for pod start latency on this machine and Kubernetes' SLO
// (pod startup latency, excluding image pulls, p99 per cluster-day).
const (
	aimP99 = time.Second
	sloP99 = 5 * time.Second
	// idleNoise is how far the idle RSS of two fresh server processes
	// drifts apart from run to run (garbage-collector timing; -7 to +6 MB
	// seen between the --disable-agent server and the one with the
	// agent): an idle share within it says only "small".
	idleNoise = 10e6
)

// procSet is the memory of the server and of the runtime at one moment.
type procSet struct {
	server     Mem
	containerd Mem
	shims      Mem
}

// phase is one mode's measurements: the reference sandboxes, then the
// agent's pods started and deleted.
type phase struct {
	name string
	// The agent: create → Running+Ready, split at the binding.
	start, scheduling, node Summary
	startWall               time.Duration
	// The reference: raw CRI sandbox + container start.
	raw     Summary
	rawWall time.Duration
	// Deletion: per pod (delete call → DELETED) and wall; the reference
	// tears its sandboxes down with the same grace period.
	del         Summary
	delWall     time.Duration
	rawTeardown time.Duration
	// teardownNote qualifies the reference teardown ("" when clean).
	teardownNote string
	runtimeEmpty time.Duration // from all pods gone to `ctr c ls` empty
	mem          procSet       // with the pods running
}

// results is everything one run measured.
type results struct {
	started    time.Time
	host       string
	version    string
	runtime    string
	serverArgs string
	pods       int
	clients    int
	rawWorkers int
	idle       time.Duration
	nodeReady  time.Duration // server start → node Ready
	noAgent    Mem           // `skiff server --disable-agent`, idle
	idleMem    procSet       // with the agent, node Ready, no pods
	phases     []phase
	// cgroupLeftovers counts agent pods whose pod cgroup stayed after
	// their deletion (removed by the benchmark).
	cgroupLeftovers int
	cleanupNotes    []string
}

// fmtDur prints a duration with 3 significant digits in ms or s.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

// mb prints bytes in decimal megabytes.
func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// spread is "p50 / p90 / p99 / max".
func spread(s Summary) string {
	return fmt.Sprintf("%s / %s / %s / %s", fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99), fmtDur(s.Max))
}

// verdict checks a p99 against the aim.
func verdict(p99 time.Duration) string {
	if p99 > 0 && p99 < aimP99 {
		return "PASS"
	}
	return "MISS"
}

// overhead is "p50 2.1x, p99 1.8x": the agent's latency over the raw
// runtime's of the same run.
func overhead(agent, raw Summary) string {
	if raw.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %.1fx, p99 %.1fx", Ratio(agent.P50, raw.P50), Ratio(agent.P99, raw.P99))
}

// share is the agent's part of the server's memory: the difference to
// the same server without the agent.
func share(with, without Mem) string {
	if without.RSS == 0 || with.RSS == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f MB", float64(with.RSS-without.RSS)/1e6)
}

func (r *results) write(w io.Writer) {
	fmt.Fprintf(w, "Skiff node agent benchmark — %s\n", r.started.Format(time.RFC3339))
	fmt.Fprintf(w, "host:    %s\n", r.host)
	fmt.Fprintf(w, "skiff:   %s; `skiff server %s`, 127.0.0.1 only; runtime %s started by the agent\n", r.version, r.serverArgs, r.runtime)
	fmt.Fprintf(w, "pods:    busybox `sleep 3600` (image imported, IfNotPresent), restartPolicy Always, no probes, BestEffort,\n")
	fmt.Fprintf(w, "         terminationGracePeriodSeconds %d (sleep as PID 1 ignores SIGTERM: every deletion waits it out)\n", graceSeconds)
	fmt.Fprintf(w, "latency: create call returned → first watch event with phase Running and Ready=True (client clock, watch opened before the creates);\n")
	fmt.Fprintf(w, "         sequential = next pod created when the previous one is Running; burst = %d pods created at once from %d goroutines\n", r.pods, r.clients)
	fmt.Fprintf(w, "raw CRI: the same containerd, directly: RunPodSandbox (pod network) + CreateContainer + StartContainer of the same busybox sleep;\n")
	fmt.Fprintf(w, "         sequential: one sandbox's calls, alternating with the pods (one raw sandbox, one pod, ...) so that both see the same noise;\n")
	fmt.Fprintf(w, "         burst: just before the pods, burst start → that container started (%d goroutines); wall = the raw starts' own time\n", r.rawWorkers)
	fmt.Fprintf(w, "         teardown reference: StopContainer (timeout %d s) + StopPodSandbox + RemovePodSandbox of all sandboxes at once\n\n", graceSeconds)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tskiff\taim\tKubernetes SLO\traw CRI, same run\tskiff / raw\tresult")
	fmt.Fprintln(tw, "------\t-----\t---\t--------------\t-----------------\t-----------\t------")
	for _, p := range r.phases {
		res, aim, slo := "info", "-", "-"
		if p.name == "sequential" {
			res, aim, slo = verdict(p.start.P99), "p99 < "+fmtDur(aimP99), "p99 <= "+fmtDur(sloP99)
		}
		fmt.Fprintf(tw, "pod start, %s, %d pods: p50 / p90 / p99 / max\t%s\t%s\t%s\t%s\t%s\t%s\n",
			p.name, p.start.N, spread(p.start), aim, slo, spread(p.raw), overhead(p.start, p.raw), res)
		fmt.Fprintf(tw, "  of which create → bound (API server, scheduler)\t%s\t-\t-\t-\t-\tinfo\n", spread(p.scheduling))
		fmt.Fprintf(tw, "  of which bound → Running+Ready (agent, runtime, status)\t%s\t-\t-\t-\t-\tinfo\n", spread(p.node))
		fmt.Fprintf(tw, "  %s: first create → last Running (wall)\t%s\t-\t-\t%s\t%.1fx\tinfo\n",
			p.name, fmtDur(p.startWall), fmtDur(p.rawWall), Ratio(p.startWall, p.rawWall))
		fmt.Fprintf(tw, "pod deletion after %s: first delete → all gone from the API\t%s\t-\t-\t%s (teardown%s)\t%.1fx\tinfo\n",
			p.name, fmtDur(p.delWall), fmtDur(p.rawTeardown), p.teardownNote, Ratio(p.delWall, p.rawTeardown))
		fmt.Fprintf(tw, "  per pod: delete call → DELETED event, p50 / p90 / p99 / max\t%s\t-\t-\t-\t-\tinfo\n", spread(p.del))
		fmt.Fprintf(tw, "  last pod gone from the API → containerd empty (`ctr c ls`)\t%s\t-\t-\t-\t-\tinfo\n", fmtDur(p.runtimeEmpty))
	}
	fmt.Fprintf(tw, "server start → node Ready (containerd started, images imported, pod CIDR)\t%s\t-\t-\t-\t-\tinfo\n", fmtDur(r.nodeReady))
	tw.Flush()

	fmt.Fprintf(w, "\nmemory (VmRSS of the process; for the shims also the PSS sum, which shares their common pages fairly):\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "process\tidle, no pods")
	for _, p := range r.phases {
		fmt.Fprintf(tw, "\t%d pods running (%s)", r.pods, p.name)
	}
	fmt.Fprintln(tw)
	row := func(name string, idle string, f func(procSet) string) {
		fmt.Fprintf(tw, "%s\t%s", name, idle)
		for _, p := range r.phases {
			fmt.Fprintf(tw, "\t%s", f(p.mem))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "`skiff server --disable-agent` (API server, etcd, controllers, scheduler)\t%s", mb(r.noAgent.RSS))
	for range r.phases {
		fmt.Fprint(tw, "\t-")
	}
	fmt.Fprintln(tw)
	row("`skiff server` with the agent (the whole process)", mb(r.idleMem.server.RSS), func(s procSet) string { return mb(s.server.RSS) })
	row("  the agent's share (difference to --disable-agent, idle)", share(r.idleMem.server, r.noAgent), func(s procSet) string { return share(s.server, r.noAgent) })
	row("containerd", mb(r.idleMem.containerd.RSS), func(s procSet) string { return mb(s.containerd.RSS) })
	row("shims: count, RSS sum, PSS sum", shimCell(r.idleMem.shims), func(s procSet) string { return shimCell(s.shims) })
	tw.Flush()

	fmt.Fprintf(w, "\nnotes: the machines are shared and noisy: compare runs by the skiff/raw ratios, not by absolute figures.\n")
	fmt.Fprintf(w, "  The aim (p99 < %s) applies to the sequential mode; a burst of %d pods on %s queues behind the runtime itself (see the raw burst).\n",
		fmtDur(aimP99), r.pods, r.cpuNote())
	fmt.Fprintf(w, "  Kubernetes' SLO: p99 pod startup latency <= %s (stateless pods, image pulls excluded) — not measured here.\n", fmtDur(sloP99))
	fmt.Fprintf(w, "  Memory with pods running includes the API server's caches of %d pods; the agent's share there is an upper bound.\n", r.pods)
	if d := r.idleMem.server.RSS - r.noAgent.RSS; r.noAgent.RSS > 0 && d < idleNoise && d > -idleNoise {
		fmt.Fprintf(w, "  The idle share is within the run-to-run drift of two server processes' RSS (±%s): the idle agent costs little, how much is not resolved.\n", mb(idleNoise))
	}
	if len(r.phases) > 0 && r.phases[0].name == "sequential" {
		fmt.Fprintf(w, "  containerd's figure after the sequential phase includes what it kept from the %d raw sandboxes run alongside the pods.\n", r.pods)
	}
	if r.cgroupLeftovers > 0 {
		fmt.Fprintf(w, "  %d deleted pods left their pod cgroup (/kubepods/besteffort/pod<uid>) behind; the benchmark removed them.\n", r.cgroupLeftovers)
	}
	for _, n := range r.cleanupNotes {
		fmt.Fprintf(w, "  cleanup: %s\n", n)
	}
}

func shimCell(m Mem) string {
	if m.Procs == 0 {
		return "none"
	}
	return fmt.Sprintf("%d, %s, %s", m.Procs, mb(m.RSS), mb(m.PSS))
}

func (r *results) cpuNote() string {
	if i := strings.Index(r.host, " CPUs"); i > 0 {
		return r.host[:i] + " CPUs"
	}
	return "this machine"
}

// save writes the report as agent-<date>.txt and agent-latest.txt.
func (r *results) save(dir string) (string, error) {
	var b bytes.Buffer
	r.write(&b)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("results dir: %w", err)
	}
	name := filepath.Join(dir, "agent-"+r.started.Format("20060102-150405")+".txt")
	for _, f := range []string{name, filepath.Join(dir, "agent-latest.txt")} {
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			return "", fmt.Errorf("writing %s: %w", f, err)
		}
	}
	return name, nil
}
