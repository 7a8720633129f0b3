package prober

import (
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

// harness wires a Manager to a fake clock, a fake runtime and a change
// counter.
type harness struct {
	t       *testing.T
	clock   *clocktesting.FakeClock
	exec    *fakeExec
	events  *record.FakeRecorder
	m       *Manager
	mu      sync.Mutex
	changes int
}

func newHarness(t *testing.T) *harness {
	h := &harness{
		t:      t,
		clock:  clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		exec:   newFakeExec(),
		events: record.NewFakeRecorder(100),
	}
	h.m = New(Config{Exec: h.exec, Clock: h.clock, Recorder: h.events, OnChange: func(types.UID) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.changes++
	}})
	t.Cleanup(h.m.Stop)
	return h
}

func (h *harness) changeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changes
}

// step waits until n workers sleep on the clock, then advances it.
func (h *harness) step(n int, d time.Duration) {
	h.t.Helper()
	eventually(h.t, "workers waiting", func() bool { return h.clock.Waiters() == n })
	h.clock.Step(d)
}

// waitCalls waits until cmd ran at least n times.
func (h *harness) waitCalls(cmd string, n int) {
	h.t.Helper()
	eventually(h.t, cmd+" calls", func() bool { return h.exec.count(cmd) >= n })
}

func probeCmd(cmd string, mutate func(*corev1.Probe)) *corev1.Probe {
	p := execProbe(cmd)
	p.PeriodSeconds, p.TimeoutSeconds, p.SuccessThreshold, p.FailureThreshold = 10, 1, 1, 3
	if mutate != nil {
		mutate(p)
	}
	return p
}

func testPod(c corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-1"},
		Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{c}},
	}
}

func (h *harness) running(id string) map[string]Running {
	return map[string]Running{"app": {ID: id, StartedAt: h.clock.Now()}}
}

func TestNoProbesFollowRunning(t *testing.T) {
	h := newHarness(t)
	pod := testPod(corev1.Container{Name: "app"})
	if h.m.Ready(pod.UID, "app") || h.m.Started(pod.UID, "app") {
		t.Fatal("unknown pod reported ready or started")
	}
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	if !h.m.Started(pod.UID, "app") || !h.m.Ready(pod.UID, "app") {
		t.Fatal("running container without probes not ready")
	}
	h.m.Update(pod, "10.0.0.1", nil)
	if h.m.Started(pod.UID, "app") || h.m.Ready(pod.UID, "app") {
		t.Fatal("stopped container still ready")
	}
}

func TestReadinessThresholds(t *testing.T) {
	h := newHarness(t)
	pod := testPod(corev1.Container{Name: "app", ReadinessProbe: probeCmd("ready", nil)})
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	if h.m.Ready(pod.UID, "app") {
		t.Fatal("ready before the first probe")
	}
	eventually(t, "ready", func() bool { return h.m.Ready(pod.UID, "app") })
	eventually(t, "OnChange after becoming ready", func() bool { return h.changeCount() == 1 })

	h.exec.set("ready", 1, "not yet")
	for i := 1; i <= 2; i++ {
		h.step(1, 10*time.Second)
		h.waitCalls("ready", 1+i)
	}
	if !h.m.Ready(pod.UID, "app") {
		t.Fatal("not ready after 2 failures with failureThreshold 3")
	}
	h.step(1, 10*time.Second)
	eventually(t, "not ready", func() bool { return !h.m.Ready(pod.UID, "app") })
	if got := <-h.events.Events; got != "Warning Unhealthy Readiness probe failed: not yet" {
		t.Fatalf("event %q", got)
	}
}

func TestInitialDelay(t *testing.T) {
	h := newHarness(t)
	pod := testPod(corev1.Container{Name: "app", ReadinessProbe: probeCmd("ready", func(p *corev1.Probe) { p.InitialDelaySeconds = 5 })})
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	h.step(1, 4*time.Second)
	h.step(1, time.Second)
	h.waitCalls("ready", 1)
	eventually(t, "ready", func() bool { return h.m.Ready(pod.UID, "app") })
	if n := h.exec.count("ready"); n != 1 {
		t.Fatalf("probe ran %d times, want 1", n)
	}
}

