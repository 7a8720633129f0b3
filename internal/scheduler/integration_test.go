package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// env is a real API server with a scheduler running in-process.
type env struct {
	t      *testing.T
	ctx    context.Context
	client kubernetes.Interface
	ns     string
}

func startEnv(t *testing.T) *env {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers, c.DisableScheduler = true, true })
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(s.Client, 0)
	sched, err := scheduler.New(scheduler.Config{Client: s.Client, Informers: factory,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("scheduler did not stop")
		}
		factory.Shutdown()
	})
	e := &env{t: t, ctx: ctx, client: s.Client, ns: "default"}
	return e
}

func (e *env) node(name, cpu, mem string, mutate func(*v1.Node)) {
	e.t.Helper()
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.LabelHostname: name}},
		Status: v1.NodeStatus{
			Capacity: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem),
				v1.ResourcePods: resource.MustParse("110")},
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		}}
	if mutate != nil {
		mutate(n)
	}
	if _, err := e.client.CoreV1().Nodes().Create(e.ctx, n, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("creating node %s: %v", name, err)
	}
}

func podSpec(name, cpu string, mutate func(*v1.Pod)) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "test"}},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "busybox"}}}}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func (e *env) pod(p *v1.Pod) *v1.Pod {
	e.t.Helper()
	out, err := e.client.CoreV1().Pods(e.ns).Create(e.ctx, p, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating pod %s: %v", p.Name, err)
	}
	return out
}

// waitPod polls the pod until cond holds.
func (e *env) waitPod(name string, what string, cond func(*v1.Pod) bool) *v1.Pod {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last *v1.Pod
	for time.Now().Before(deadline) {
		p, err := e.client.CoreV1().Pods(e.ns).Get(e.ctx, name, metav1.GetOptions{})
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("pod %s: timed out waiting until %s; last: node=%q status=%+v", name, what, last.Spec.NodeName, last.Status)
	return nil
}

func (e *env) waitBound(name string) string {
	e.t.Helper()
	return e.waitPod(name, "bound", func(p *v1.Pod) bool { return p.Spec.NodeName != "" }).Spec.NodeName
}

func scheduledCondition(p *v1.Pod) *v1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == v1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func (e *env) waitUnschedulable(name, msg string) *v1.Pod {
	e.t.Helper()
	return e.waitPod(name, "unschedulable with "+msg, func(p *v1.Pod) bool {
		c := scheduledCondition(p)
		return c != nil && c.Status == v1.ConditionFalse && c.Reason == "Unschedulable" && c.Message == msg
	})
}

func (e *env) waitEvent(pod, reason, msg string) {
	e.t.Helper()
	sel := fields.Set{"involvedObject.name": pod, "reason": reason}.AsSelector().String()
	deadline := time.Now().Add(20 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		evs, err := e.client.CoreV1().Events(e.ns).List(e.ctx, metav1.ListOptions{FieldSelector: sel})
		if err == nil {
			seen = seen[:0]
			for _, ev := range evs.Items {
				if ev.InvolvedObject.Name == pod && ev.Reason == reason {
					seen = append(seen, ev.Message)
					if msg == "" || ev.Message == msg {
						return
					}
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("no %s event for %s with message %q; seen %q", reason, pod, msg, seen)
}

func TestSchedulesAndSpreads(t *testing.T) {
	e := startEnv(t)
	for i := 1; i <= 3; i++ {
		e.node(fmt.Sprintf("node-%d", i), "4", "8Gi", nil)
	}
	for i := 0; i < 6; i++ {
		e.pod(podSpec(fmt.Sprintf("p-%d", i), "500m", nil))
	}
	counts := map[string]int{}
	for i := 0; i < 6; i++ {
		counts[e.waitBound(fmt.Sprintf("p-%d", i))]++
	}
	// LeastAllocated spreads equal pods evenly.
	for n, c := range counts {
		if c != 2 {
			t.Errorf("node %s got %d pods, want 2 each: %v", n, c, counts)
		}
	}
	p := e.waitPod("p-0", "PodScheduled=True", func(p *v1.Pod) bool {
		c := scheduledCondition(p)
		return c != nil && c.Status == v1.ConditionTrue
	})
	e.waitEvent("p-0", "Scheduled", fmt.Sprintf("Successfully assigned default/p-0 to %s", p.Spec.NodeName))
}

func TestUnschedulableThenFits(t *testing.T) {
	e := startEnv(t)
	for i := 1; i <= 3; i++ {
		e.node(fmt.Sprintf("node-%d", i), "1", "1Gi", nil)
	}
	e.pod(podSpec("big", "2", nil))
	msg := "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	e.waitUnschedulable("big", msg)
	e.waitEvent("big", "FailedScheduling", msg)
	// A bigger node arrives: the pod leaves the unschedulable pool.
	e.node("node-big", "4", "8Gi", nil)
	if n := e.waitBound("big"); n != "node-big" {
		t.Fatalf("bound to %s, want node-big", n)
	}
}

func TestNodeSelectorTaintsAndCordon(t *testing.T) {
	e := startEnv(t)
	e.node("plain", "4", "8Gi", nil)
	e.node("ssd", "4", "8Gi", func(n *v1.Node) { n.Labels["disk"] = "ssd" })
	e.node("tainted", "4", "8Gi", func(n *v1.Node) {
		n.Labels["disk"] = "ssd"
		n.Spec.Taints = []v1.Taint{{Key: "dedicated", Value: "gpu", Effect: v1.TaintEffectNoSchedule}}
	})
	e.node("cordoned", "4", "8Gi", func(n *v1.Node) { n.Labels["disk"] = "ssd"; n.Spec.Unschedulable = true })
	for i := 0; i < 4; i++ {
		e.pod(podSpec(fmt.Sprintf("sel-%d", i), "100m", func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }))
	}
	for i := 0; i < 4; i++ {
		if n := e.waitBound(fmt.Sprintf("sel-%d", i)); n != "ssd" {
			t.Errorf("sel-%d bound to %s, want ssd", i, n)
		}
	}
	e.pod(podSpec("tolerant", "100m", func(p *v1.Pod) {
		p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		p.Spec.Tolerations = []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "gpu", Effect: v1.TaintEffectNoSchedule}}
		p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
			NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{{Key: v1.LabelHostname, Operator: v1.NodeSelectorOpNotIn, Values: []string{"ssd"}}}}},
		}}}
	}))
	if n := e.waitBound("tolerant"); n != "tainted" {
		t.Errorf("tolerant bound to %s, want tainted", n)
	}
	e.pod(podSpec("nowhere", "100m", func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "nvme"} }))
	e.waitUnschedulable("nowhere", "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
}

