package prober

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolvePort(t *testing.T) {
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "big", ContainerPort: 70000}}
	tests := []struct {
		name    string
		port    intstr.IntOrString
		want    int
		wantErr string
	}{
		{"number", intstr.FromInt32(80), 80, ""},
		{"name", intstr.FromString("http"), 8080, ""},
		{"missing name", intstr.FromString("grpc"), 0, `port "grpc" not found`},
		{"zero", intstr.FromInt32(0), 0, "invalid port number: 0"},
		{"too big by name", intstr.FromString("big"), 0, "invalid port number: 70000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolvePort(tc.port, ports)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestExpandCommand(t *testing.T) {
	env := []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "EMPTY"}}
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$(A)", "1"},
		{"x$(A)y$(A)", "x1y1"},
		{"$(EMPTY)!", "!"},
		{"$(B)", "$(B)"},
		{"$$(A)", "$(A)"},
		{"$$", "$"},
		{"cost $5", "cost $5"},
		{"$(A", "$(A"},
		{"$()", "$()"},
		{"end$", "end$"},
	}
	for _, tc := range tests {
		if got := expandCommand([]string{tc.in}, env)[0]; got != tc.want {
			t.Errorf("expandCommand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpandCommandUsesOnlyValues(t *testing.T) {
	env := []corev1.EnvVar{
		{Name: "PORT", Value: "8080"},
		{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}},
	}
	got := expandCommand([]string{"check", "--port=$(PORT)", "--s=$(SECRET)"}, env)
	want := []string{"check", "--port=8080", "--s="}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestCombinedOutput(t *testing.T) {
	big := strings.Repeat("x", maxOutput+5)
	tests := []struct {
		name           string
		stdout, stderr string
		want           string
	}{
		{"both", "out\n", "err\n", "out\nerr\n"},
		{"stdout over limit", big, "err", big[:maxOutput]},
		{"stderr fills rest", big[:maxOutput-2], "error", big[:maxOutput-2] + "er"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := combinedOutput([]byte(tc.stdout), []byte(tc.stderr)); got != tc.want {
				t.Fatalf("len %d, want len %d", len(got), len(tc.want))
			}
		})
	}
}

func TestClassifyHTTP(t *testing.T) {
	tests := []struct {
		code       int
		body       string
		wantResult Result
		wantOutput string
	}{
		{200, "ok", Success, "ok"},
		{204, "", Success, ""},
		{302, "moved", Warning, "Probe terminated redirects, Response body: moved"},
		{399, "", Warning, "Probe terminated redirects, Response body: "},
		{400, "secret", Failure, "HTTP probe failed with statuscode: 400"},
		{503, "down", Failure, "HTTP probe failed with statuscode: 503"},
		{199, "", Failure, "HTTP probe failed with statuscode: 199"},
	}
	for _, tc := range tests {
		r, out := classifyHTTP(tc.code, tc.body)
		if r != tc.wantResult || out != tc.wantOutput {
			t.Errorf("classifyHTTP(%d) = %v %q, want %v %q", tc.code, r, out, tc.wantResult, tc.wantOutput)
		}
	}
}

func TestParamsFor(t *testing.T) {
	p := paramsFor(&corev1.Probe{}, Readiness)
	want := params{timeout: time.Second, period: 10 * time.Second, successThreshold: 1, failureThreshold: 3}
	if p != want {
		t.Fatalf("defaults = %+v, want %+v", p, want)
	}
	p = paramsFor(&corev1.Probe{InitialDelaySeconds: 4, TimeoutSeconds: 2, PeriodSeconds: 3, SuccessThreshold: 2, FailureThreshold: 5}, Readiness)
	want = params{initialDelay: 4 * time.Second, timeout: 2 * time.Second, period: 3 * time.Second, successThreshold: 2, failureThreshold: 5}
	if p != want {
		t.Fatalf("explicit = %+v, want %+v", p, want)
	}
	if got := paramsFor(&corev1.Probe{SuccessThreshold: 4}, Liveness).successThreshold; got != 1 {
		t.Fatalf("liveness success threshold = %d, want 1", got)
	}
}

func TestTracker(t *testing.T) {
	s, f := verdictSuccess, verdictFailure
	tests := []struct {
		name        string
		kind        Kind
		params      params
		attempts    []verdict
		wantChanges []bool
		wantFinal   verdict
		wantHold    bool
	}{
		{"readiness starts failed, one success makes ready", Readiness, params{successThreshold: 1, failureThreshold: 3},
			[]verdict{s}, []bool{true}, s, false},
		{"readiness needs success threshold", Readiness, params{successThreshold: 2, failureThreshold: 3},
			[]verdict{s, f, s, s}, []bool{false, false, false, true}, s, false},
		{"readiness failure threshold", Readiness, params{successThreshold: 1, failureThreshold: 3},
			[]verdict{s, f, f, s, f, f, f}, []bool{true, false, false, false, false, false, true}, f, false},
		{"liveness starts healthy, holds after threshold", Liveness, params{successThreshold: 1, failureThreshold: 2},
			[]verdict{f, f, s}, []bool{false, true, false}, f, true},
		{"startup unknown until success", Startup, params{successThreshold: 1, failureThreshold: 3},
			[]verdict{f, s}, []bool{false, true}, s, false},
		{"startup fails after threshold", Startup, params{successThreshold: 1, failureThreshold: 1},
			[]verdict{f}, []bool{true}, f, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(tc.kind)
			for i, v := range tc.attempts {
				if got := tr.observe(v, tc.params); got != tc.wantChanges[i] {
					t.Fatalf("attempt %d: changed = %v, want %v", i, got, tc.wantChanges[i])
				}
			}
			if tr.reported != tc.wantFinal || tr.onHold != tc.wantHold {
				t.Fatalf("final = %v hold %v, want %v hold %v", tr.reported, tr.onHold, tc.wantFinal, tc.wantHold)
			}
		})
	}
}

