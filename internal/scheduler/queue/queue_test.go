package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/queue"
	v1 "k8s.io/api/core/v1"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) step(d time.Duration) { c.t = c.t.Add(d) }

func newQueue(c *clock) *queue.PriorityQueue {
	interest := func(ev framework.ClusterEvent) map[string]bool {
		switch ev {
		case framework.NodeAdd:
			return map[string]bool{"NodeResourcesFit": true, "NodeAffinity": true}
		case framework.AssignedPodDelete:
			return map[string]bool{"NodeResourcesFit": true}
		}
		return map[string]bool{}
	}
	return queue.New(queue.Options{Now: c.now, Interest: interest})
}

func pop(t *testing.T, q *queue.PriorityQueue) *queue.QueuedPodInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	return p
}

func TestPriorityOrder(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(tu.Pod("low", "", "", tu.Priority(1)))
	c.step(time.Second)
	q.Add(tu.Pod("high", "", "", tu.Priority(10)))
	c.step(time.Second)
	q.Add(tu.Pod("low2", "", "", tu.Priority(1)))
	for _, want := range []string{"high", "low", "low2"} {
		if got := pop(t, q).Pod.Name; got != want {
			t.Fatalf("popped %s, want %s", got, want)
		}
	}
	if q.SchedulingCycle() != 3 {
		t.Errorf("cycle %d", q.SchedulingCycle())
	}
}

func TestUnschedulableAndEvents(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(tu.Pod("cpu", "", ""))
	q.Add(tu.Pod("sel", "", ""))
	a, b := pop(t, q), pop(t, q)
	a.UnschedulablePlugins = map[string]bool{"NodeResourcesFit": true}
	b.UnschedulablePlugins = map[string]bool{"NodeAffinity": true}
	if a.Pod.Name != "cpu" {
		a, b = b, a
	}
	q.AddUnschedulable(a, true)
	q.AddUnschedulable(b, true)
	if _, _, u, _ := q.Lengths(); u != 2 {
		t.Fatalf("unschedulable pool %d", u)
	}
	// A pod deletion frees resources: only the cpu pod may benefit; it
	// already waited out its 1s back-off.
	c.step(2 * time.Second)
	q.MoveOnEvent(framework.AssignedPodDelete, nil)
	active, backoff, unsched, _ := q.Lengths()
	if active != 1 || backoff != 0 || unsched != 1 {
		t.Fatalf("after pod delete: active %d backoff %d unschedulable %d", active, backoff, unsched)
	}
	if p := pop(t, q); p.Pod.Name != "cpu" || p.Attempts != 2 {
		t.Errorf("popped %s attempt %d", p.Pod.Name, p.Attempts)
	}
	// A new node may help the other (its 1s back-off is over).
	q.MoveOnEvent(framework.NodeAdd, nil)
	if p := pop(t, q); p.Pod.Name != "sel" {
		t.Errorf("popped %s", p.Pod.Name)
	}
}

func TestBackoff(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(tu.Pod("p", "", ""))
	p := pop(t, q)
	q.AddUnschedulable(p, false) // an error: back off 1s
	if active, backoff, _, _ := q.Lengths(); active != 0 || backoff != 1 {
		t.Fatalf("active %d backoff %d", active, backoff)
	}
	c.step(500 * time.Millisecond)
	q.FlushBackoffCompleted()
	if active, _, _, _ := q.Lengths(); active != 0 {
		t.Fatal("left back-off early")
	}
	c.step(600 * time.Millisecond)
	q.FlushBackoffCompleted()
	p = pop(t, q)
	q.AddUnschedulable(p, false) // second failure: 2s
	c.step(1500 * time.Millisecond)
	q.FlushBackoffCompleted()
	if active, _, _, _ := q.Lengths(); active != 0 {
		t.Fatal("second back-off shorter than 2s")
	}
	c.step(time.Second)
	q.FlushBackoffCompleted()
	if active, _, _, _ := q.Lengths(); active != 1 {
		t.Fatal("second back-off longer than 2s")
	}
	// Back-off is capped at 10s.
	p = pop(t, q)
	p.Attempts = 20
	q.AddUnschedulable(p, false)
	c.step(10*time.Second + time.Millisecond)
	q.FlushBackoffCompleted()
	if active, _, _, _ := q.Lengths(); active != 1 {
		t.Fatal("back-off not capped at 10s")
	}
}