func TestStartupGatesOtherProbes(t *testing.T) {
	h := newHarness(t)
	h.exec.set("started", 1, "")
	pod := testPod(corev1.Container{
		Name:           "app",
		StartupProbe:   probeCmd("started", func(p *corev1.Probe) { p.FailureThreshold = 30 }),
		LivenessProbe:  probeCmd("alive", nil),
		ReadinessProbe: probeCmd("ready", nil),
	})
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	h.waitCalls("started", 1)
	h.step(3, 10*time.Second)
	h.waitCalls("started", 2)
	if h.exec.count("alive") != 0 || h.exec.count("ready") != 0 {
		t.Fatal("liveness or readiness ran before startup succeeded")
	}
	if h.m.Started(pod.UID, "app") || h.m.Ready(pod.UID, "app") {
		t.Fatal("started before the startup probe succeeded")
	}

	h.exec.set("started", 0, "")
	h.step(3, 10*time.Second)
	eventually(t, "started", func() bool { return h.m.Started(pod.UID, "app") })
	// The readiness probe runs right away once startup succeeds.
	eventually(t, "ready", func() bool { return h.m.Ready(pod.UID, "app") })
}

func TestLivenessFailureReportedOnceAndNewContainerResets(t *testing.T) {
	h := newHarness(t)
	h.exec.set("alive", 1, "dead")
	pod := testPod(corev1.Container{Name: "app", LivenessProbe: probeCmd("alive", func(p *corev1.Probe) { p.FailureThreshold = 2 })})
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	h.waitCalls("alive", 1)
	if _, _, ok := h.m.Failed(pod.UID, "app"); ok {
		t.Fatal("failed below threshold")
	}
	h.step(1, 10*time.Second)
	var id, msg string
	eventually(t, "liveness failure", func() bool {
		var ok bool
		id, msg, ok = h.m.Failed(pod.UID, "app")
		return ok
	})
	if id != "c1" || msg != "Container app failed liveness probe, will be restarted" {
		t.Fatalf("Failed = %q %q", id, msg)
	}
	if _, _, ok := h.m.Failed(pod.UID, "app"); ok {
		t.Fatal("failure reported twice")
	}
	// The worker is on hold: no timers, no more probes.
	eventually(t, "worker idle", func() bool { return h.clock.Waiters() == 0 })
	if !h.m.Ready(pod.UID, "app") {
		t.Fatal("liveness must not affect readiness")
	}

	h.exec.set("alive", 0, "")
	h.m.Update(pod, "10.0.0.1", h.running("c2"))
	h.waitCalls("alive", 3)
	eventually(t, "probe of new container", func() bool { return h.exec.lastID("alive") == "c2" })
}

func TestStartupFailureWithRestartNever(t *testing.T) {
	h := newHarness(t)
	h.exec.set("started", 1, "")
	pod := testPod(corev1.Container{Name: "app", StartupProbe: probeCmd("started", func(p *corev1.Probe) { p.FailureThreshold = 1 })})
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	var msg string
	eventually(t, "startup failure", func() bool {
		var ok bool
		_, msg, ok = h.m.Failed(pod.UID, "app")
		return ok
	})
	if msg != "Container app failed startup probe" {
		t.Fatalf("message %q", msg)
	}
	if h.m.Started(pod.UID, "app") {
		t.Fatal("started after startup failure")
	}
}