func TestTrackerSettle(t *testing.T) {
	tr := newTracker(Startup)
	if !tr.settle() || tr.reported != verdictSuccess || !tr.onHold {
		t.Fatalf("settle did not force success: %+v", tr)
	}
	if tr.settle() {
		t.Fatal("second settle reported a change")
	}
	if tr.observe(verdictFailure, params{failureThreshold: 1}) {
		t.Fatal("settled tracker folded a failure")
	}
}

func TestEventFor(t *testing.T) {
	tests := []struct {
		kind       Kind
		result     Result
		output     string
		err        error
		wantReason string
		wantMsg    string
	}{
		{Liveness, Failure, "boom", nil, "Unhealthy", "Liveness probe failed: boom"},
		{Readiness, Failure, "HTTP probe failed with statuscode: 500", nil, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500"},
		{Startup, Failure, "", nil, "Unhealthy", "Startup probe failed: "},
		{Readiness, Warning, "Probe terminated redirects, Response body: x", nil, "ProbeWarning", "Readiness probe warning: Probe terminated redirects, Response body: x"},
		{Liveness, Unknown, "", errors.New(`http probe: port "web" not found`), "Unhealthy", `Liveness probe errored and resulted in unknown state: http probe: port "web" not found`},
		{Liveness, Success, "fine", nil, "", ""},
	}
	for _, tc := range tests {
		reason, msg, ok := eventFor(tc.kind, tc.result, tc.output, tc.err)
		if reason != tc.wantReason || msg != tc.wantMsg || ok != (tc.wantReason != "") {
			t.Errorf("eventFor(%v,%v) = %q %q %v, want %q %q", tc.kind, tc.result, reason, msg, ok, tc.wantReason, tc.wantMsg)
		}
	}
}

func TestKillMessage(t *testing.T) {
	if got := killMessage("web", Liveness, true); got != "Container web failed liveness probe, will be restarted" {
		t.Errorf("liveness: %q", got)
	}
	if got := killMessage("web", Startup, false); got != "Container web failed startup probe" {
		t.Errorf("startup: %q", got)
	}
}

func TestDesiredWorkers(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	never := corev1.ContainerRestartPolicyNever
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "u"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyAlways,
			InitContainers: []corev1.Container{
				{Name: "init", ReadinessProbe: probe},
				{Name: "sidecar", RestartPolicy: &always, LivenessProbe: probe},
			},
			Containers: []corev1.Container{
				{Name: "app", LivenessProbe: probe, ReadinessProbe: probe, StartupProbe: probe},
				{Name: "stopped", ReadinessProbe: probe},
				{Name: "once", RestartPolicy: &never, LivenessProbe: probe},
				{Name: "plain"},
			},
		},
	}
	running := map[string]Running{
		"init": {ID: "i"}, "sidecar": {ID: "s"}, "app": {ID: "a"}, "once": {ID: "o"}, "plain": {ID: "p"},
	}
	got := desiredWorkers(pod, running)
	want := map[workerKey]string{
		{"sidecar", Liveness}: "spec.initContainers{sidecar}",
		{"app", Liveness}:     "spec.containers{app}",
		{"app", Readiness}:    "spec.containers{app}",
		{"app", Startup}:      "spec.containers{app}",
		{"once", Liveness}:    "spec.containers{once}",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d workers %v, want %d", len(got), got, len(want))
	}
	for k, fp := range want {
		d, ok := got[k]
		if !ok || d.fieldPath != fp {
			t.Errorf("worker %v: %+v, want field path %q", k, d, fp)
		}
	}
	if !got[workerKey{"sidecar", Liveness}].restarts || got[workerKey{"once", Liveness}].restarts || !got[workerKey{"app", Liveness}].restarts {
		t.Error("restart decisions wrong")
	}
}
