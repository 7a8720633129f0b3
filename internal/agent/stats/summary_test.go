package stats

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func cpu(at time.Time, total uint64, nanoCores *uint64) *runtimeapi.CpuUsage {
	u := &runtimeapi.CpuUsage{Timestamp: at.UnixNano(), UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: total}}
	if nanoCores != nil {
		u.UsageNanoCores = &runtimeapi.UInt64Value{Value: *nanoCores}
	}
	return u
}

func mem(at time.Time, ws uint64) *runtimeapi.MemoryUsage {
	return &runtimeapi.MemoryUsage{Timestamp: at.UnixNano(), WorkingSetBytes: &runtimeapi.UInt64Value{Value: ws},
		UsageBytes: &runtimeapi.UInt64Value{Value: ws + 100}, RssBytes: &runtimeapi.UInt64Value{Value: ws / 2}}
}

func sandbox(id, ns, name, uid string, attempt uint32, c *runtimeapi.CpuUsage, m *runtimeapi.MemoryUsage) *runtimeapi.PodSandboxStats {
	return &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{Id: id, Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: ns, Uid: uid, Attempt: attempt}},
		Linux:      &runtimeapi.LinuxPodSandboxStats{Cpu: c, Memory: m},
	}
}

func container(id, name, podUID string, attempt uint32, c *runtimeapi.CpuUsage, m *runtimeapi.MemoryUsage) *runtimeapi.ContainerStats {
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{Id: id, Metadata: &runtimeapi.ContainerMetadata{Name: name, Attempt: attempt},
			Labels: map[string]string{labelPodUID: podUID, labelPodName: "orphan", labelPodNamespace: "ns2", labelContainerName: name}},
		Cpu: c, Memory: m,
	}
}

func ptr[T any](v T) *T { return &v }

func testInput(at time.Time, scale uint64) Input {
	return Input{
		NodeName: "node-1",
		Node: NodeSample{Time: at, CPUUsageCoreNanoSeconds: 100e9 * scale,
			Memory: NodeMemory{Total: 8 << 30, Free: 2 << 30, InactiveFile: 1 << 30, AnonPages: 512 << 20}},
		Sandboxes: []*runtimeapi.PodSandboxStats{
			sandbox("sb-old", "ns", "web", "uid-web", 0, cpu(at, 1, nil), mem(at, 1)),
			sandbox("sb-web", "ns", "web", "uid-web", 1, cpu(at, 3e9*scale, ptr[uint64](7)), mem(at, 3000)),
			sandbox("sb-db", "db", "pg", "uid-db", 0, nil, nil),
		},
		Containers: []*runtimeapi.ContainerStats{
			container("c-app-0", "app", "uid-web", 0, cpu(at, 9e9, nil), mem(at, 9)),
			container("c-app-1", "app", "uid-web", 1, cpu(at, 2e9*scale, nil), mem(at, 2000)),
			container("c-side", "sidecar", "uid-web", 0, cpu(at, 1e9*scale, ptr[uint64](11)), mem(at, 1000)),
			container("c-exited", "job", "uid-web", 0, nil, nil),
			container("c-pg", "pg", "uid-db", 0, cpu(at, 4e9*scale, ptr[uint64](40)), mem(at, 400)),
			container("c-pg2", "exporter", "uid-db", 0, cpu(at, 1e9*scale, ptr[uint64](10)), mem(at, 100)),
			container("c-orphan", "x", "uid-orphan", 0, cpu(at, 5e9, ptr[uint64](5)), mem(at, 5)),
			{Attributes: &runtimeapi.ContainerAttributes{Id: "unlabelled", Metadata: &runtimeapi.ContainerMetadata{Name: "y"}}, Cpu: cpu(at, 1, nil)},
		},
		StartTimes: map[string]time.Time{"c-app-1": at.Add(-time.Minute), "c-app-0": at.Add(-time.Hour)},
	}
}

