package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Reference figures: real Kubernetes v1.32 (apiserver, etcd, scheduler and
// controller-manager) measured on this 2-core machine, and Skiff's aims.
const (
	k8sReadyMin     = 3100 * time.Millisecond
	k8sReadyMax     = 3800 * time.Millisecond
	k8sIdleRSS      = 430e6 // bytes
	k8sCreateMin    = 450.0 // pods/s
	k8sCreateMax    = 620.0
	k8sList         = 900 * time.Millisecond
	aimReady        = time.Second
	aimIdleRSS      = 100e6
	aimCreateFactor = 3.0 // times Kubernetes' create rate
	aimCreate       = 1500.0
	aimList         = k8sList // "well under" it
)

// Env describes where and how the benchmark ran.
type Env struct {
	Date         time.Time
	CPUs         int
	CPUModel     string
	Kernel       string
	LoadAvg      string
	GoVersion    string
	SkiffVersion string
	ServerArgs   string
}

// Results is everything one run measured.
type Results struct {
	Env      Env
	Pods     int
	Clients  int
	ListRuns int
	Idle     time.Duration

	Etcd *EtcdBaseline

	ReadyFresh   Summary // fresh data dir: includes generating the CA and certificates
	ReadyRestart Summary // same data dir again
	Shutdown     Summary // SIGTERM to exit, idle server
	IdleMem      ProcMem
	LoadMem      ProcMem // after the creates and lists

	Create         LoadResult
	PodStoredBytes int // size of one stored pod in etcd, 0 if unknown

	ListProto       Summary // typed List, decoded, protobuf
	ListJSON        Summary // typed List, decoded, JSON
	ListProtoRaw    Summary // body read, not decoded
	ListJSONRaw     Summary
	ListProtoBytes  int
	ListJSONBytes   int
	ListTablePaged  Summary // Table, limit=500, all pages
	Kubectl         Summary // real kubectl get pods (N=0: not run)
	KubectlSkipNote string
}

// fmtDur prints a duration with a unit suited to its size.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
}

