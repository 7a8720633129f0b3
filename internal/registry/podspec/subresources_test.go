package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func debugContainer(name string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: "busybox", ImagePullPolicy: corev1.PullAlways,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile, TerminationMessagePath: "/dev/termination-log"}}
}

func TestEphemeralContainersUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    []corev1.EphemeralContainer
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"add", nil, func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, debugContainer("debug"))
		}, nil},
		{"remove", []corev1.EphemeralContainer{debugContainer("debug")}, func(p *corev1.Pod) { p.Spec.EphemeralContainers = nil },
			[]string{"spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debug\" may not be removed\n"}},
		{"change", []corev1.EphemeralContainer{debugContainer("debug")}, func(p *corev1.Pod) { p.Spec.EphemeralContainers[0].Image = "alpine" },
			[]string{"spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debug\" may not be changed\n..."}},
		{"other spec changes are dropped", nil, func(p *corev1.Pod) {
			p.Spec.Containers[0].Image = "changed"
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, debugContainer("debug"))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validPod()
			old.Spec.EphemeralContainers = tt.old
			pod := old.DeepCopy()
			tt.mutate(pod)
			DropNonEphemeralContainerUpdates(pod, old)
			if pod.Spec.Containers[0].Image != old.Spec.Containers[0].Image {
				t.Errorf("container image change was not dropped")
			}
			checkErrors(t, ValidatePodEphemeralContainersUpdate(pod, old), tt.want)
		})
	}
}

func TestResizeUpdate(t *testing.T) {
	withResources := func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = resources(
			map[corev1.ResourceName]string{corev1.ResourceCPU: "500m", corev1.ResourceMemory: "256Mi"},
			map[corev1.ResourceName]string{corev1.ResourceCPU: "1", corev1.ResourceMemory: "512Mi"})
		p.Status.QOSClass = corev1.PodQOSBurstable
	}
	tests := []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"raise cpu", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("2")
		}, nil},
		{"lower memory limit", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("300Mi")
		}, []string{"spec.containers[0].resources.limits[memory]: Forbidden: memory limits cannot be decreased unless resizePolicy is RestartContainer"}},
		{"remove requests", func(p *corev1.Pod) { delete(p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU) },
			[]string{"spec.containers[0].resources.requests: Forbidden: resource requests cannot be removed"}},
		{"change QoS class", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = p.Spec.Containers[0].Resources.Limits.DeepCopy()
		}, []string{`spec: Invalid value: "Burstable": Pod QOS Class may not change as a result of resizing`}},
		{"image changes are dropped", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "other" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validPod()
			withResources(old)
			pod := old.DeepCopy()
			tt.mutate(pod)
			DropNonResizeUpdates(pod, old)
			if pod.Spec.Containers[0].Image != old.Spec.Containers[0].Image {
				t.Errorf("image change was not dropped")
			}
			checkErrors(t, ValidatePodResize(pod, old), tt.want)
		})
	}
}

func TestResizeRejectsNonResourceChanges(t *testing.T) {
	old := validPod()
	pod := old.DeepCopy()
	pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}
	pod.Status.QOSClass = corev1.PodQOSBestEffort
	checkErrors(t, ValidatePodResize(pod, old), []string{"spec: Forbidden: only cpu and memory resources are mutable"})
}
