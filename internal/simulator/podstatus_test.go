package simulator

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testPod(mut ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1", Generation: 1},
		Spec: corev1.PodSpec{NodeName: "n", RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))}}},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func jobOwned(p *corev1.Pod) {
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "j", UID: "j1"}}
}

func env(now time.Time) podEnv {
	return podEnv{hostIP: netip.MustParseAddr("172.16.0.2"), podIPs: []netip.Addr{netip.MustParseAddr("10.42.0.2")}, now: now, jobDuration: 5 * time.Second}
}

func cond(st *corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	return podCondition(st.Conditions, t)
}

// apply returns the pod with the planned status, as the API would store it.
func apply(p *corev1.Pod, st *corev1.PodStatus) *corev1.Pod {
	q := p.DeepCopy()
	if st != nil {
		q.Status = *st
	}
	return q
}

func TestPlanPodStatusRunning(t *testing.T) {
	p := testPod()
	st, again := planPodStatus(p, env(t0.Add(300*time.Millisecond)))
	if st == nil || again != 0 {
		t.Fatalf("pending pod: status %v, again %v", st, again)
	}
	if st.Phase != corev1.PodRunning || st.PodIP != "10.42.0.2" || st.HostIP != "172.16.0.2" || st.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status = %+v", st)
	}
	if !st.StartTime.Time.Equal(t0) {
		t.Errorf("startTime %v, want %v (to the second)", st.StartTime, t0)
	}
	for _, typ := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		if c := cond(st, typ); c == nil || c.Status != corev1.ConditionTrue {
			t.Errorf("condition %s = %+v", typ, c)
		}
	}
	if c := cond(st, corev1.PodScheduled); !c.LastTransitionTime.Time.Equal(t0.Add(-time.Minute)) {
		t.Errorf("PodScheduled transition time changed: %v", c.LastTransitionTime)
	}
	cs := st.ContainerStatuses
	if len(cs) != 1 || !cs[0].Ready || cs[0].State.Running == nil || cs[0].RestartCount != 0 || !*cs[0].Started ||
		cs[0].ImageID == "" || cs[0].ContainerID == "" || cs[0].Image != "nginx:1.27" {
		t.Errorf("container statuses = %+v", cs)
	}

	// Stored and looked at again later: nothing to do.
	running := apply(p, st)
	if st2, again := planPodStatus(running, env(t0.Add(time.Hour))); st2 != nil || again != 0 {
		t.Errorf("steady running pod replanned: %+v, %v", st2, again)
	}

	// Marked not Ready by the node controller while the agent was away:
	// the agent makes it Ready again.
	notReady := running.DeepCopy()
	cond(&notReady.Status, corev1.PodReady).Status = corev1.ConditionFalse
	st3, _ := planPodStatus(notReady, env(t0.Add(time.Hour)))
	if st3 == nil || cond(st3, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Errorf("not Ready pod not fixed: %+v", st3)
	}
}

func TestPlanPodStatusJob(t *testing.T) {
	p := testPod(jobOwned)
	st, again := planPodStatus(p, env(t0))
	if st == nil || st.Phase != corev1.PodRunning || again != 5*time.Second {
		t.Fatalf("job pod start: %+v, again %v", st, again)
	}
	running := apply(p, st)
	if st, again := planPodStatus(running, env(t0.Add(2*time.Second))); st != nil || again != 3*time.Second {
		t.Fatalf("job pod midway: %+v, again %v", st, again)
	}
	done, again := planPodStatus(running, env(t0.Add(5*time.Second)))
	if done == nil || again != 0 || done.Phase != corev1.PodSucceeded {
		t.Fatalf("job pod end: %+v, again %v", done, again)
	}
	term := done.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 0 || term.Reason != "Completed" || !term.StartedAt.Time.Equal(t0) || !term.FinishedAt.Time.Equal(t0.Add(5*time.Second)) {
		t.Errorf("terminated = %+v", term)
	}
	if c := cond(done, corev1.PodReady); c.Status != corev1.ConditionFalse || c.Reason != "PodCompleted" {
		t.Errorf("Ready = %+v", c)
	}
	if done.PodIP != "10.42.0.2" {
		t.Errorf("finished pod lost its IP")
	}
	if st, _ := planPodStatus(apply(running, done), env(t0.Add(time.Hour))); st != nil {
		t.Errorf("finished pod replanned: %+v", st)
	}
}

