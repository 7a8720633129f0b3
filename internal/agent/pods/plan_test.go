package pods

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testPod(policy corev1.RestartPolicy, inits []string, apps ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"}, Spec: corev1.PodSpec{RestartPolicy: policy}}
	for _, n := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n, Image: "img"})
	}
	for _, n := range apps {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "img"})
	}
	return p
}

func running(name string, attempt uint32) *Instance {
	return &Instance{ID: name + "-" + string(rune('a'+attempt)), SandboxID: "sb", Name: name, Attempt: attempt,
		State: runtimeapi.ContainerState_CONTAINER_RUNNING, Started: t0.Add(-time.Minute), Created: t0.Add(-time.Minute + time.Duration(attempt))}
}

func exited(name string, attempt uint32, code int32, finished time.Time) *Instance {
	in := running(name, attempt)
	in.State, in.ExitCode, in.Finished = runtimeapi.ContainerState_CONTAINER_EXITED, code, finished
	return in
}

func observed(ready bool, ins ...*Instance) *Observed {
	o := &Observed{Sandboxes: []Sandbox{{ID: "sb", Ready: ready, IP: "10.42.0.5"}}, Containers: map[string][]*Instance{}}
	for _, in := range ins {
		o.Containers[in.Name] = append(o.Containers[in.Name], in)
	}
	sortObserved(o)
	return o
}

func TestPlanSync(t *testing.T) {
	cases := []struct {
		name        string
		pod         *corev1.Pod
		obs         *Observed
		wantSandbox bool
		wantStart   []string
		wantInit    bool
		wantKill    int
		wantWaiting string
		wantFailed  bool
		wantStopSB  bool
	}{
		{name: "new pod creates sandbox and starts apps", pod: testPod(corev1.RestartPolicyAlways, nil, "a", "b"),
			obs: &Observed{Containers: map[string][]*Instance{}}, wantSandbox: true, wantStart: []string{"a", "b"}},
		{name: "new pod with init starts first init", pod: testPod(corev1.RestartPolicyAlways, []string{"i1", "i2"}, "a"),
			obs: &Observed{Containers: map[string][]*Instance{}}, wantSandbox: true, wantStart: []string{"i1"}, wantInit: true},
		{name: "second init after first succeeded", pod: testPod(corev1.RestartPolicyAlways, []string{"i1", "i2"}, "a"),
			obs: observed(true, exited("i1", 0, 0, t0)), wantStart: []string{"i2"}, wantInit: true},
		{name: "init running waits", pod: testPod(corev1.RestartPolicyAlways, []string{"i1"}, "a"),
			obs: observed(true, running("i1", 0))},
		{name: "apps after inits", pod: testPod(corev1.RestartPolicyAlways, []string{"i1"}, "a"),
			obs: observed(true, exited("i1", 0, 0, t0)), wantStart: []string{"a"}},
		{name: "failed init with Never fails the pod", pod: testPod(corev1.RestartPolicyNever, []string{"i1"}, "a"),
			obs: observed(true, exited("i1", 0, 1, t0)), wantFailed: true},
		{name: "failed init with Always restarts it immediately the first time", pod: testPod(corev1.RestartPolicyAlways, []string{"i1"}, "a"),
			obs: observed(true, exited("i1", 0, 1, t0)), wantStart: []string{"i1"}, wantInit: true},
		{name: "first crash restarts at once", pod: testPod(corev1.RestartPolicyAlways, nil, "a"),
			obs: observed(true, exited("a", 0, 2, t0)), wantStart: []string{"a"}},
		{name: "second crash backs off", pod: testPod(corev1.RestartPolicyAlways, nil, "a"),
			obs: observed(true, exited("a", 1, 2, t0.Add(-time.Second)), exited("a", 0, 2, t0.Add(-time.Minute))), wantWaiting: "CrashLoopBackOff"},
		{name: "back-off over restarts", pod: testPod(corev1.RestartPolicyAlways, nil, "a"),
			obs: observed(true, exited("a", 1, 2, t0.Add(-11*time.Second))), wantStart: []string{"a"}},
		{name: "OnFailure does not restart success", pod: testPod(corev1.RestartPolicyOnFailure, nil, "a", "b"),
			obs: observed(true, exited("a", 0, 0, t0), running("b", 0))},
		{name: "OnFailure restarts failure", pod: testPod(corev1.RestartPolicyOnFailure, nil, "a"),
			obs: observed(true, exited("a", 0, 3, t0)), wantStart: []string{"a"}},
		{name: "finished pod stops its sandbox", pod: testPod(corev1.RestartPolicyNever, nil, "a"),
			obs: observed(true, exited("a", 0, 0, t0)), wantStopSB: true},
		{name: "dead sandbox is replaced and its containers killed", pod: testPod(corev1.RestartPolicyAlways, nil, "a"),
			obs: observed(false, running("a", 0)), wantSandbox: true, wantStart: []string{"a"}, wantKill: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanSync(PlanInput{Pod: tc.pod, Observed: tc.obs, Now: t0})
			if p.CreateSandbox != tc.wantSandbox || p.StartInit != tc.wantInit || p.Failed != tc.wantFailed || p.StopSandbox != tc.wantStopSB {
				t.Errorf("plan = %+v", p)
			}
			if len(p.Start) != len(tc.wantStart) {
				t.Fatalf("start = %v, want %v", p.Start, tc.wantStart)
			}
			for i := range p.Start {
				if p.Start[i] != tc.wantStart[i] {
					t.Errorf("start = %v, want %v", p.Start, tc.wantStart)
				}
			}
			if len(p.Kill) != tc.wantKill {
				t.Errorf("kill = %v, want %d", p.Kill, tc.wantKill)
			}
			if tc.wantWaiting != "" {
				w, ok := p.Waiting["a"]
				if !ok || w.Reason != tc.wantWaiting || p.RetryAfter <= 0 {
					t.Errorf("waiting = %+v retry %v, want %s", p.Waiting, p.RetryAfter, tc.wantWaiting)
				}
			}
		})
	}
}

