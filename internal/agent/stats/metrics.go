package stats

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// ContentType is the media type of the /metrics/resource exposition.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// family is one metric family of /metrics/resource.
type family struct {
	name, help, kind string
	samples          []sample
}

// sample is one time series value.
type sample struct {
	labels [][2]string // sorted by name
	value  float64
	at     *time.Time
}

// WriteResourceMetrics writes s as the kubelet's /metrics/resource
// Prometheus text exposition: node, pod and container CPU (cumulative
// core-seconds) and working set memory, container start times and
// resource_scrape_error (1 when scrapeFailed). Samples carry the time of
// their reading in milliseconds; families without samples are left out.
func WriteResourceMetrics(w io.Writer, s Summary, scrapeFailed bool) error {
	bw := bufio.NewWriter(w)
	for _, f := range resourceFamilies(s, scrapeFailed) {
		if len(f.samples) == 0 {
			continue
		}
		fmt.Fprintf(bw, "# HELP %s [STABLE] %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
		for _, smp := range f.samples {
			bw.WriteString(f.name)
			writeLabels(bw, smp.labels)
			bw.WriteByte(' ')
			bw.WriteString(strconv.FormatFloat(smp.value, 'g', -1, 64))
			if smp.at != nil {
				bw.WriteByte(' ')
				bw.WriteString(strconv.FormatInt(smp.at.UnixMilli(), 10))
			}
			bw.WriteByte('\n')
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write resource metrics: %w", err)
	}
	return nil
}

// resourceFamilies lists the families in name order with their samples
// sorted by labels.
func resourceFamilies(s Summary, scrapeFailed bool) []family {
	containerCPU := family{name: "container_cpu_usage_seconds_total", kind: "counter",
		help: "Cumulative cpu time consumed by the container in core-seconds"}
	containerMem := family{name: "container_memory_working_set_bytes", kind: "gauge",
		help: "Current working set of the container in bytes"}
	containerStart := family{name: "container_start_time_seconds", kind: "gauge",
		help: "Start time of the container since unix epoch in seconds"}
	nodeCPU := family{name: "node_cpu_usage_seconds_total", kind: "counter",
		help: "Cumulative cpu time consumed by the node in core-seconds"}
	nodeMem := family{name: "node_memory_working_set_bytes", kind: "gauge",
		help: "Current working set of the node in bytes"}
	podCPU := family{name: "pod_cpu_usage_seconds_total", kind: "counter",
		help: "Cumulative cpu time consumed by the pod in core-seconds"}
	podMem := family{name: "pod_memory_working_set_bytes", kind: "gauge",
		help: "Current working set of the pod in bytes"}
	scrapeErr := family{name: "resource_scrape_error", kind: "gauge",
		help: "1 if there was an error while getting container metrics, 0 otherwise"}

	addCPU(&nodeCPU, s.Node.CPU, nil)
	addMemory(&nodeMem, s.Node.Memory, nil)
	for _, p := range s.Pods {
		podLabels := [][2]string{{"namespace", p.PodRef.Namespace}, {"pod", p.PodRef.Name}}
		addCPU(&podCPU, p.CPU, podLabels)
		addMemory(&podMem, p.Memory, podLabels)
		for _, c := range p.Containers {
			labels := [][2]string{{"container", c.Name}, {"namespace", p.PodRef.Namespace}, {"pod", p.PodRef.Name}}
			addCPU(&containerCPU, c.CPU, labels)
			addMemory(&containerMem, c.Memory, labels)
			if c.StartTime != nil && c.StartTime.Unix() > 0 {
				at := c.StartTime.Time
				containerStart.samples = append(containerStart.samples,
					sample{labels: labels, value: float64(at.UnixNano()) / float64(time.Second), at: &at})
			}
		}
	}
	scrapeErr.samples = []sample{{value: boolValue(scrapeFailed)}}

	families := []family{containerCPU, containerMem, containerStart, nodeCPU, nodeMem, podCPU, podMem, scrapeErr}
	for i := range families {
		slices.SortFunc(families[i].samples, func(a, b sample) int { return compareLabels(a.labels, b.labels) })
	}
	return families
}

// addCPU appends a cumulative CPU sample in core-seconds, if known.
func addCPU(f *family, c *CPUStats, labels [][2]string) {
	if c == nil || c.UsageCoreNanoSeconds == nil {
		return
	}
	at := c.Time.Time
	f.samples = append(f.samples, sample{labels: labels, value: float64(*c.UsageCoreNanoSeconds) / float64(time.Second), at: &at})
}

// addMemory appends a working set sample, if known.
func addMemory(f *family, m *MemoryStats, labels [][2]string) {
	if m == nil || m.WorkingSetBytes == nil {
		return
	}
	at := m.Time.Time
	f.samples = append(f.samples, sample{labels: labels, value: float64(*m.WorkingSetBytes), at: &at})
}

// boolValue is 1 for true and 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// compareLabels orders label sets by their values in label-name order.
func compareLabels(a, b [][2]string) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Compare(a[i][1], b[i][1]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// writeLabels writes {name="value",...} with values escaped as the text
// format requires; nothing for an empty set.
func writeLabels(w *bufio.Writer, labels [][2]string) {
	if len(labels) == 0 {
		return
	}
	w.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(l[0])
		w.WriteString(`="`)
		writeEscaped(w, l[1])
		w.WriteByte('"')
	}
	w.WriteByte('}')
}

// writeEscaped writes a label value with backslash, double quote and
// newline escaped.
func writeEscaped(w *bufio.Writer, v string) {
	for _, r := range v {
		switch r {
		case '\\':
			w.WriteString(`\\`)
		case '"':
			w.WriteString(`\"`)
		case '\n':
			w.WriteString(`\n`)
		default:
			w.WriteRune(r)
		}
	}
}
