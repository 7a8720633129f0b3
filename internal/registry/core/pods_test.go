package core

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiff-io/skiff/internal/registry"
)

// Compile-time checks that the strategies offer every optional behaviour.
var (
	_ registry.StatusStrategy  = podStrategy{}
	_ registry.TableConvertor  = podStrategy{}
	_ registry.FieldSelectable = podStrategy{}
)

// podTestPod returns a minimal pod as a client would send it.
func podTestPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "nginx",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}},
		}}},
	}
}

// podTestCreate runs the create sequence of the generic store.
func podTestCreate(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	s := Pods().Strategy
	s.Default(pod)
	s.PrepareForCreate(pod)
	if errs := s.Validate(pod); len(errs) > 0 {
		t.Fatalf("Validate: %v", errs)
	}
	return pod
}

func TestPodsResource(t *testing.T) {
	r := Pods()
	if r.Kind != "Pod" || r.Resource != "pods" || r.Singular != "pod" || !r.Namespaced || r.Group != "" || r.Version != "v1" {
		t.Errorf("unexpected resource description %+v", r)
	}
	if len(r.ShortNames) != 1 || r.ShortNames[0] != "po" || len(r.Categories) != 1 || r.Categories[0] != "all" {
		t.Errorf("shortNames %v categories %v", r.ShortNames, r.Categories)
	}
	want := map[string]string{
		"status": "", "binding": "Binding", "eviction": "Eviction", "log": "", "exec": "PodExecOptions",
		"attach": "PodAttachOptions", "portforward": "PodPortForwardOptions", "ephemeralcontainers": "", "resize": "",
	}
	for name, kind := range want {
		found := false
		for _, s := range r.Subresources {
			if s.Name == name {
				found = true
				if s.Kind != kind {
					t.Errorf("subresource %s kind %q, want %q", name, s.Kind, kind)
				}
			}
		}
		if !found {
			t.Errorf("missing subresource %s", name)
		}
	}
	for _, s := range r.Subresources {
		if s.Name == "eviction" && (s.Group != "policy" || s.Version != "v1") {
			t.Errorf("eviction group/version %s/%s", s.Group, s.Version)
		}
	}
	if _, ok := r.New().(*corev1.Pod); !ok {
		t.Errorf("New returns %T", r.New())
	}
	if _, ok := r.NewList().(*corev1.PodList); !ok {
		t.Errorf("NewList returns %T", r.NewList())
	}
}

func TestPodCreate(t *testing.T) {
	pod := podTestPod()
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "1.2.3.4"}
	podTestCreate(t, pod)
	if pod.Status.Phase != corev1.PodPending || pod.Status.PodIP != "" {
		t.Errorf("status not reset: %+v", pod.Status)
	}
	if pod.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("qosClass = %s, want Guaranteed (requests defaulted from limits)", pod.Status.QOSClass)
	}
	if pod.Spec.EnableServiceLinks == nil || pod.Spec.Containers[0].ImagePullPolicy != corev1.PullAlways {
		t.Errorf("pod not defaulted: %+v", pod.Spec)
	}
}

func TestPodCreateSchedulingGated(t *testing.T) {
	pod := podTestPod()
	pod.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota"}}
	podTestCreate(t, pod)
	if len(pod.Status.Conditions) != 1 {
		t.Fatalf("conditions = %+v", pod.Status.Conditions)
	}
	c := pod.Status.Conditions[0]
	if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != "SchedulingGated" ||
		c.Message != "Scheduling is blocked due to non-empty scheduling gates" {
		t.Errorf("condition = %+v", c)
	}
	if got := podPrintStatus(pod).reason; got != "SchedulingGated" {
		t.Errorf("STATUS = %s, want SchedulingGated", got)
	}
}