func TestDeletionSettlesLiveness(t *testing.T) {
	h := newHarness(t)
	h.exec.set("alive", 1, "dead")
	h.exec.set("started", 1, "")
	pod := testPod(corev1.Container{
		Name:          "app",
		StartupProbe:  probeCmd("started", nil),
		LivenessProbe: probeCmd("alive", func(p *corev1.Probe) { p.FailureThreshold = 1 }),
	})
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	h.waitCalls("started", 1)

	deleting := pod.DeepCopy()
	now := metav1.NewTime(h.clock.Now())
	deleting.DeletionTimestamp = &now
	before := h.changeCount()
	h.m.Update(deleting, "10.0.0.1", h.running("c1"))
	if !h.m.Started(pod.UID, "app") {
		t.Fatal("terminating container not treated as started")
	}
	if h.changeCount() != before+1 {
		t.Fatal("OnChange not called when deletion settled startup")
	}
	eventually(t, "workers stopped", func() bool { return h.clock.Waiters() == 0 })
	if _, _, ok := h.m.Failed(pod.UID, "app"); ok {
		t.Fatal("liveness failure reported for a terminating pod")
	}
	if n := h.exec.count("alive"); n != 0 {
		t.Fatalf("liveness ran %d times during termination", n)
	}
}

func TestRemoveAndContainerStopEndWorkers(t *testing.T) {
	h := newHarness(t)
	pod := testPod(corev1.Container{Name: "app", ReadinessProbe: probeCmd("ready", nil), LivenessProbe: probeCmd("alive", nil)})
	h.m.Update(pod, "10.0.0.1", h.running("c1"))
	eventually(t, "ready", func() bool { return h.m.Ready(pod.UID, "app") })
	h.step(2, 0)

	h.m.Update(pod, "10.0.0.1", nil)
	eventually(t, "workers stopped", func() bool { return h.clock.Waiters() == 0 })
	if h.m.Ready(pod.UID, "app") {
		t.Fatal("stopped container ready")
	}

	h.m.Update(pod, "10.0.0.1", h.running("c2"))
	eventually(t, "ready again", func() bool { return h.m.Ready(pod.UID, "app") })
	h.m.Remove(pod.UID)
	eventually(t, "workers stopped after Remove", func() bool { return h.clock.Waiters() == 0 })
	if h.m.Ready(pod.UID, "app") || h.m.Started(pod.UID, "app") {
		t.Fatal("removed pod still reported")
	}
}

// captureRecorder keeps the objects and messages of recorded events.
type captureRecorder struct {
	mu   sync.Mutex
	refs []*corev1.ObjectReference
	msgs []string
}

func (c *captureRecorder) Event(obj runtime.Object, eventtype, reason, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ref, _ := obj.(*corev1.ObjectReference)
	c.refs = append(c.refs, ref)
	c.msgs = append(c.msgs, eventtype+" "+reason+" "+message)
}

func (c *captureRecorder) Eventf(obj runtime.Object, eventtype, reason, format string, args ...any) {
	c.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

func (c *captureRecorder) AnnotatedEventf(obj runtime.Object, _ map[string]string, eventtype, reason, format string, args ...any) {
	c.Eventf(obj, eventtype, reason, format, args...)
}

func (c *captureRecorder) first() (*corev1.ObjectReference, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.refs) == 0 {
		return nil, "", false
	}
	return c.refs[0], c.msgs[0], true
}

func TestSidecarProbeEventFieldPath(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ex := newFakeExec()
	ex.set("ready", 1, "nope")
	rec := &captureRecorder{}
	m := New(Config{Exec: ex, Clock: clk, Recorder: rec})
	t.Cleanup(m.Stop)

	always := corev1.ContainerRestartPolicyAlways
	pod := testPod(corev1.Container{Name: "app"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &always, ReadinessProbe: probeCmd("ready", nil)}}
	m.Update(pod, "10.0.0.1", map[string]Running{"proxy": {ID: "s1"}, "app": {ID: "a1"}})

	var ref *corev1.ObjectReference
	var msg string
	eventually(t, "event", func() bool {
		var ok bool
		ref, msg, ok = rec.first()
		return ok
	})
	if msg != "Warning Unhealthy Readiness probe failed: nope" {
		t.Fatalf("event %q", msg)
	}
	if ref == nil || ref.Kind != "Pod" || ref.Name != "web" || ref.Namespace != "ns" || ref.UID != "uid-1" || ref.FieldPath != "spec.initContainers{proxy}" {
		t.Fatalf("event object %+v", ref)
	}
	if m.Ready(pod.UID, "proxy") || !m.Ready(pod.UID, "app") {
		t.Fatal("readiness of sidecar/app wrong")
	}
}