func TestPodExit(t *testing.T) {
	ann := func(kv ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Annotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	never := func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		exits bool
		code  int32
		after time.Duration
	}{
		{"plain pod runs for ever", testPod(), false, 0, 0},
		{"job pod succeeds", testPod(jobOwned), true, 0, 5 * time.Second},
		{"job pod with exit code", testPod(jobOwned, ann(AnnotationExitCode, "2")), true, 2, 5 * time.Second},
		{"job pod with duration", testPod(jobOwned, ann(AnnotationRunDuration, "1m")), true, 0, time.Minute},
		{"annotated bare pod", testPod(never, ann(AnnotationExitCode, "1", AnnotationRunDuration, "0s")), true, 1, 0},
		{"annotation ignored with restartPolicy Always", testPod(ann(AnnotationExitCode, "1")), false, 0, 0},
		{"bad exit code ignored", testPod(never, ann(AnnotationExitCode, "x")), false, 0, 0},
		{"non-batch owner named Job", testPod(never, func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Job", Name: "j", UID: "x"}}
		}), false, 0, 0},
	} {
		code, after, exits := podExit(tc.pod, 5*time.Second)
		if exits != tc.exits || code != tc.code || after != tc.after {
			t.Errorf("%s: got (%d, %v, %v), want (%d, %v, %v)", tc.name, code, after, exits, tc.code, tc.after, tc.exits)
		}
	}
}

func TestPlanPodStatusFailed(t *testing.T) {
	p := testPod(func(p *corev1.Pod) {
		p.Spec.RestartPolicy = corev1.RestartPolicyNever
		p.Annotations = map[string]string{AnnotationExitCode: "3", AnnotationRunDuration: "0s"}
	})
	st, _ := planPodStatus(p, env(t0))
	if st == nil || st.Phase != corev1.PodFailed {
		t.Fatalf("status = %+v", st)
	}
	if term := st.ContainerStatuses[0].State.Terminated; term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("terminated = %+v", term)
	}
}

func TestPlanPodStatusVariants(t *testing.T) {
	t.Run("host network uses the node IP", func(t *testing.T) {
		st, _ := planPodStatus(testPod(func(p *corev1.Pod) { p.Spec.HostNetwork = true }), env(t0))
		if st.PodIP != "172.16.0.2" {
			t.Errorf("podIP = %q", st.PodIP)
		}
	})
	t.Run("existing IP is kept", func(t *testing.T) {
		st, _ := planPodStatus(testPod(func(p *corev1.Pod) {
			p.Status.PodIP, p.Status.PodIPs = "10.42.0.9", []corev1.PodIP{{IP: "10.42.0.9"}}
		}), env(t0))
		if st.PodIP != "10.42.0.9" || len(st.PodIPs) != 1 {
			t.Errorf("podIPs = %v", st.PodIPs)
		}
	})
	t.Run("init containers complete, sidecars run", func(t *testing.T) {
		st, _ := planPodStatus(testPod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"},
				{Name: "side", Image: "envoy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
		}), env(t0))
		ics := st.InitContainerStatuses
		if len(ics) != 2 || ics[0].State.Terminated == nil || ics[0].State.Terminated.Reason != "Completed" || ics[1].State.Running == nil {
			t.Errorf("init container statuses = %+v", ics)
		}
	})
	t.Run("readiness gates hold Ready back", func(t *testing.T) {
		p := testPod(func(p *corev1.Pod) {
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}
		})
		st, _ := planPodStatus(p, env(t0))
		if c := cond(st, corev1.PodReady); c.Status != corev1.ConditionFalse || c.Reason != "ReadinessGatesNotReady" {
			t.Errorf("Ready = %+v", c)
		}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "example.com/lb", Status: corev1.ConditionTrue})
		st, _ = planPodStatus(p, env(t0))
		if c := cond(st, corev1.PodReady); c.Status != corev1.ConditionTrue {
			t.Errorf("Ready with the gate True = %+v", c)
		}
		if c := cond(st, "example.com/lb"); c == nil || c.Status != corev1.ConditionTrue {
			t.Errorf("foreign condition lost: %+v", st.Conditions)
		}
	})
}

func TestImageID(t *testing.T) {
	for in, prefix := range map[string]string{
		"nginx:1.27":                       "nginx@sha256:",
		"nginx":                            "nginx@sha256:",
		"localhost:5000/app:v1":            "localhost:5000/app@sha256:",
		"localhost:5000/app":               "localhost:5000/app@sha256:",
		"registry.k8s.io/pause@sha256:abc": "registry.k8s.io/pause@sha256:",
	} {
		got := imageID(in)
		if len(got) != len(prefix)+64 || got[:len(prefix)] != prefix {
			t.Errorf("imageID(%q) = %q", in, got)
		}
	}
}
