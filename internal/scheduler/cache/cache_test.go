package cache_test

import (
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/cache"
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	v1 "k8s.io/api/core/v1"
)

func TestAssumeConfirmForget(t *testing.T) {
	c := cache.New(nil)
	c.AddNode(tu.Node("n1", "4", "8Gi"))
	c.AddNode(tu.Node("n2", "4", "8Gi"))
	snap := framework.NewEmptySnapshot()
	pod := tu.Pod("p", "1", "1Gi")
	pi := framework.NewPodInfo(pod, 0)
	if err := c.AssumePod(pi, "n1"); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != "" {
		t.Fatal("AssumePod modified the pod")
	}
	if err := c.AssumePod(pi, "n1"); err == nil {
		t.Error("assuming twice succeeded")
	}
	c.UpdateSnapshot(snap)
	if got := snap.Get("n1").Requested.MilliCPU; got != 1000 {
		t.Fatalf("assumed pod not counted: %d", got)
	}
	if !c.IsAssumed(pod.UID) {
		t.Error("not assumed")
	}
	// The binding is observed (on another node, say): confirmed there.
	bound := pod.DeepCopy()
	bound.Spec.NodeName = "n2"
	c.AddPod(bound)
	c.UpdateSnapshot(snap)
	if snap.Get("n1").Requested.MilliCPU != 0 || snap.Get("n2").Requested.MilliCPU != 1000 || c.IsAssumed(pod.UID) {
		t.Errorf("after confirm: n1 %d n2 %d assumed %v", snap.Get("n1").Requested.MilliCPU, snap.Get("n2").Requested.MilliCPU, c.IsAssumed(pod.UID))
	}
	c.ForgetPod(bound) // no effect on confirmed pods
	c.UpdateSnapshot(snap)
	if snap.Get("n2").Requested.MilliCPU != 1000 {
		t.Error("ForgetPod removed a confirmed pod")
	}
	other := framework.NewPodInfo(tu.Pod("q", "2", ""), 0)
	_ = c.AssumePod(other, "n1")
	c.ForgetPod(other.Pod)
	c.RemovePod(bound)
	c.UpdateSnapshot(snap)
	if snap.Get("n1").Requested.MilliCPU != 0 || snap.Get("n2").Requested.MilliCPU != 0 {
		t.Error("resources left behind")
	}
	if nodes, pods, assumed := c.Counts(); nodes != 2 || pods != 0 || assumed != 0 {
		t.Errorf("counts %d %d %d", nodes, pods, assumed)
	}
}

func TestSnapshotIncrementalAndOrder(t *testing.T) {
	c := cache.New(nil)
	for _, n := range []*v1.Node{
		tu.Node("a1", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "a")),
		tu.Node("a2", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "a")),
		tu.Node("b1", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "b")),
		tu.Node("b2", "1", "1Gi", tu.Labels(v1.LabelTopologyZone, "b")),
	} {
		c.AddNode(n)
	}
	snap := framework.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	var order []string
	for _, ni := range snap.Nodes {
		order = append(order, ni.Name())
	}
	if want := []string{"a1", "b1", "a2", "b2"}; len(order) != 4 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Errorf("zones not interleaved: %v", order)
	}
	a1 := snap.Get("a1")
	b1Gen := snap.Get("b1").Generation
	// A pod with anti-affinity on a1: only a1 is refreshed (in place).
	c.AddPod(tu.Pod("p", "", "", tu.On("a1"), func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{
			{LabelSelector: tu.Selector("a", "b"), TopologyKey: v1.LabelHostname}}}}
	}))
	c.UpdateSnapshot(snap)
	if snap.Get("a1") != a1 || len(a1.Pods) != 1 || snap.Get("b1").Generation != b1Gen {
		t.Error("snapshot not refreshed in place / other nodes touched")
	}
	if len(snap.WithRequiredAntiAffinity) != 1 || snap.WithRequiredAntiAffinity[0].Name() != "a1" || len(snap.WithAffinity) != 1 {
		t.Errorf("affinity lists %d %d", len(snap.WithRequiredAntiAffinity), len(snap.WithAffinity))
	}
	c.RemoveNode(tu.Node("b2", "1", "1Gi"))
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 3 || snap.Get("b2") != nil {
		t.Errorf("removed node still in snapshot (%d nodes)", snap.NumNodes())
	}
	// A pod whose node is unknown is kept until the node arrives.
	c.AddPod(tu.Pod("early", "1", "", tu.On("c1")))
	c.UpdateSnapshot(snap)
	if snap.Get("c1") != nil {
		t.Error("node without object in snapshot")
	}
	c.AddNode(tu.Node("c1", "2", "1Gi"))
	c.UpdateSnapshot(snap)
	if ni := snap.Get("c1"); ni == nil || ni.Requested.MilliCPU != 1000 {
		t.Error("pod that arrived before its node not counted")
	}
}
