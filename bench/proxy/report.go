package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// backendResult is what one backend measured.
type backendResult struct {
	Name                string
	Services, Endpoints int
	// Build is the time state.Build took before the full sync.
	Build time.Duration
	// Full is the first full sync; FullSize what the Syncer returned for
	// it (bytes for iptables, operations for nftables) and FullTextBytes
	// the size of the text it wrote.
	Full          time.Duration
	FullSize      int
	FullTextBytes int
	// FullTool is the part of Full spent in the tool's load
	// (iptables-restore or nft -f).
	FullTool time.Duration
	// Changes are the single-endpoint syncs, ChangeSizes their sizes and
	// ChangeBuilds the state.Build before each.
	// ChangeTools is the part of each change spent in the tool's load.
	Changes, ChangeBuilds, ChangeTools []time.Duration
	ChangeSizes                        []int
	// Refs are the references: the full text loaded by the tool alone
	// into a fresh namespace; the first is the one ratios are taken
	// against.
	Refs []refResult
	// Pure is the rule computation without a kernel.
	Pure []pureResult
	// Err is set when the backend failed; the rest may be partial.
	Err string
}

// refResult is one reference load.
type refResult struct {
	What string
	Took time.Duration
}

// raw is the main reference's time, 0 if none was measured.
func (r backendResult) raw() time.Duration {
	if len(r.Refs) == 0 {
		return 0
	}
	return r.Refs[0].Took
}

// pureResult is one pure computation timed several times.
type pureResult struct {
	What  string
	Times []time.Duration
}

// summary is the median and maximum of a sample.
type summary struct {
	N           int
	Median, Max time.Duration
}

// percentile is the p-th percentile (0..100) of ds by the nearest-rank
// method; 0 for an empty sample. ds need not be sorted.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	switch {
	case p <= 0:
		return s[0]
	case p >= 100:
		return s[len(s)-1]
	}
	rank := int(float64(len(s))*p/100+0.999999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// median is the middle of ds (the mean of the two middle values for an
// even count); 0 for an empty sample.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(ds []time.Duration) summary {
	return summary{N: len(ds), Median: median(ds), Max: percentile(ds, 100)}
}

// ratio is a/b formatted with two decimals, or "-" when b is 0.
func ratio(a, b time.Duration) string {
	if b <= 0 || a <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// verdict compares d with the aim; "-" when nothing was measured.
func verdict(d, aim time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < aim:
		return "PASS"
	default:
		return "MISS"
	}
}

// ms formats d in milliseconds, with more precision for short times.
func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

// reportHeader describes the run.
type reportHeader struct {
	When                  time.Time
	Machine, Tools, Setup string
	Aim                   time.Duration
}

// writeReport writes the human-readable report.
func writeReport(w io.Writer, h reportHeader, results []backendResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Service proxy benchmark, %s\n", h.When.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "machine: %s\n", h.Machine)
	fmt.Fprintf(&b, "tools: %s\n", h.Tools)
	fmt.Fprintf(&b, "setup: %s\n", h.Setup)
	fmt.Fprintf(&b, "aim: a full sync and one endpoint change well under %s (kube-proxy's full iptables resync takes several seconds at 10k Services)\n\n", h.Aim)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tServices\tfull sync\traw load (ref)\tsyncer/raw\tfull\tchange median\tchange max\tchange\t")
	for _, r := range results {
		c := summarize(r.Changes)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Services, ms(r.Full), ms(r.raw()), ratio(r.Full, r.raw()),
			verdict(r.Full, h.Aim), ms(c.Median), ms(c.Max), verdict(c.Median, h.Aim))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("formatting: %w", err)
	}
	b.WriteString("\n")
	for _, r := range results {
		fmt.Fprintf(&b, "%s details:\n", r.Name)
		if r.Err != "" {
			fmt.Fprintf(&b, "  FAILED: %s\n", r.Err)
		}
		fmt.Fprintf(&b, "  state before the full sync (state.Builder, empty cache): %s; full sync wrote %d %s (%d bytes of text)\n",
			ms(r.Build), r.FullSize, sizeUnit(r.Name), r.FullTextBytes)
		fmt.Fprintf(&b, "  full sync: %s, of which the tool's load %s (%s); the rest is %s\n",
			ms(r.Full), ms(r.FullTool), ratio(r.FullTool, r.Full), fullRest(r.Name))
		for _, ref := range r.Refs {
			fmt.Fprintf(&b, "  reference, %s: %s (syncer/reference %s)\n", ref.What, ms(ref.Took), ratio(r.Full, ref.Took))
		}
		fmt.Fprintf(&b, "  changes (Syncer.Sync only): %s\n", joinDurations(r.Changes))
		fmt.Fprintf(&b, "  of which the tool's load: %s\n", joinDurations(r.ChangeTools))
		fmt.Fprintf(&b, "  state.Builder before each change (recomputes the changed Service only): %s\n", joinDurations(r.ChangeBuilds))
		fmt.Fprintf(&b, "  written per change (%s): %v\n", sizeUnit(r.Name), r.ChangeSizes)
		for _, p := range r.Pure {
			s := summarize(p.Times)
			fmt.Fprintf(&b, "  pure, %s: median %s, max %s (%d rounds)\n", p.What, ms(s.Median), ms(s.Max), s.N)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fullRest says what a full sync does besides the tool's load.
func fullRest(backend string) string {
	if strings.HasPrefix(backend, "iptables") {
		return "computing the rules, iptables-save of both tables and checking/inserting the 8 jumps with iptables"
	}
	return "computing the rules and the transaction, and listing the table's chains"
}

func sizeUnit(backend string) string {
	if strings.HasPrefix(backend, "iptables") {
		return "bytes to iptables-restore"
	}
	return "nft operations"
}

func joinDurations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = ms(d)
	}
	return strings.Join(parts, ", ")
}
