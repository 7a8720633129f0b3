package framework_test

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestFitErrorMessage(t *testing.T) {
	unsched := func(r ...string) *framework.Status { return framework.NewStatus(framework.Unschedulable, r...) }
	cases := []struct {
		name string
		err  framework.FitError
		want string
	}{
		{"histogram sorted as strings", framework.FitError{NumAllNodes: 5, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": unsched("Insufficient memory"), "b": unsched("Insufficient memory"), "c": unsched("Insufficient memory"),
			"d": unsched("node(s) had untolerated taint {dedicated: gpu}"), "e": unsched("node(s) were unschedulable"),
		}}}, "0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 3 Insufficient memory."},
		{"several reasons of one node all count", framework.FitError{NumAllNodes: 2, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": unsched("Insufficient cpu", "Insufficient memory"), "b": unsched("Insufficient cpu"),
		}}}, "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."},
		{"with preemption message", framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{
			NodeToStatus:  map[string]*framework.Status{"a": unsched("Insufficient cpu"), "b": unsched("Insufficient cpu"), "c": unsched("Insufficient cpu")},
			PostFilterMsg: "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
		}}, "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."},
		{"prefilter rejection", framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{
			PreFilterMsg: `persistentvolumeclaim "data" not found`, AbsentNodesStatus: unsched(`persistentvolumeclaim "data" not found`),
		}}, `0/3 nodes are available: persistentvolumeclaim "data" not found.`},
		{"absent nodes", framework.FitError{NumAllNodes: 4, Diagnosis: framework.Diagnosis{
			NodeToStatus:      map[string]*framework.Status{"a": unsched("Insufficient cpu")},
			AbsentNodesStatus: framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [NodeAffinity]"),
		}}, "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [NodeAffinity]."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestPodRequests(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	req := func(cpu, mem string) v1.ResourceRequirements {
		return v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem)}}
	}
	cases := []struct {
		name         string
		pod          *v1.Pod
		cpu, mem     int64
		nzCPU, nzMem int64
	}{
		{"no requests", tu.Pod("p", "", ""), 0, 0, framework.DefaultMilliCPURequest, framework.DefaultMemoryRequest},
		{"one container", tu.Pod("p", "250m", "1Gi"), 250, 1 << 30, 250, 1 << 30},
		{"init container larger", tu.Pod("p", "1", "1Gi", func(p *v1.Pod) {
			p.Spec.InitContainers = []v1.Container{{Name: "i", Resources: req("2", "512Mi")}}
		}), 2000, 1 << 30, 2000, 1 << 30},
		{"sidecar adds and raises later init containers", tu.Pod("p", "1", "1Gi", func(p *v1.Pod) {
			p.Spec.InitContainers = []v1.Container{
				{Name: "side", RestartPolicy: &always, Resources: req("500m", "100Mi")},
				{Name: "init", Resources: req("2", "100Mi")},
			}
		}), 2500, 1<<30 + 100<<20, 2500, 1<<30 + 100<<20},
		{"overhead", tu.Pod("p", "1", "1Gi", func(p *v1.Pod) {
			p.Spec.Overhead = v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")}
		}), 1100, 1 << 30, 1100, 1 << 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, nz := framework.PodRequests(c.pod, false), framework.PodRequests(c.pod, true)
			if r.MilliCPU != c.cpu || r.Memory != c.mem || nz.MilliCPU != c.nzCPU || nz.Memory != c.nzMem {
				t.Errorf("requests %d/%d nonzero %d/%d, want %d/%d nonzero %d/%d", r.MilliCPU, r.Memory, nz.MilliCPU, nz.Memory, c.cpu, c.mem, c.nzCPU, c.nzMem)
			}
		})
	}
}

func TestDefaultNormalizeScore(t *testing.T) {
	cases := []struct {
		in, want []int64
		reverse  bool
	}{
		{[]int64{0, 1, 2, 4}, []int64{0, 25, 50, 100}, false},
		{[]int64{0, 1, 2, 4}, []int64{100, 75, 50, 0}, true},
		{[]int64{0, 0}, []int64{0, 0}, false},
		{[]int64{0, 0}, []int64{100, 100}, true},
	}
	for _, c := range cases {
		scores := make([]framework.NodeScore, len(c.in))
		for i, s := range c.in {
			scores[i].Score = s
		}
		framework.DefaultNormalizeScore(framework.MaxNodeScore, c.reverse, scores)
		for i := range scores {
			if scores[i].Score != c.want[i] {
				t.Errorf("%v reverse=%v: got %v, want %v", c.in, c.reverse, scores, c.want)
				break
			}
		}
	}
}

func TestHostPortConflicts(t *testing.T) {
	h := framework.HostPortInfo{}
	h.Add(framework.HostPort{IP: "10.0.0.1", Protocol: v1.ProtocolTCP, Port: 80})
	cases := []struct {
		p    framework.HostPort
		want bool
	}{
		{framework.HostPort{IP: "10.0.0.1", Protocol: v1.ProtocolTCP, Port: 80}, true},
		{framework.HostPort{IP: "0.0.0.0", Protocol: v1.ProtocolTCP, Port: 80}, true},
		{framework.HostPort{IP: "10.0.0.2", Protocol: v1.ProtocolTCP, Port: 80}, false},
		{framework.HostPort{IP: "10.0.0.1", Protocol: v1.ProtocolUDP, Port: 80}, false},
		{framework.HostPort{IP: "10.0.0.1", Protocol: v1.ProtocolTCP, Port: 81}, false},
	}
	for _, c := range cases {
		if got := h.Conflicts(c.p); got != c.want {
			t.Errorf("%+v: conflicts=%v, want %v", c.p, got, c.want)
		}
	}
	h.Remove(framework.HostPort{IP: "10.0.0.1", Protocol: v1.ProtocolTCP, Port: 80})
	if h.Conflicts(framework.HostPort{IP: "0.0.0.0", Protocol: v1.ProtocolTCP, Port: 80}) {
		t.Error("port still used after Remove")
	}
}