func spread(s Summary) string {
	if s.N == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%s (min %s, max %s, n=%d)", fmtDur(s.Median), fmtDur(s.Min), fmtDur(s.Max), s.N)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// better formats a ratio reference/skiff (>1: skiff is better) with the
// words for better and worse, e.g. "3.0x faster" or "2.0x slower".
func better(ratio float64, good, bad string) string {
	if ratio >= 1 || ratio <= 0 {
		return fmt.Sprintf("%.1fx %s", ratio, good)
	}
	return fmt.Sprintf("%.1fx %s", 1/ratio, bad)
}

// timesRange formats how many times better skiff is than a reference
// range, where higher-is-better says whether bigger numbers are better.
func timesRange(lo, hi float64) string {
	if lo == hi {
		return fmt.Sprintf("%.1fx", lo)
	}
	return fmt.Sprintf("%.1f–%.1fx", lo, hi)
}

// Write prints the summary table.
func (r *Results) Write(w io.Writer) {
	e := r.Env
	fmt.Fprintf(w, "Skiff API server benchmark — %s\n", e.Date.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "host:   %d CPUs (%s), %s, load average at start: %s\n", e.CPUs, e.CPUModel, e.Kernel, e.LoadAvg)
	fmt.Fprintf(w, "skiff:  %s; `skiff server %s`, 127.0.0.1 only, embedded etcd (RSS is apiserver+etcd)\n", e.SkiffVersion, e.ServerArgs)
	fmt.Fprintf(w, "client: %s, client-go, %d concurrent clients sharing one clientset, QPS unthrottled, protobuf\n", e.GoVersion, r.Clients)
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tskiff\taim\tKubernetes v1.32 here\tskiff vs Kubernetes\tskiff vs raw etcd (same run)\tresult")
	fmt.Fprintln(tw, "------\t-----\t---\t---------------------\t-------------------\t----------------------------\t------")

	// (a) start-up.
	rf := r.ReadyFresh.Median
	fmt.Fprintf(tw, "ready: start to /readyz ok, fresh data dir\t%s\t< %s\t%s–%s\t%s as fast\t-\t%s\n",
		spread(r.ReadyFresh), fmtDur(aimReady), fmtDur(k8sReadyMin), fmtDur(k8sReadyMax),
		timesRange(k8sReadyMin.Seconds()/rf.Seconds(), k8sReadyMax.Seconds()/rf.Seconds()), verdict(rf > 0 && rf < aimReady))
	if r.ReadyRestart.N > 0 {
		rr := r.ReadyRestart.Median
		fmt.Fprintf(tw, "ready: restart on the same data dir\t%s\t-\t%s–%s\t%s as fast\t-\tinfo\n",
			spread(r.ReadyRestart), fmtDur(k8sReadyMin), fmtDur(k8sReadyMax),
			timesRange(k8sReadyMin.Seconds()/rr.Seconds(), k8sReadyMax.Seconds()/rr.Seconds()))
	}

	// (b) memory.
	fmt.Fprintf(tw, "idle RSS (VmRSS, %s after ready)\t%s\t< %s\t~%s\t%s\t-\t%s\n",
		r.Idle, MB(r.IdleMem.VmRSS), MB(aimIdleRSS), MB(k8sIdleRSS),
		better(k8sIdleRSS/float64(max(r.IdleMem.VmRSS, 1)), "smaller", "larger"), verdict(r.IdleMem.VmRSS > 0 && r.IdleMem.VmRSS < aimIdleRSS))

	// (c) creates.
	rate := r.Create.PerSecond()
	etcdNote := "-"
	if r.Etcd != nil {
		etcdNote = fmt.Sprintf("%.0f%% of raw put rate (%.0f/s)", 100*rate/r.Etcd.Put.PerSecond(), r.Etcd.Put.PerSecond())
	}
	fmt.Fprintf(tw, "pod creates/s (%d pods, %d clients)\t%.0f/s in %s\t>= %.0f/s (%gx)\t%.0f–%.0f/s\t%s\t%s\t%s\n",
		r.Create.N, r.Create.Clients, rate, fmtDur(r.Create.Wall), aimCreate, aimCreateFactor, k8sCreateMin, k8sCreateMax,
		timesRange(rate/k8sCreateMax, rate/k8sCreateMin), etcdNote, verdict(rate >= aimCreate && r.Create.Errors == 0))
	etcdLat := "-"
	if r.Etcd != nil {
		etcdLat = fmt.Sprintf("raw put p50 %s, p99 %s", fmtDur(r.Etcd.Put.Latency.P50), fmtDur(r.Etcd.Put.Latency.P99))
	}
	fmt.Fprintf(tw, "pod create latency p50 / p99\t%s / %s\t-\t-\t-\t%s\tinfo\n",
		fmtDur(r.Create.Latency.P50), fmtDur(r.Create.Latency.P99), etcdLat)

	// (d) lists.
	list := func(name string, s Summary, bytes int, aim, full bool) {
		aimCol, res := "-", "info"
		if aim {
			aimCol, res = "< "+fmtDur(aimList), verdict(s.Median > 0 && s.Median < aimList)
		}
		if bytes > 0 {
			name += fmt.Sprintf(", %.1f MB body", float64(bytes)/1e6)
		}
		vsEtcd := "-"
		if full && r.Etcd != nil && r.Etcd.Range.Median > 0 {
			vsEtcd = fmt.Sprintf("%.1fx raw range (%s)", s.Median.Seconds()/r.Etcd.Range.Median.Seconds(), fmtDur(r.Etcd.Range.Median))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t~%s\t%s\t%s\t%s\n", name, spread(s), aimCol, fmtDur(k8sList),
			better(k8sList.Seconds()/s.Median.Seconds(), "faster", "slower"), vsEtcd, res)
	}
	n := r.Pods
	list(fmt.Sprintf("LIST %d pods, protobuf, decoded", n), r.ListProto, 0, true, true)
	list(fmt.Sprintf("LIST %d pods, JSON, decoded", n), r.ListJSON, 0, true, true)
	list(fmt.Sprintf("LIST %d pods, protobuf, body only", n), r.ListProtoRaw, r.ListProtoBytes, false, true)
	list(fmt.Sprintf("LIST %d pods, JSON, body only", n), r.ListJSONRaw, r.ListJSONBytes, false, true)
	list(fmt.Sprintf("LIST %d pods, Table, limit=500 pages (kubectl-style)", n), r.ListTablePaged, 0, false, false)
	if r.Kubectl.N > 0 {
		fmt.Fprintf(tw, "`kubectl get pods` (real kubectl, whole command)\t%s\t-\t-\t-\t-\tinfo\n", spread(r.Kubectl))
	} else if r.KubectlSkipNote != "" {
		fmt.Fprintf(tw, "`kubectl get pods`\t%s\t\t\t\t\t\n", r.KubectlSkipNote)
	}

	// Extras.
	fmt.Fprintf(tw, "RSS after creates and lists (VmRSS / peak VmHWM)\t%s / %s\t-\t-\t-\t-\tinfo\n", MB(r.LoadMem.VmRSS), MB(r.LoadMem.VmHWM))
	if r.Shutdown.N > 0 {
		fmt.Fprintf(tw, "graceful shutdown (SIGTERM to exit)\t%s\t-\t-\t-\t-\tinfo\n", spread(r.Shutdown))
	}
	tw.Flush()

	fmt.Fprintln(w)
	if r.Etcd != nil {
		fmt.Fprintf(w, "raw etcd reference (standalone embedded etcd in the benchmark process, same settings and in-process client as skiff,\n")
		fmt.Fprintf(w, "  measured just before skiff's creates while the skiff process idled):\n")
		fmt.Fprintf(w, "  put %d keys x %d B, %d goroutines: %.0f/s in %s, latency p50 %s p99 %s\n",
			r.Etcd.Put.N, r.Etcd.ValueSize, r.Etcd.Put.Clients, r.Etcd.Put.PerSecond(), fmtDur(r.Etcd.Put.Wall),
			fmtDur(r.Etcd.Put.Latency.P50), fmtDur(r.Etcd.Put.Latency.P99))
		fmt.Fprintf(w, "  range of all %d keys (linearizable): %s\n", r.Etcd.RangeKeys, spread(r.Etcd.Range))
	}
	if r.PodStoredBytes > 0 {
		fmt.Fprintf(w, "  (one benchmark pod is stored by skiff as %d bytes in etcd)\n", r.PodStoredBytes)
	}
	fmt.Fprintf(w, "memory detail: idle RssAnon %s, RssFile %s; after load RssAnon %s, RssFile %s\n",
		MB(r.IdleMem.RssAnon), MB(r.IdleMem.RssFile), MB(r.LoadMem.RssAnon), MB(r.LoadMem.RssFile))
	fmt.Fprintln(w, "notes: ratios against the raw etcd run are the noise-resistant figures (same machine, same minute);")
	fmt.Fprintln(w, "  Kubernetes figures were measured once on this machine type and are only indicative.")
	fmt.Fprintln(w, "  LIST timings are medians after one warm-up run; 'decoded' includes client-go decoding into a PodList.")
	if r.Kubectl.N > 0 {
		fmt.Fprintf(w, "  `kubectl get pods` fetches %d pages of 500 and is dominated by kubectl's own client-side rate limit\n", (r.Pods+499)/500)
		fmt.Fprintln(w, "  (QPS 5, burst 10): it is not comparable with the LIST figures.")
	}
}

// String is the summary table as text.
func (r *Results) String() string {
	var b strings.Builder
	r.Write(&b)
	return b.String()
}
