package pods

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestComputeStatusPhases(t *testing.T) {
	cases := []struct {
		name      string
		pod       *corev1.Pod
		obs       *Observed
		waiting   map[string]Waiting
		wantPhase corev1.PodPhase
		wantReady corev1.ConditionStatus
		wantInit  corev1.ConditionStatus
	}{
		{"nothing yet", testPod(corev1.RestartPolicyAlways, nil, "a"), &Observed{Containers: map[string][]*Instance{}}, nil,
			corev1.PodPending, corev1.ConditionFalse, corev1.ConditionTrue},
		{"running", testPod(corev1.RestartPolicyAlways, nil, "a"), observed(true, running("a", 0)), nil,
			corev1.PodRunning, corev1.ConditionTrue, corev1.ConditionTrue},
		{"initialising", testPod(corev1.RestartPolicyAlways, []string{"i"}, "a"), observed(true, running("i", 0)), nil,
			corev1.PodPending, corev1.ConditionFalse, corev1.ConditionFalse},
		{"succeeded", testPod(corev1.RestartPolicyNever, nil, "a"), observed(false, exited("a", 0, 0, t0)), nil,
			corev1.PodSucceeded, corev1.ConditionFalse, corev1.ConditionTrue},
		{"failed", testPod(corev1.RestartPolicyNever, nil, "a", "b"), observed(false, exited("a", 0, 0, t0), exited("b", 0, 1, t0)), nil,
			corev1.PodFailed, corev1.ConditionFalse, corev1.ConditionTrue},
		{"crash looping stays running", testPod(corev1.RestartPolicyAlways, nil, "a"), observed(true, exited("a", 1, 1, t0)),
			map[string]Waiting{"a": {Reason: "CrashLoopBackOff"}}, corev1.PodRunning, corev1.ConditionFalse, corev1.ConditionTrue},
		{"OnFailure with a failure keeps running", testPod(corev1.RestartPolicyOnFailure, nil, "a"), observed(true, exited("a", 0, 1, t0)), nil,
			corev1.PodRunning, corev1.ConditionFalse, corev1.ConditionTrue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := ComputeStatus(StatusInput{Pod: tc.pod, Observed: tc.obs, Waiting: tc.waiting, HostIP: "192.0.2.2", Now: t0})
			if st.Phase != tc.wantPhase {
				t.Errorf("phase = %s, want %s", st.Phase, tc.wantPhase)
			}
			for _, c := range st.Conditions {
				if c.Type == corev1.PodReady && c.Status != tc.wantReady {
					t.Errorf("Ready = %s, want %s (%s)", c.Status, tc.wantReady, c.Message)
				}
				if c.Type == corev1.PodInitialized && c.Status != tc.wantInit {
					t.Errorf("Initialized = %s, want %s", c.Status, tc.wantInit)
				}
			}
		})
	}
}

func TestComputeStatusContainerStates(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, nil, "a")
	prev := exited("a", 0, 137, t0.Add(-time.Minute))
	prev.Reason = "OOMKilled"
	cur := exited("a", 1, 1, t0)
	st := ComputeStatus(StatusInput{Pod: pod, Observed: observed(true, cur, prev), Now: t0,
		Waiting: map[string]Waiting{"a": {Reason: "CrashLoopBackOff", Message: "back-off 10s"}}})
	cs := st.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
		t.Fatalf("state = %+v", cs.State)
	}
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 || cs.LastTerminationState.Terminated.Reason != "Error" {
		t.Fatalf("last state = %+v", cs.LastTerminationState)
	}
	if cs.RestartCount != 1 || st.PodIP != "10.42.0.5" {
		t.Fatalf("restarts %d ip %s", cs.RestartCount, st.PodIP)
	}
	// Running again: the previous run is the last state, with its reason.
	st = ComputeStatus(StatusInput{Pod: pod, Observed: observed(true, running("a", 1), prev), Now: t0,
		Ready: func(string) bool { return false }})
	cs = st.ContainerStatuses[0]
	if cs.State.Running == nil || cs.Ready || cs.LastTerminationState.Terminated.Reason != "OOMKilled" {
		t.Fatalf("status = %+v", cs)
	}
}

func TestQOSAndResources(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, nil, "a")
	if QOSClass(pod) != corev1.PodQOSBestEffort {
		t.Fatal("want BestEffort")
	}
	c := &pod.Spec.Containers[0]
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: mustQ("32Mi"), corev1.ResourceCPU: mustQ("500m")}
	if QOSClass(pod) != corev1.PodQOSGuaranteed {
		t.Fatal("limits only: want Guaranteed")
	}
	r := resources(pod, c, 1<<30)
	if r.MemoryLimitInBytes != 32<<20 || r.CpuQuota != 50000 || r.CpuPeriod != 100000 || r.CpuShares != 512 || r.OomScoreAdj != 0 {
		t.Fatalf("resources = %+v", r)
	}
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: mustQ("16Mi")}
	if QOSClass(pod) != corev1.PodQOSBurstable {
		t.Fatal("want Burstable")
	}
	if adj := oomScoreAdj(pod, c, 1<<30); adj < 2 || adj > 999 {
		t.Fatalf("oom score adj %d", adj)
	}
}
