package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one scenario's merged sample.
type Result struct {
	Case, Op string
	Sample
}

// Env describes the run.
type Env struct {
	Date                      time.Time
	CPUs                      int
	CPUModel, Kernel, LoadAvg string
	GoVersion, SkiffVersion   string
	ServerArgs                string
	Clients, Rounds, Pods     int
	Slice                     time.Duration
}

// Memory is a server's VmRSS around the load.
type Memory struct {
	Label         string
	Before, After int64
}

// Report is everything the text report shows.
type Report struct {
	Env      Env
	Results  []Result
	Memory   []Memory
	AuditLog AuditLog
	Checks   []string
}

// AuditLog is the audit log of the server with auditing on.
type AuditLog struct {
	Path   string
	Bytes  int64
	Events int
	// Dropped is how many events the server said it dropped (queue full).
	Dropped uint64
	// LoadRequests is how many requests of the load (warm-up and rounds,
	// not the set-up) went to the audited server: the log should hold at
	// least as many events.
	LoadRequests int
}

// Ratio is a scenario compared with the admin certificate doing the same
// operation on the audited server: throughput and server CPU per request,
// both as multiples of the reference's. ok is false when there is no
// reference or it measured nothing.
type Ratio struct {
	Throughput, CPU float64
	ok              bool
}

// ratioToAdmin compares r with the caseAdmin result of the same operation.
func ratioToAdmin(results []Result, r Result) Ratio {
	for _, ref := range results {
		if ref.Case != caseAdmin || ref.Op != r.Op || ref.PerSecond() == 0 {
			continue
		}
		out := Ratio{Throughput: r.PerSecond() / ref.PerSecond(), ok: true}
		if c := ref.CPUPerRequest(); c > 0 {
			out.CPU = float64(r.CPUPerRequest()) / float64(c)
		}
		return out
	}
	return Ratio{}
}

// String renders the report as text.
func (rep Report) String() string {
	var b strings.Builder
	e := rep.Env
	fmt.Fprintf(&b, "Skiff authentication and authorization benchmark — %s\n", e.Date.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "host:   %d CPUs (%s), %s, load average at start: %s\n", e.CPUs, e.CPUModel, e.Kernel, e.LoadAvg)
	fmt.Fprintf(&b, "skiff:  %s; `skiff server %s`, 127.0.0.1 only, embedded etcd;\n", e.SkiffVersion, e.ServerArgs)
	fmt.Fprintf(&b, "        audit log on (default policy: Metadata for every request) and a second server with `--audit-log-path none`\n")
	fmt.Fprintf(&b, "client: %s, client-go, %d concurrent workers per scenario sharing one clientset (one HTTP/2 connection),\n", e.GoVersion, e.Clients)
	fmt.Fprintf(&b, "        protobuf, QPS unthrottled; %d rounds of %s per scenario, scenarios interleaved; LIST = %d pods, no limit\n\n", e.Rounds, fmtDur(e.Slice), e.Pods)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\tclient\treq/s\tp50\tp99\tserver CPU/req\tvs admin cert: req/s\tserver CPU/req\trequests\terrors")
	fmt.Fprintln(tw, "---------\t------\t-----\t---\t---\t--------------\t--------------------\t--------------\t--------\t------")
	for _, r := range rep.Results {
		ratio, cpuRatio := "-", "-"
		if r.Case != caseAdmin {
			if q := ratioToAdmin(rep.Results, r); q.ok {
				ratio = fmt.Sprintf("%.2fx", q.Throughput)
				if q.CPU > 0 {
					cpuRatio = fmt.Sprintf("%.2fx", q.CPU)
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", r.Op, r.Case, r.PerSecond(),
			fmtDur(Percentile(r.Latencies, 50)), fmtDur(Percentile(r.Latencies, 99)),
			fmtMicros(r.CPUPerRequest()), ratio, cpuRatio, r.Requests, r.Errors)
	}
	tw.Flush()

	b.WriteString("\nin words (throughput relative to the admin certificate, same operation):\n")
	for _, r := range rep.Results {
		if r.Case == caseAdmin {
			continue
		}
		if q := ratioToAdmin(rep.Results, r); q.ok {
			fmt.Fprintf(&b, "  %s %s: %.2fx of admin (server CPU per request %.2fx)\n", r.Case, r.Op, q.Throughput, q.CPU)
		}
	}
	b.WriteString("\nserver memory (VmRSS):\n")
	for _, m := range rep.Memory {
		fmt.Fprintf(&b, "  %-30s before load %s, after load %s\n", m.Label+":", MB(m.Before), MB(m.After))
	}
	if a := rep.AuditLog; a.Path != "" {
		per := "-"
		if a.Events > 0 {
			per = fmt.Sprintf("%d B/event", a.Bytes/int64(a.Events))
		}
		fmt.Fprintf(&b, "audit log of the audited server: %s, %d events (%s) for %d requests of the load (plus set-up and\n"+
			"  the server's own components); events the server reported dropped: %d\n",
			MB(a.Bytes), a.Events, per, a.LoadRequests, a.Dropped)
	}
	if len(rep.Checks) > 0 {
		b.WriteString("\nauthorization is in the path (checked once before the load):\n")
		for _, c := range rep.Checks {
			b.WriteString("  " + c + "\n")
		}
	}
	b.WriteString("\nnotes: client and servers share the machine's CPUs, so req/s is bounded by both; server CPU/req\n" +
		"  (utime+stime of the server process from /proc, 10 ms ticks, over all requests of the scenario) is the\n" +
		"  steadier figure for what authentication, authorization and audit cost the server. x509 is verified\n" +
		"  once per connection by TLS; a bearer token is verified once per 10 s (the server caches successful logins).\n")
	return b.String()
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	}
}

// fmtMicros prints a duration in microseconds ("-" for 0).
func fmtMicros(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

// MB formats bytes in decimal megabytes.
func MB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