func TestPreemption(t *testing.T) {
	e := startEnv(t)
	e.node("only", "2", "4Gi", nil)
	for _, pc := range []*schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "low"}, Value: 10},
		{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000},
	} {
		if _, err := e.client.SchedulingV1().PriorityClasses().Create(e.ctx, pc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.pod(podSpec("low-a", "900m", func(p *v1.Pod) { p.Spec.PriorityClassName = "low" }))
	e.pod(podSpec("low-b", "900m", func(p *v1.Pod) { p.Spec.PriorityClassName = "low" }))
	e.waitBound("low-a")
	e.waitBound("low-b")
	// Same priority: no victims.
	e.pod(podSpec("low-c", "900m", func(p *v1.Pod) { p.Spec.PriorityClassName = "low" }))
	e.waitUnschedulable("low-c", "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")
	// Higher priority: one low pod is evicted and the pod nominated.
	e.pod(podSpec("high", "900m", func(p *v1.Pod) { p.Spec.PriorityClassName = "high" }))
	p := e.waitPod("high", "nominated", func(p *v1.Pod) bool { return p.Status.NominatedNodeName == "only" })
	if c := scheduledCondition(p); c == nil || c.Message != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Errorf("condition after preemption = %+v", c)
	}
	var victim *v1.Pod
	deadline := time.Now().Add(20 * time.Second)
	for victim == nil && time.Now().Before(deadline) {
		for _, n := range []string{"low-a", "low-b"} {
			vp, err := e.client.CoreV1().Pods(e.ns).Get(e.ctx, n, metav1.GetOptions{})
			if (err == nil && vp.DeletionTimestamp != nil) || apierrors.IsNotFound(err) {
				victim = vp
				if victim == nil {
					victim = &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n}}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if victim == nil {
		t.Fatal("no victim was deleted")
	}
	e.waitEvent(victim.Name, "Preempted", "")
	// No kubelet: finish the graceful deletion as one would.
	zero := int64(0)
	if err := e.client.CoreV1().Pods(e.ns).Delete(e.ctx, victim.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if n := e.waitBound("high"); n != "only" {
		t.Fatalf("high bound to %s", n)
	}
	// low-c must not have taken the room.
	if p, _ := e.client.CoreV1().Pods(e.ns).Get(e.ctx, "low-c", metav1.GetOptions{}); p.Spec.NodeName != "" {
		t.Errorf("low-c was bound to %s", p.Spec.NodeName)
	}
	_ = strings.TrimSpace
}