func TestNodeInfoAddRemoveClone(t *testing.T) {
	ni := framework.NewNodeInfo()
	ni.SetNode(tu.Node("n", "4", "8Gi"))
	a := framework.NewPodInfo(tu.Pod("a", "1", "1Gi", tu.HostPort(80, v1.ProtocolTCP, "")), 0)
	b := framework.NewPodInfo(tu.Pod("b", "500m", "", func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{
			{LabelSelector: tu.Selector("app", "x"), TopologyKey: v1.LabelHostname}}}}
	}), 0)
	ni.AddPod(a)
	ni.AddPod(b)
	c := ni.Clone()
	if err := ni.RemovePod(a.Pod); err != nil {
		t.Fatal(err)
	}
	if ni.Requested.MilliCPU != 500 || ni.NonZeroRequested.Memory != framework.DefaultMemoryRequest || len(ni.PodsWithRequiredAntiAffinity) != 1 || len(ni.UsedPorts) != 0 {
		t.Errorf("after remove: %+v", ni)
	}
	if c.Requested.MilliCPU != 1500 || len(c.Pods) != 2 || len(c.UsedPorts) != 1 {
		t.Errorf("clone changed: requested %d, %d pods", c.Requested.MilliCPU, len(c.Pods))
	}
	if err := ni.RemovePod(a.Pod); err == nil {
		t.Error("removing a missing pod succeeded")
	}
}

type fakePlugin struct {
	name     string
	preSkip  bool
	reject   map[string]*framework.Status
	score    map[string]int64
	narrowTo []string
}

func (f *fakePlugin) Name() string { return f.name }
func (f *fakePlugin) PreFilter(context.Context, *framework.CycleState, *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	if f.preSkip {
		return nil, framework.NewStatus(framework.Skip)
	}
	if f.narrowTo != nil {
		r := &framework.PreFilterResult{NodeNames: map[string]struct{}{}}
		for _, n := range f.narrowTo {
			r.NodeNames[n] = struct{}{}
		}
		return r, nil
	}
	return nil, nil
}
func (f *fakePlugin) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return f.reject[ni.Name()]
}
func (f *fakePlugin) Score(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	return f.score[ni.Name()], nil
}

func TestFrameworkSkipsAndWeights(t *testing.T) {
	snap := framework.NewSnapshot(nil, tu.Nodes(2, "1", "1Gi"), nil)
	skipped := &fakePlugin{name: "skipped", preSkip: true, reject: map[string]*framework.Status{"node-0": framework.NewStatus(framework.Unschedulable, "no")}}
	active := &fakePlugin{name: "active", reject: map[string]*framework.Status{"node-1": framework.NewStatus(framework.Unschedulable, "busy")},
		score: map[string]int64{"node-0": 10, "node-1": 20}}
	fw, err := framework.NewFramework([]framework.PluginSpec{{Plugin: skipped}, {Plugin: active, Weight: 3}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	state := framework.NewCycleState(snap)
	pod := framework.NewPodInfo(tu.Pod("p", "", ""), 0)
	if _, st, _ := fw.RunPreFilterPlugins(ctx, state, pod); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := fw.RunFilterPlugins(ctx, state, pod, snap.Get("node-0")); !st.IsSuccess() {
		t.Errorf("skipped filter ran: %v", st)
	}
	st := fw.RunFilterPlugins(ctx, state, pod, snap.Get("node-1"))
	if st.Code() != framework.Unschedulable || st.Plugin() != "active" || st.Message() != "busy" {
		t.Errorf("node-1: %v (plugin %q)", st, st.Plugin())
	}
	if st := fw.RunPreScorePlugins(ctx, state, pod, snap.Nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	scores, st := fw.RunScorePlugins(ctx, state, pod, snap.Nodes, nil)
	if !st.IsSuccess() || scores[0].Score != 30 || scores[1].Score != 60 {
		t.Errorf("scores %v %v", scores, st)
	}
	if _, err := framework.NewFramework([]framework.PluginSpec{{Plugin: active}, {Plugin: active}}, 1); err == nil {
		t.Error("duplicate plugin accepted")
	}
}

func TestPreFilterNarrowingToNothing(t *testing.T) {
	a := &fakePlugin{name: "A", narrowTo: []string{"node-0"}}
	b := &fakePlugin{name: "B", narrowTo: []string{"node-1"}}
	fw, _ := framework.NewFramework([]framework.PluginSpec{{Plugin: a}, {Plugin: b}}, 1)
	snap := framework.NewSnapshot(nil, tu.Nodes(2, "1", "1Gi"), nil)
	_, st, _ := fw.RunPreFilterPlugins(context.Background(), framework.NewCycleState(snap), framework.NewPodInfo(tu.Pod("p", "", ""), 0))
	if st.Code() != framework.UnschedulableAndUnresolvable || st.Message() != "node(s) didn't satisfy plugin(s) [A B] simultaneously" {
		t.Errorf("got %v", st)
	}
}