func TestEventDuringCycleBacksOff(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(tu.Pod("p", "", ""))
	p := pop(t, q)
	q.MoveOnEvent(framework.NodeAdd, nil) // while p is being scheduled
	p.UnschedulablePlugins = map[string]bool{"NodeResourcesFit": true}
	q.AddUnschedulable(p, true)
	if _, backoff, unsched, _ := q.Lengths(); backoff != 1 || unsched != 0 {
		t.Errorf("backoff %d unschedulable %d: the pod missed the event", backoff, unsched)
	}
}

func TestLeftoverFlush(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	q.Add(tu.Pod("p", "", ""))
	p := pop(t, q)
	p.UnschedulablePlugins = map[string]bool{"Other": true}
	q.AddUnschedulable(p, true)
	c.step(4 * time.Minute)
	q.FlushUnschedulableLeftover()
	if _, _, u, _ := q.Lengths(); u != 1 {
		t.Fatal("flushed too early")
	}
	c.step(2 * time.Minute)
	q.FlushUnschedulableLeftover()
	if a, _, _, _ := q.Lengths(); a != 1 {
		t.Fatal("not flushed after 5 minutes")
	}
}

func TestUpdatesAndGates(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	gatedPod := tu.Pod("g", "", "", func(p *v1.Pod) { p.Spec.SchedulingGates = []v1.PodSchedulingGate{{Name: "wait"}} })
	q.Add(gatedPod)
	if _, _, _, g := q.Lengths(); g != 1 {
		t.Fatal("gated pod not held")
	}
	ungated := gatedPod.DeepCopy()
	ungated.Spec.SchedulingGates = nil
	q.Update(gatedPod, ungated)
	if p := pop(t, q); p.Pod.Name != "g" {
		t.Fatal("ungated pod not active")
	}

	q.Add(tu.Pod("u", "", ""))
	p := pop(t, q)
	p.UnschedulablePlugins = map[string]bool{"Other": true}
	q.AddUnschedulable(p, true)
	// A status-only update (our own condition) does not retry the pod.
	st := p.Pod.DeepCopy()
	st.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse}}
	q.Update(p.Pod, st)
	if _, _, u, _ := q.Lengths(); u != 1 {
		t.Fatal("status update retried the pod")
	}
	// A label change does (after back-off).
	lbl := st.DeepCopy()
	lbl.Labels["x"] = "y"
	c.step(2 * time.Second)
	q.Update(st, lbl)
	if a, _, u, _ := q.Lengths(); a != 1 || u != 0 {
		t.Fatalf("label update: active %d unschedulable %d", a, u)
	}
	q.Delete(lbl)
	if a, b, u, g := q.Lengths(); a+b+u+g != 0 {
		t.Fatal("delete left the pod queued")
	}
}

func TestNominator(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	q := newQueue(c)
	nominated := tu.Pod("n", "", "", func(p *v1.Pod) { p.Status.NominatedNodeName = "node-1" })
	q.Add(nominated)
	if got := q.NominatedPodsForNode("node-1"); len(got) != 1 || got[0].Pod.Name != "n" {
		t.Fatalf("nominated %v", got)
	}
	other := framework.NewPodInfo(tu.Pod("o", "", ""), 0)
	q.AddNominated(other, "node-1")
	if len(q.NominatedPodsForNode("node-1")) != 2 {
		t.Fatal("AddNominated")
	}
	q.DeleteNominated(other.Pod.UID)
	q.Delete(nominated)
	if len(q.NominatedPodsForNode("node-1")) != 0 {
		t.Fatal("nominations left")
	}
}

func TestPopUnblocksOnClose(t *testing.T) {
	q := queue.New(queue.Options{})
	done := make(chan error, 1)
	go func() {
		_, err := q.Pop(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	q.Close()
	select {
	case err := <-done:
		if err != queue.ErrClosed {
			t.Errorf("err %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Pop did not return after Close")
	}
}