func TestPlanKillsUnhealthyAndChangedContainers(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, nil, "a", "b")
	a, b := running("a", 0), running("b", 0)
	a.Hash, b.Hash = "h-a", "old"
	p := PlanSync(PlanInput{Pod: pod, Observed: observed(true, a, b), Now: t0,
		Hashes:    map[string]string{"a": "h-a", "b": "new"},
		Unhealthy: map[string]Kill{"a": {ID: a.ID, Name: "a", Reason: "Unhealthy"}}})
	if len(p.Kill) != 2 || p.Kill[0].ID != a.ID || p.Kill[1].ID != b.ID {
		t.Fatalf("kill = %+v", p.Kill)
	}
	// A liveness failure of an earlier instance is stale and ignored.
	p = PlanSync(PlanInput{Pod: pod, Observed: observed(true, running("a", 1), running("b", 0)), Now: t0,
		Unhealthy: map[string]Kill{"a": {ID: a.ID, Name: "a"}}})
	if len(p.Kill) != 0 {
		t.Fatalf("kill = %+v", p.Kill)
	}
}

func TestRestartDelay(t *testing.T) {
	for attempt, want := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute} {
		in := exited("a", uint32(attempt), 1, t0)
		if got := restartDelay(in); got != want {
			t.Errorf("attempt %d: delay %v, want %v", attempt, got, want)
		}
	}
	long := exited("a", 5, 1, t0)
	long.Started = t0.Add(-11 * time.Minute)
	if got := restartDelay(long); got != 0 {
		t.Errorf("long-running container: delay %v, want 0", got)
	}
}

func mustQ(s string) resource.Quantity { return resource.MustParse(s) }

func TestPlanActiveDeadline(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.ActiveDeadlineSeconds = ptr.To(int64(30))
	pod.Status.StartTime = &metav1.Time{Time: t0.Add(-31 * time.Second)}
	p := PlanSync(PlanInput{Pod: pod, Observed: observed(true, running("a", 0)), Now: t0})
	if !p.Failed || p.Reason != "DeadlineExceeded" || len(p.Kill) != 1 || len(p.Start) != 0 {
		t.Fatalf("plan = %+v", p)
	}
	st := ComputeStatus(StatusInput{Pod: pod, Observed: observed(true, running("a", 0)), Now: t0, Failed: p.Failed, Reason: p.Reason, Message: p.Message})
	if st.Phase != corev1.PodFailed || st.Reason != "DeadlineExceeded" {
		t.Fatalf("status phase %s reason %q", st.Phase, st.Reason)
	}
	pod.Status.StartTime = &metav1.Time{Time: t0.Add(-29 * time.Second)}
	if p := PlanSync(PlanInput{Pod: pod, Observed: observed(true, running("a", 0)), Now: t0}); p.Failed {
		t.Fatalf("before the deadline: %+v", p)
	}
}
