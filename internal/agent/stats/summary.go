package stats

import (
	"cmp"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels the agent puts on CRI containers (the kubelet's), used to find a
// container's pod and name.
const (
	labelPodUID        = "io.kubernetes.pod.uid"
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelContainerName = "io.kubernetes.container.name"
)

// nodeKey is the rate key of the node itself; CRI IDs are never empty.
const nodeKey = ""

// Input is one round of raw readings.
type Input struct {
	// NodeName names the node in the summary.
	NodeName string
	// Node is the node's own reading, from ReadNode.
	Node NodeSample
	// Sandboxes is the CRI ListPodSandboxStats result.
	Sandboxes []*runtimeapi.PodSandboxStats
	// Containers is the CRI ListContainerStats result. A container's pod is
	// taken from its io.kubernetes.pod.uid label (or from the sandbox stats
	// that list it); containers without CPU and memory stats (not running)
	// are left out.
	Containers []*runtimeapi.ContainerStats
	// StartTimes optionally gives start times by sandbox or container ID.
	// When a pod has several containers of one name the one started last
	// is reported.
	StartTimes map[string]time.Time
}

// Builder turns readings into summaries, remembering the previous CPU
// samples so it can report usageNanoCores where the runtime does not. It is
// safe for concurrent use; the zero value is ready.
type Builder struct {
	mu    sync.Mutex
	rates cpuRates
}

// Summary builds the /stats/summary document for one round of readings.
// Pods are ordered by namespace and name, containers by name.
func (b *Builder) Summary(in Input) Summary {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]bool{nodeKey: true}

	node := NodeStats{NodeName: in.NodeName}
	if !in.Node.Time.IsZero() {
		at := metav1.NewTime(in.Node.Time)
		usage := in.Node.CPUUsageCoreNanoSeconds
		node.CPU = &CPUStats{Time: at, UsageCoreNanoSeconds: &usage,
			UsageNanoCores: b.rates.nanoCores(nodeKey, in.Node.Time, usage)}
		m := in.Node.Memory
		node.Memory = &MemoryStats{Time: at, AvailableBytes: u64(m.AvailableBytes()), UsageBytes: u64(m.UsageBytes()),
			WorkingSetBytes: u64(m.WorkingSetBytes()), RSSBytes: u64(m.AnonPages)}
	}

	pods := map[string]*podAcc{}
	for _, s := range in.Sandboxes {
		md := s.GetAttributes().GetMetadata()
		if md.GetUid() == "" {
			continue
		}
		acc := pods[md.GetUid()]
		if acc == nil {
			acc = &podAcc{containers: map[string]*runtimeapi.ContainerStats{}}
			pods[md.GetUid()] = acc
		}
		if acc.sandbox == nil || md.GetAttempt() >= acc.sandbox.GetAttributes().GetMetadata().GetAttempt() {
			acc.sandbox = s
			acc.ref = PodReference{Name: md.GetName(), Namespace: md.GetNamespace(), UID: md.GetUid()}
		}
		for _, c := range s.GetLinux().GetContainers() {
			acc.add(c, in.StartTimes)
		}
	}
	for _, c := range in.Containers {
		labels := c.GetAttributes().GetLabels()
		uid := labels[labelPodUID]
		if uid == "" {
			continue
		}
		acc := pods[uid]
		if acc == nil {
			acc = &podAcc{containers: map[string]*runtimeapi.ContainerStats{},
				ref: PodReference{Name: labels[labelPodName], Namespace: labels[labelPodNamespace], UID: uid}}
			pods[uid] = acc
		}
		acc.add(c, in.StartTimes)
	}

	out := Summary{Node: node, Pods: make([]PodStats, 0, len(pods))}
	for _, acc := range pods {
		out.Pods = append(out.Pods, b.podStats(acc, in.StartTimes, seen))
	}
	slices.SortFunc(out.Pods, func(x, y PodStats) int {
		return cmp.Or(cmp.Compare(x.PodRef.Namespace, y.PodRef.Namespace), cmp.Compare(x.PodRef.Name, y.PodRef.Name))
	})
	b.rates.retain(seen)
	return out
}

// podAcc gathers one pod's sandbox and containers.
type podAcc struct {
	ref        PodReference
	sandbox    *runtimeapi.PodSandboxStats
	containers map[string]*runtimeapi.ContainerStats // by container name
}

// add keeps c as the pod's container of its name unless a later-started or
// fresher one is already kept.
func (p *podAcc) add(c *runtimeapi.ContainerStats, starts map[string]time.Time) {
	if c.GetCpu() == nil && c.GetMemory() == nil {
		return
	}
	name := containerName(c)
	if name == "" {
		return
	}
	if old, ok := p.containers[name]; ok && !newer(c, old, starts) {
		return
	}
	p.containers[name] = c
}

// containerName is the container's name in its pod spec.
func containerName(c *runtimeapi.ContainerStats) string {
	if n := c.GetAttributes().GetMetadata().GetName(); n != "" {
		return n
	}
	return c.GetAttributes().GetLabels()[labelContainerName]
}

// newer reports whether a should replace b as the container of its name.
func newer(a, b *runtimeapi.ContainerStats, starts map[string]time.Time) bool {
	sa, aok := starts[a.GetAttributes().GetId()]
	sb, bok := starts[b.GetAttributes().GetId()]
	if aok && bok && !sa.Equal(sb) {
		return sa.After(sb)
	}
	if a.GetAttributes().GetMetadata().GetAttempt() != b.GetAttributes().GetMetadata().GetAttempt() {
		return a.GetAttributes().GetMetadata().GetAttempt() > b.GetAttributes().GetMetadata().GetAttempt()
	}
	return a.GetCpu().GetTimestamp() > b.GetCpu().GetTimestamp()
}

// podStats builds one pod's entry; the pod's usage comes from its sandbox
// stats, or is the sum of its containers' when the runtime gave none.
func (b *Builder) podStats(p *podAcc, starts map[string]time.Time, seen map[string]bool) PodStats {
	ps := PodStats{PodRef: p.ref, Containers: make([]ContainerStats, 0, len(p.containers))}
	for name, c := range p.containers {
		id := c.GetAttributes().GetId()
		seen[id] = true
		ps.Containers = append(ps.Containers, ContainerStats{
			Name:      name,
			StartTime: startTime(starts, id),
			CPU:       b.cpuStats(id, c.GetCpu()),
			Memory:    memoryStats(c.GetMemory()),
		})
	}
	slices.SortFunc(ps.Containers, func(x, y ContainerStats) int { return cmp.Compare(x.Name, y.Name) })

	if p.sandbox != nil {
		id := p.sandbox.GetAttributes().GetId()
		seen[id] = true
		ps.StartTime = startTime(starts, id)
		ps.CPU = b.cpuStats(id, p.sandbox.GetLinux().GetCpu())
		ps.Memory = memoryStats(p.sandbox.GetLinux().GetMemory())
	}
	if ps.CPU == nil {
		ps.CPU = sumCPU(ps.Containers)
	}
	if ps.Memory == nil {
		ps.Memory = sumMemory(ps.Containers)
	}
	return ps
}

// cpuStats converts CRI CPU usage, deriving usageNanoCores from the previous
// sample when the runtime left it out.
func (b *Builder) cpuStats(id string, u *runtimeapi.CpuUsage) *CPUStats {
	if u == nil || u.GetUsageCoreNanoSeconds() == nil {
		return nil
	}
	at := time.Unix(0, u.GetTimestamp())
	total := u.GetUsageCoreNanoSeconds().GetValue()
	rate := b.rates.nanoCores(id, at, total)
	if v := u.GetUsageNanoCores(); v != nil {
		rate = u64(v.GetValue())
	}
	return &CPUStats{Time: metav1.NewTime(at), UsageCoreNanoSeconds: &total, UsageNanoCores: rate}
}

// memoryStats converts CRI memory usage.
func memoryStats(u *runtimeapi.MemoryUsage) *MemoryStats {
	if u == nil {
		return nil
	}
	return &MemoryStats{
		Time:            metav1.NewTime(time.Unix(0, u.GetTimestamp())),
		AvailableBytes:  value(u.GetAvailableBytes()),
		UsageBytes:      value(u.GetUsageBytes()),
		WorkingSetBytes: value(u.GetWorkingSetBytes()),
		RSSBytes:        value(u.GetRssBytes()),
	}
}

// sumCPU adds up container CPU stats; nil when no container has any. The
// rate is only given when every container has one.
func sumCPU(cs []ContainerStats) *CPUStats {
	var out *CPUStats
	rateKnown := true
	var total, rate uint64
	for _, c := range cs {
		if c.CPU == nil {
			continue
		}
		if out == nil {
			out = &CPUStats{Time: c.CPU.Time}
		}
		if c.CPU.Time.After(out.Time.Time) {
			out.Time = c.CPU.Time
		}
		total += deref(c.CPU.UsageCoreNanoSeconds)
		if c.CPU.UsageNanoCores == nil {
			rateKnown = false
		}
		rate += deref(c.CPU.UsageNanoCores)
	}
	if out != nil {
		out.UsageCoreNanoSeconds = &total
		if rateKnown {
			out.UsageNanoCores = &rate
		}
	}
	return out
}

// sumMemory adds up container memory stats; nil when no container has any.
func sumMemory(cs []ContainerStats) *MemoryStats {
	var out *MemoryStats
	var usage, ws, rss uint64
	for _, c := range cs {
		if c.Memory == nil {
			continue
		}
		if out == nil {
			out = &MemoryStats{Time: c.Memory.Time}
		}
		if c.Memory.Time.After(out.Time.Time) {
			out.Time = c.Memory.Time
		}
		usage += deref(c.Memory.UsageBytes)
		ws += deref(c.Memory.WorkingSetBytes)
		rss += deref(c.Memory.RSSBytes)
	}
	if out != nil {
		out.UsageBytes, out.WorkingSetBytes, out.RSSBytes = &usage, &ws, &rss
	}
	return out
}

// startTime looks an ID up in starts.
func startTime(starts map[string]time.Time, id string) *metav1.Time {
	t, ok := starts[id]
	if !ok || t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t)
	return &mt
}

// u64 returns a pointer to v.
func u64(v uint64) *uint64 { return &v }

// value unwraps an optional CRI counter.
func value(v *runtimeapi.UInt64Value) *uint64 {
	if v == nil {
		return nil
	}
	return u64(v.GetValue())
}

// deref returns *v, or 0 for nil.
func deref(v *uint64) uint64 {
	if v == nil {
		return 0
	}
	return *v
}