func TestPodCreateAffinityLabelKeys(t *testing.T) {
	pod := podTestPod()
	pod.Labels = map[string]string{"app": "web", "rev": "7"}
	pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector:  &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			TopologyKey:    "kubernetes.io/hostname",
			MatchLabelKeys: []string{"rev"},
		}}}}
	podTestCreate(t, pod)
	exprs := pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchExpressions
	if len(exprs) != 1 || exprs[0].Key != "rev" || exprs[0].Operator != metav1.LabelSelectorOpIn || exprs[0].Values[0] != "7" {
		t.Errorf("matchExpressions = %+v", exprs)
	}
}

func TestPodValidateErrors(t *testing.T) {
	pod := podTestPod()
	pod.Spec.Containers = nil
	s := Pods().Strategy
	s.Default(pod)
	s.PrepareForCreate(pod)
	errs := s.Validate(pod)
	if len(errs) != 1 || errs[0].Error() != "spec.containers: Required value" {
		t.Errorf("errs = %v", errs)
	}
}

func TestPodUpdate(t *testing.T) {
	s := Pods().Strategy
	old := podTestCreate(t, podTestPod())
	old.Status.Phase = corev1.PodRunning

	pod := old.DeepCopy()
	pod.Status.Phase = corev1.PodFailed
	pod.Spec.Containers[0].Image = "nginx:2"
	s.Default(pod)
	s.PrepareForUpdate(pod, old)
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("status changed through the main resource")
	}
	if errs := s.ValidateUpdate(pod, old); len(errs) != 0 {
		t.Errorf("image update rejected: %v", errs)
	}

	pod = old.DeepCopy()
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	errs := s.ValidateUpdate(pod, old)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`") {
		t.Errorf("errs = %v", errs)
	}
}

func TestPodStatusUpdate(t *testing.T) {
	s := Pods().Strategy.(registry.StatusStrategy)
	old := podTestCreate(t, podTestPod())
	old.Spec.NodeName = "n1"
	old.OwnerReferences = []metav1.OwnerReference{{Name: "rs"}}
	old.Status.ObservedGeneration = 3
	old.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, ObservedGeneration: 3}}

	pod := old.DeepCopy()
	pod.Spec.NodeName = "n2"
	pod.OwnerReferences = nil
	pod.Status = corev1.PodStatus{
		Phase:      corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
	}
	s.PrepareForStatusUpdate(pod, old)
	if pod.Spec.NodeName != "n1" || len(pod.OwnerReferences) != 1 {
		t.Errorf("spec or owner references taken from a status update")
	}
	if pod.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("qosClass not backfilled: %q", pod.Status.QOSClass)
	}
	if pod.Status.ObservedGeneration != 3 || pod.Status.Conditions[0].ObservedGeneration != 3 {
		t.Errorf("observedGeneration not preserved: %+v", pod.Status)
	}
	if errs := s.ValidateStatusUpdate(pod, old); len(errs) != 0 {
		t.Errorf("errs = %v", errs)
	}
}

func TestPodSelectableFields(t *testing.T) {
	pod := podTestCreate(t, podTestPod())
	pod.Spec.NodeName = "n1"
	pod.Spec.ServiceAccountName = "sa"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}}
	pod.Status.NominatedNodeName = "n2"
	got := Pods().Strategy.(registry.FieldSelectable).SelectableFields(pod)
	want := fields.Set{
		"spec.nodeName": "n1", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
		"spec.serviceAccountName": "sa", "spec.hostNetwork": "false", "status.phase": "Pending",
		"status.podIP": "10.0.0.1", "status.nominatedNodeName": "n2",
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestPodTableColumns(t *testing.T) {
	cols := Pods().Strategy.(registry.TableConvertor).TableColumns()
	want := []struct {
		name     string
		priority int32
	}{{"Name", 0}, {"Ready", 0}, {"Status", 0}, {"Restarts", 0}, {"Age", 0},
		{"IP", 1}, {"Node", 1}, {"Nominated Node", 1}, {"Readiness Gates", 1}}
	if len(cols) != len(want) {
		t.Fatalf("got %d columns", len(cols))
	}
	for i, w := range want {
		if cols[i].Name != w.name || cols[i].Priority != w.priority || cols[i].Type != "string" || cols[i].Description == "" {
			t.Errorf("column %d = %+v, want %s priority %d", i, cols[i], w.name, w.priority)
		}
	}
	if cols[0].Format != "name" {
		t.Errorf("name column format %q", cols[0].Format)
	}
}

func TestPodTableRow(t *testing.T) {
	tenDaysAgo := metav1.NewTime(time.Now().Add(-240 * time.Hour))
	now := metav1.Now()
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waiting := func(reason string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	}
	terminated := func(reason string, code, signal int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}
	}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
	sidecar := corev1.ContainerRestartPolicyAlways
	started := true

	tests := []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   []interface{} // READY, STATUS, RESTARTS, IP, NODE, NOMINATED, GATES
	}{
		{"pending", func(p *corev1.Pod) {}, []interface{}{"0/1", "Pending", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"running", func(p *corev1.Pod) {
			p.Spec.NodeName = "n1"
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.1.2.3"}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true, State: running}}
		}, []interface{}{"1/1", "Running", "0", "10.1.2.3", "n1", "<none>", "<none>"}},
		{"crash loop with restarts", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 3, State: waiting("CrashLoopBackOff"),
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: tenDaysAgo}}}}
		}, []interface{}{"0/1", "CrashLoopBackOff", "3 (10d ago)", "<none>", "<none>", "<none>", "<none>"}},
		{"restarts without a finish time", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 2, Ready: true, State: running}}
		}, []interface{}{"1/1", "Running", "2", "<none>", "<none>", "<none>", "<none>"}},
		{"completed", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: terminated("Completed", 0, 0)}}
		}, []interface{}{"0/1", "Completed", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"exit code without reason", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: terminated("", 2, 0)}}
		}, []interface{}{"0/1", "ExitCode:2", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"signal without reason", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: terminated("", 137, 9)}}
		}, []interface{}{"0/1", "Signal:9", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"completed next to running", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "job"})
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{ready}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{
				{Name: "app", Ready: true, State: running},
				{Name: "job", State: terminated("Completed", 0, 0)}}
		}, []interface{}{"1/2", "Running", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"completed next to running, not ready", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "job"})
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{
				{Name: "app", Ready: true, State: running},
				{Name: "job", State: terminated("Completed", 0, 0)}}
		}, []interface{}{"1/2", "NotReady", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"init progress", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "a"}, {Name: "b"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{
				{Name: "a", State: terminated("Completed", 0, 0)},
				{Name: "b", State: running}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: waiting("PodInitializing")}}
		}, []interface{}{"0/1", "Init:1/2", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"init crash loop", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "a"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "a", RestartCount: 4, State: waiting("CrashLoopBackOff")}}
		}, []interface{}{"0/1", "Init:CrashLoopBackOff", "4", "<none>", "<none>", "<none>", "<none>"}},
		{"init failed", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "a"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "a", State: terminated("", 1, 0)}}
		}, []interface{}{"0/1", "Init:ExitCode:1", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"init error reason", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "a"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "a", State: terminated("Error", 1, 0)}}
		}, []interface{}{"0/1", "Init:Error", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"started sidecar counts as ready container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &sidecar}}
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}, ready}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "proxy", Ready: true, Started: &started, State: running, RestartCount: 1}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true, State: running, RestartCount: 2}}
		}, []interface{}{"2/2", "Running", "3", "<none>", "<none>", "<none>", "<none>"}},
		{"terminating", func(p *corev1.Pod) {
			p.DeletionTimestamp = &now
			p.Status.Phase = corev1.PodRunning
		}, []interface{}{"0/1", "Terminating", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"terminating finished pod keeps its phase", func(p *corev1.Pod) {
			p.DeletionTimestamp = &now
			p.Status.Phase = corev1.PodSucceeded
		}, []interface{}{"0/1", "Succeeded", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"node lost", func(p *corev1.Pod) {
			p.DeletionTimestamp = &now
			p.Status.Phase = corev1.PodRunning
			p.Status.Reason = "NodeLost"
		}, []interface{}{"0/1", "Unknown", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"status reason", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.Reason = "Evicted"
		}, []interface{}{"0/1", "Evicted", "0", "<none>", "<none>", "<none>", "<none>"}},
		{"nominated node and readiness gates", func(p *corev1.Pod) {
			p.Status.NominatedNodeName = "n3"
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/a"}, {ConditionType: "example.com/b"}}
			p.Status.Conditions = []corev1.PodCondition{{Type: "example.com/a", Status: corev1.ConditionTrue}}
		}, []interface{}{"0/1", "Pending", "0", "<none>", "<none>", "n3", "1/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: tenDaysAgo},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status:     corev1.PodStatus{Phase: corev1.PodPending},
			}
			tt.mutate(pod)
			row := Pods().Strategy.(registry.TableConvertor).TableRow(runtime.Object(pod))
			want := append([]interface{}{"web", tt.want[0], tt.want[1], tt.want[2], "10d"}, tt.want[3:]...)
			if len(row) != len(want) {
				t.Fatalf("row %v has %d cells, want %d", row, len(row), len(want))
			}
			for i := range want {
				if row[i] != want[i] {
					t.Errorf("cell %d = %v, want %v", i, row[i], want[i])
				}
			}
		})
	}
}

func TestPodAgeUnknown(t *testing.T) {
	if got := podHumanAge(metav1.Time{}); got != "<unknown>" {
		t.Errorf("podHumanAge(zero) = %q", got)
	}
}

func TestPodDeletionGracePeriod(t *testing.T) {
	thirty, five, negative := int64(30), int64(5), int64(-3)
	tests := []struct {
		name      string
		node      string
		phase     corev1.PodPhase
		spec      *int64
		requested *int64
		want      int64
	}{
		{"pod default", "n1", corev1.PodRunning, &thirty, nil, 30},
		{"requested wins", "n1", corev1.PodRunning, &thirty, &five, 5},
		{"unscheduled deletes at once", "", corev1.PodPending, &thirty, &five, 0},
		{"finished deletes at once", "n1", corev1.PodSucceeded, &thirty, nil, 0},
		{"negative becomes 1", "n1", corev1.PodRunning, &negative, nil, 1},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{Spec: corev1.PodSpec{NodeName: tt.node, TerminationGracePeriodSeconds: tt.spec}, Status: corev1.PodStatus{Phase: tt.phase}}
		if got := PodDeletionGracePeriod(pod, tt.requested); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPodSubresourceStrategies(t *testing.T) {
	old := podTestCreate(t, podTestPod())
	pod := old.DeepCopy()
	pod.Spec.Containers[0].Image = "ignored"
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "busybox"}}}
	s := PodEphemeralContainersStrategy()
	s.Default(pod)
	s.PrepareForUpdate(pod, old)
	if pod.Spec.Containers[0].Image != old.Spec.Containers[0].Image || len(pod.Spec.EphemeralContainers) != 1 {
		t.Errorf("ephemeral containers update not isolated: %+v", pod.Spec)
	}
	if errs := s.ValidateUpdate(pod, old); len(errs) != 0 {
		t.Errorf("errs = %v", errs)
	}

	pod = old.DeepCopy()
	pod.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("2")
	pod.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
	r := PodResizeStrategy()
	r.PrepareForUpdate(pod, old)
	if errs := r.ValidateUpdate(pod, old); len(errs) != 0 {
		t.Errorf("resize errs = %v", errs)
	}
	if got := pod.Spec.Containers[0].Resources.Limits.Cpu().String(); got != "2" {
		t.Errorf("resized cpu limit = %s", got)
	}
}

func TestPodQOSClass(t *testing.T) {
	pod := podTestPod()
	if got := PodQOSClass(pod); got != corev1.PodQOSBurstable {
		t.Errorf("limits without requests = %s, want Burstable before defaulting", got)
	}
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	if got := PodQOSClass(pod); got != corev1.PodQOSBestEffort {
		t.Errorf("no resources = %s", got)
	}
}
