package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Figures of kube-scheduler v1.32 measured on this machine type (10,000
// pods onto 1,000 simulated nodes, client QPS unthrottled), the aim and
// the record to beat.
const (
	kubeLow, kubeHigh = 152.0, 154.0
	aimFactor         = 5.0
	record            = 3750.0
)

type results struct {
	opts       options
	started    time.Time
	cpus       int
	host       string
	version    string
	core       coreResult
	nodeCreate time.Duration
	rawCreate  time.Duration
	backlog    time.Duration
	// backlogBinding is first to last binding in the backlog phase.
	backlogBinding time.Duration
	e2eCreate      time.Duration
	e2e            time.Duration
	// e2eLag is from the last create to the last binding.
	e2eLag   time.Duration
	srvCPU   float64
	selfCPU  float64
	schedCPU float64
	schedRSS float64
	srvRSS   float64
}

func hostInfo() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if i := strings.Index(l, ":"); i >= 0 {
					model = strings.TrimSpace(l[i+1:])
				}
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(load))
	if len(f) > 3 {
		f = f[:3]
	}
	return fmt.Sprintf("%s, load average at start: %s", model, strings.Join(f, " "))
}

func skiffVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func vsKube(r float64) string {
	return fmt.Sprintf("%.1f–%.1fx", r/kubeHigh, r/kubeLow)
}

func verdict(r float64) string {
	if r >= aimFactor*kubeHigh {
		return "PASS"
	}
	return "MISS"
}

func (r *results) write(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "Skiff scheduler benchmark — %s\n", r.started.Format(time.RFC3339))
	fmt.Fprintf(w, "host:   %d CPUs (%s)\n", r.cpus, r.host)
	fmt.Fprintf(w, "skiff:  %s; `skiff server %s`, 127.0.0.1 only\n", r.version, o.serverArgs)
	fmt.Fprintf(w, "setup:  %d fake Ready nodes (%s CPU, %s, 110 pods, %d zones), pods requesting 100m CPU / 128Mi, %d concurrent creating clients,\n",
		o.nodes, o.nodeCPU, o.nodeMemory, o.zones, o.clients)
	fmt.Fprintf(w, "        scheduler as its own process (scheduler.RunStandalone, as `skiff scheduler`), protobuf, QPS unthrottled; bound = seen on a watch\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tskiff\taim\tkube-scheduler v1.32 here\tskiff vs kube-scheduler\tresult")
	fmt.Fprintln(tw, "------\t-----\t---\t-------------------------\t-----------------------\t------")
	e2e := rate(o.pods, r.e2e)
	fmt.Fprintf(tw, "end to end: %d pods created while scheduling, first create to last bound\t%.0f pods/s in %s\t>= %.0f/s (5x)\t%.0f–%.0f pods/s\t%s\t%s\n",
		o.pods, e2e, r.e2e.Round(time.Millisecond), aimFactor*kubeHigh, kubeLow, kubeHigh, vsKube(e2e), verdict(e2e))
	if r.backlog > 0 {
		b := rate(o.pods, r.backlog)
		fmt.Fprintf(tw, "backlog: %d pods pending, scheduler process start to last bound\t%.0f pods/s in %s\t>= %.0f/s (5x)\t%.0f–%.0f pods/s\t%s\t%s\n",
			o.pods, b, r.backlog.Round(time.Millisecond), aimFactor*kubeHigh, kubeLow, kubeHigh, vsKube(b), verdict(b))
	}
	if r.backlogBinding > 0 {
		b := rate(o.pods, r.backlogBinding)
		fmt.Fprintf(tw, "backlog, binding only: first to last pod bound\t%.0f pods/s in %s\t-\t%.0f–%.0f pods/s\t%s\tinfo\n",
			b, r.backlogBinding.Round(time.Millisecond), kubeLow, kubeHigh, vsKube(b))
	}
	best := max(e2e, rate(o.pods, r.backlog), rate(o.pods, r.backlogBinding))
	fmt.Fprintf(tw, "record to beat (best of the above: %.0f/s)\t-\t%.0f placements/s\t-\t-\t%s\n", best, record,
		map[bool]string{true: "beaten", false: "not beaten"}[best > record])
	tw.Flush()
	fmt.Fprintf(w, "\nreferences measured in the same run:\n")
	fmt.Fprintf(w, "  scheduling algorithm alone (snapshot + default plugins + assume, in memory, 1 goroutine, no API): %.0f placements/s (%d pods in %s)\n",
		r.core.perSecond(), r.core.Pods, r.core.Wall.Round(time.Millisecond))
	if r.rawCreate > 0 {
		fmt.Fprintf(w, "  raw pod creates of this API server (backlog phase, no scheduler running, %d clients): %.0f creates/s (%d in %s)\n",
			o.clients, rate(o.pods, r.rawCreate), o.pods, r.rawCreate.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "  end-to-end phase: the creates alone took %s (%.0f creates/s while binding); the last pod was bound %s after the last create\n",
		r.e2eCreate.Round(time.Millisecond), rate(o.pods, r.e2eCreate), r.e2eLag.Round(time.Millisecond))
	fmt.Fprintf(w, "  (each pod costs the API server a create, a binding and protobuf watch events; the scheduler keeps up with creation)\n")
	fmt.Fprintf(w, "  node creation: %d nodes in %s\n", o.nodes, r.nodeCreate.Round(time.Millisecond))
	fmt.Fprintf(w, "CPU during the end-to-end phase: scheduler %.1f s (%.2f ms/pod), skiff server (API server + etcd) %.1f s (%.2f ms/pod), benchmark clients %.1f s;\n",
		r.schedCPU, 1000*r.schedCPU/float64(o.pods), r.srvCPU, 1000*r.srvCPU/float64(o.pods), r.selfCPU)
	fmt.Fprintf(w, "  together %.2f ms of CPU per pod, %.2f of the %d cores on average (the rest went to other processes on the machine);\n",
		1000*(r.schedCPU+r.srvCPU+r.selfCPU)/float64(o.pods), (r.schedCPU+r.srvCPU+r.selfCPU)/r.e2e.Seconds(), r.cpus)
	fmt.Fprintf(w, "  RSS after: scheduler %.0f MB, server %.0f MB\n", r.schedRSS, r.srvRSS)
	fmt.Fprintf(w, "notes: kube-scheduler figures were measured once on this machine type (152–154 pods/s) and are only indicative;\n")
	fmt.Fprintf(w, "  the machines are shared and noisy: compare runs by the ratio to the raw create rate of the same run.\n")
	if r.rawCreate > 0 {
		fmt.Fprintf(w, "  end-to-end throughput is %.0f%% of the raw create rate of the same run.\n", 100*e2e/rate(o.pods, r.rawCreate))
	}
}

func (r *results) save(dir string) error {
	var b bytes.Buffer
	r.write(&b)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := filepath.Join(dir, "scheduler-"+r.started.Format("20060102-150405")+".txt")
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "scheduler-latest.txt"), b.Bytes(), 0o644)
}
