package podspec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestValidatePod(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"valid", func(*corev1.Pod) {}, nil},
		{"ephemeral containers on create", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile}}}
		}, []string{"spec.ephemeralContainers: Forbidden: cannot be set on create"}},
		{"node with scheduling gates", func(p *corev1.Pod) {
			p.Spec.NodeName = "n1"
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
		}, []string{"spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"}},
		{"image with whitespace", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" },
			[]string{`spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace`}},
		{"hostNetwork requires matching host port", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 0
		}, []string{"spec.containers[0].ports[0].hostPort: Invalid value: 0: must match `containerPort` when `hostNetwork` is true"}},
		{"token projection without service account", func(p *corev1.Pod) {
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				DefaultMode: ptrTo(int32(420)),
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
					Path: "token", ExpirationSeconds: ptrTo(int64(3600))}}}}}
		}, []string{"spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: must not be specified when serviceAccountName is not set"}},
		{"mirror pod without node", func(p *corev1.Pod) { p.Annotations = map[string]string{"kubernetes.io/config.mirror": "x"} },
			[]string{`metadata.annotations[kubernetes.io/config.mirror]: Invalid value: "x": must set spec.nodeName if mirror pod annotation is set`}},
		{"ephemeral PVC name too long", func(p *corev1.Pod) {
			p.Name = strings.Repeat("a", 250)
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
				VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}}
		}, []string{`spec.volumes[0].name: Invalid value: "data": PVC name "` + strings.Repeat("a", 250) + `-data": must be no more than 253 characters`,
			`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := validPod()
			tt.mutate(pod)
			checkErrors(t, ValidatePod(pod), tt.want)
		})
	}
}

const updateForbiddenPrefix = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`," +
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n..."

func TestValidatePodUpdate(t *testing.T) {
	tests := []struct {
		name      string
		mutateOld func(p *corev1.Pod)
		mutate    func(p *corev1.Pod)
		want      []string
	}{
		{"no change", nil, func(*corev1.Pod) {}, nil},
		{"labels may change", nil, func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, nil},
		{"image may change", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.27" }, nil},
		{"image may not be cleared", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]string{"spec.containers[0].image: Required value", "spec.containers[0].image: Required value"}},
		{"restartPolicy may not change", nil, func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]string{updateForbiddenPrefix}},
		{"containers may not be added", nil, func(p *corev1.Pod) {
			c := p.Spec.Containers[0]
			c.Name, c.Ports = "second", nil
			p.Spec.Containers = append(p.Spec.Containers, c)
		}, []string{"spec.containers: Forbidden: pod updates may not add or remove containers"}},
		{"activeDeadlineSeconds may be set", nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(100)) }, nil},
		{"activeDeadlineSeconds may be lowered",
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(100)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(50)) }, nil},
		{"activeDeadlineSeconds may not be raised",
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(100)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(200)) },
			[]string{"spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"}},
		{"activeDeadlineSeconds may not be removed",
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(100)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil },
			[]string{"spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"}},
		{"tolerations may be added", nil, func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
		}, nil},
		{"toleration seconds may change",
			func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(10))}}
			},
			func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptrTo(int64(5)) }, nil},
		{"tolerations may not be modified",
			func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
			},
			func(p *corev1.Pod) { p.Spec.Tolerations[0].Key = "other" },
			[]string{"spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"}},
		{"scheduling gates may be removed",
			func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "a"}, {Name: "b"}} },
			func(p *corev1.Pod) { p.Spec.SchedulingGates = p.Spec.SchedulingGates[1:] }, nil},
		{"scheduling gates may not be added", nil,
			func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "a"}} },
			[]string{"spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'a'"}},
		{"gated pods may gain node selectors",
			func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "a"}} },
			func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a"} }, nil},
		{"ungated pods may not gain node selectors", nil,
			func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a"} },
			[]string{updateForbiddenPrefix}},
		{"negative grace period may become 1",
			func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo(int64(-1)) },
			func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo(int64(1)) }, nil},
		{"mirror annotation may not be added", func(p *corev1.Pod) { p.Spec.NodeName = "n1" },
			func(p *corev1.Pod) { p.Annotations = map[string]string{"kubernetes.io/config.mirror": "x"} },
			[]string{"metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validPod()
			if tt.mutateOld != nil {
				tt.mutateOld(old)
			}
			pod := old.DeepCopy()
			tt.mutate(pod)
			checkErrors(t, ValidatePodUpdate(pod, old), tt.want)
		})
	}
}

func TestValidatePodUpdateDiff(t *testing.T) {
	old := validPod()
	pod := old.DeepCopy()
	pod.Spec.NodeName = "node-1"
	errs := ValidatePodUpdate(pod, old)
	if len(errs) != 1 {
		t.Fatalf("got %v, want one error", errs)
	}
	if !strings.Contains(errs[0].Detail, `+ spec.nodeName: "node-1"`) {
		t.Errorf("detail %q does not show the changed field", errs[0].Detail)
	}
}

func TestValidatePodStatusUpdate(t *testing.T) {
	terminated := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name      string
		mutateOld func(p *corev1.Pod)
		mutate    func(p *corev1.Pod)
		want      []string
	}{
		{"phase and IPs", nil, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = "10.0.0.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "fd00::5"}}
			p.Status.HostIP = "192.168.1.2"
			p.Status.HostIPs = []corev1.HostIP{{IP: "192.168.1.2"}}
		}, nil},
		{"qos class is immutable", func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSBestEffort },
			func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSBurstable },
			[]string{`status.qosClass: Invalid value: "Burstable": field is immutable`}},
		{"node may not change", nil, func(p *corev1.Pod) { p.Spec.NodeName = "n2" },
			[]string{"status.nodeName: Forbidden: may not be changed directly"}},
		{"bad pod IP", nil, func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "300.1.1.1"}} },
			[]string{`status.podIPs[0]: Invalid value: "300.1.1.1": must be a valid IP address...`}},
		{"two IPv4 pod IPs", nil, func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}} },
			[]string{`status.podIPs: Invalid value: [{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]: may specify no more than one IP for each IP family`}},
		{"custom condition type", nil, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: "bad type", Status: corev1.ConditionTrue}}
		}, []string{`metadata.conditions[0].Type: Invalid value: "bad type": ...`}},
		{"terminated container may not run again with restartPolicy Never",
			func(p *corev1.Pod) {
				p.Spec.RestartPolicy = corev1.RestartPolicyNever
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: terminated}}
			},
			func(p *corev1.Pod) { p.Status.ContainerStatuses[0].State = running },
			[]string{"status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state"}},
		{"terminated container may restart with restartPolicy Always",
			func(p *corev1.Pod) {
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: terminated}}
			},
			func(p *corev1.Pod) { p.Status.ContainerStatuses[0].State = running }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validPod()
			if tt.mutateOld != nil {
				tt.mutateOld(old)
			}
			pod := old.DeepCopy()
			tt.mutate(pod)
			checkErrors(t, ValidatePodStatusUpdate(pod, old), tt.want)
		})
	}
}

func TestValidateBinding(t *testing.T) {
	tests := []struct {
		target corev1.ObjectReference
		want   []string
	}{
		{corev1.ObjectReference{Name: "n1"}, nil},
		{corev1.ObjectReference{Kind: "Node", Name: "n1"}, nil},
		{corev1.ObjectReference{Kind: "Pod", Name: "n1"}, []string{`target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"`}},
		{corev1.ObjectReference{}, []string{"target.name: Required value"}},
	}
	for _, tt := range tests {
		checkErrors(t, ValidateBinding(&corev1.Binding{Target: tt.target}), tt.want)
	}
}