func TestSummary(t *testing.T) {
	var b Builder
	s := b.Summary(testInput(t0, 1))

	if s.Node.NodeName != "node-1" || *s.Node.CPU.UsageCoreNanoSeconds != 100e9 || s.Node.CPU.UsageNanoCores != nil {
		t.Fatalf("node cpu %+v", s.Node.CPU)
	}
	if *s.Node.Memory.WorkingSetBytes != 5<<30 || *s.Node.Memory.UsageBytes != 6<<30 || *s.Node.Memory.AvailableBytes != 3<<30 || *s.Node.Memory.RSSBytes != 512<<20 {
		t.Fatalf("node memory %+v", s.Node.Memory)
	}

	var refs []string
	for _, p := range s.Pods {
		refs = append(refs, p.PodRef.Namespace+"/"+p.PodRef.Name+"/"+p.PodRef.UID)
	}
	if got := strings.Join(refs, ","); got != "db/pg/uid-db,ns/web/uid-web,ns2/orphan/uid-orphan" {
		t.Fatalf("pods %s", got)
	}
	db, web, orphan := s.Pods[0], s.Pods[1], s.Pods[2]

	// The newest sandbox attempt and the latest-started container win;
	// containers without stats are left out.
	if len(web.Containers) != 2 || web.Containers[0].Name != "app" || web.Containers[1].Name != "sidecar" {
		t.Fatalf("web containers %+v", web.Containers)
	}
	if *web.CPU.UsageCoreNanoSeconds != 3e9 || *web.CPU.UsageNanoCores != 7 || *web.Memory.WorkingSetBytes != 3000 {
		t.Fatalf("web pod usage %+v %+v", web.CPU, web.Memory)
	}
	app := web.Containers[0]
	if *app.CPU.UsageCoreNanoSeconds != 2e9 || app.CPU.UsageNanoCores != nil || !app.StartTime.Time.Equal(t0.Add(-time.Minute)) {
		t.Fatalf("app container %+v", app)
	}
	// A sandbox without usage gets the sum of its containers.
	if *db.CPU.UsageCoreNanoSeconds != 5e9 || *db.CPU.UsageNanoCores != 50 || *db.Memory.WorkingSetBytes != 500 || *db.Memory.UsageBytes != 700 {
		t.Fatalf("db pod usage %+v %+v", db.CPU, db.Memory)
	}
	// A container whose sandbox is unknown still shows up, named from labels.
	if len(orphan.Containers) != 1 || *orphan.CPU.UsageCoreNanoSeconds != 5e9 {
		t.Fatalf("orphan %+v", orphan)
	}

	// The second round derives usageNanoCores where the runtime gave none.
	s2 := b.Summary(testInput(t0.Add(10*time.Second), 2))
	if got := s2.Node.CPU.UsageNanoCores; got == nil || *got != 10e9 {
		t.Fatalf("node nano cores %v, want 10e9", got)
	}
	if got := s2.Pods[1].Containers[0].CPU.UsageNanoCores; got == nil || *got != 2e8 {
		t.Fatalf("app nano cores %v, want 2e8", got)
	}
	if got := s2.Pods[1].CPU.UsageNanoCores; got == nil || *got != 7 {
		t.Fatalf("runtime-provided nano cores replaced: %v", got)
	}
}

func TestSummaryJSONFieldNames(t *testing.T) {
	var b Builder
	in := Input{
		NodeName:   "n",
		Node:       NodeSample{Time: t0, CPUUsageCoreNanoSeconds: 1, Memory: NodeMemory{Total: 10, Free: 4}},
		Sandboxes:  []*runtimeapi.PodSandboxStats{sandbox("sb", "ns", "p", "u", 0, cpu(t0, 2, ptr[uint64](3)), mem(t0, 4))},
		Containers: []*runtimeapi.ContainerStats{container("c", "c1", "u", 0, cpu(t0, 5, ptr[uint64](6)), nil)},
	}
	data, err := json.Marshal(b.Summary(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"node":{"nodeName":"n","cpu":{"time":"2026-05-01T12:00:00Z","usageCoreNanoSeconds":1},` +
		`"memory":{"time":"2026-05-01T12:00:00Z","availableBytes":4,"usageBytes":6,"workingSetBytes":6,"rssBytes":0}},` +
		`"pods":[{"podRef":{"name":"p","namespace":"ns","uid":"u"},` +
		`"containers":[{"name":"c1","cpu":{"time":"2026-05-01T12:00:00Z","usageNanoCores":6,"usageCoreNanoSeconds":5}}],` +
		`"cpu":{"time":"2026-05-01T12:00:00Z","usageNanoCores":3,"usageCoreNanoSeconds":2},` +
		`"memory":{"time":"2026-05-01T12:00:00Z","usageBytes":104,"workingSetBytes":4,"rssBytes":2}}]}`
	if string(data) != want {
		t.Fatalf("json\n got %s\nwant %s", data, want)
	}
}

func TestWriteResourceMetrics(t *testing.T) {
	var b Builder
	in := Input{
		NodeName: "n",
		Node:     NodeSample{Time: t0, CPUUsageCoreNanoSeconds: 1500e6, Memory: NodeMemory{Total: 2e9, Free: 1e9}},
		Sandboxes: []*runtimeapi.PodSandboxStats{
			sandbox("sb", "ns", "p", "u", 0, cpu(t0.Add(time.Millisecond), 2e9, nil), mem(t0, 4096)),
		},
		Containers: []*runtimeapi.ContainerStats{
			container("c2", "zeta", "u", 0, cpu(t0, 1e9, nil), mem(t0, 2048)),
			container("c1", `we"ird`, "u", 0, cpu(t0, 25e7, nil), nil),
		},
		StartTimes: map[string]time.Time{"c2": t0.Add(-90 * time.Second)},
	}
	var out bytes.Buffer
	if err := WriteResourceMetrics(&out, b.Summary(in), false); err != nil {
		t.Fatal(err)
	}
	ms := t0.UnixMilli()
	want := strings.NewReplacer("MS1", itoa(ms+1), "MS", itoa(ms), "START", itoa(ms-90000)).Replace(
		`# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="we\"ird",namespace="ns",pod="p"} 0.25 MS
container_cpu_usage_seconds_total{container="zeta",namespace="ns",pod="p"} 1 MS
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="zeta",namespace="ns",pod="p"} 2048 MS
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="zeta",namespace="ns",pod="p"} 1.77763671e+09 START
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 1.5 MS
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1e+09 MS
# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="ns",pod="p"} 2 MS1
# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes
# TYPE pod_memory_working_set_bytes gauge
pod_memory_working_set_bytes{namespace="ns",pod="p"} 4096 MS
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
`)
	if out.String() != want {
		t.Fatalf("metrics\n got:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	if err := WriteResourceMetrics(&out, Summary{}, true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "resource_scrape_error 1\n") || strings.Contains(out.String(), "node_") {
		t.Fatalf("empty summary output:\n%s", out.String())
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
