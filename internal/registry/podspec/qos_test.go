package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func resources(req, lim map[corev1.ResourceName]string) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{}
	if req != nil {
		r.Requests = corev1.ResourceList{}
		for k, v := range req {
			r.Requests[k] = resource.MustParse(v)
		}
	}
	if lim != nil {
		r.Limits = corev1.ResourceList{}
		for k, v := range lim {
			r.Limits[k] = resource.MustParse(v)
		}
	}
	return r
}

func TestQOSClass(t *testing.T) {
	cpuMem := func(cpu, mem string) map[corev1.ResourceName]string {
		return map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem}
	}
	tests := []struct {
		name  string
		inits []corev1.ResourceRequirements
		apps  []corev1.ResourceRequirements
		pod   *corev1.ResourceRequirements
		want  corev1.PodQOSClass
	}{
		{"nothing set", nil, []corev1.ResourceRequirements{{}}, nil, corev1.PodQOSBestEffort},
		{"only extended resources", nil, []corev1.ResourceRequirements{resources(nil, map[corev1.ResourceName]string{"example.com/gpu": "1"})}, nil, corev1.PodQOSBestEffort},
		{"zero requests", nil, []corev1.ResourceRequirements{resources(cpuMem("0", "0"), nil)}, nil, corev1.PodQOSBestEffort},
		{"requests equal limits", nil, []corev1.ResourceRequirements{resources(cpuMem("1", "1Gi"), cpuMem("1", "1Gi"))}, nil, corev1.PodQOSGuaranteed},
		{"limits only (requests defaulted elsewhere)", nil, []corev1.ResourceRequirements{resources(nil, cpuMem("1", "1Gi"))}, nil, corev1.PodQOSBurstable},
		{"requests below limits", nil, []corev1.ResourceRequirements{resources(cpuMem("500m", "1Gi"), cpuMem("1", "1Gi"))}, nil, corev1.PodQOSBurstable},
		{"cpu limit missing", nil, []corev1.ResourceRequirements{resources(map[corev1.ResourceName]string{corev1.ResourceMemory: "1Gi"}, map[corev1.ResourceName]string{corev1.ResourceMemory: "1Gi"})}, nil, corev1.PodQOSBurstable},
		{"one container best effort", nil, []corev1.ResourceRequirements{resources(cpuMem("1", "1Gi"), cpuMem("1", "1Gi")), {}}, nil, corev1.PodQOSBurstable},
		{"init container counts", []corev1.ResourceRequirements{resources(cpuMem("1", "1Gi"), nil)}, []corev1.ResourceRequirements{{}}, nil, corev1.PodQOSBurstable},
		{"pod-level resources win", nil, []corev1.ResourceRequirements{{}}, &corev1.ResourceRequirements{
			Requests: resources(cpuMem("1", "1Gi"), nil).Requests, Limits: resources(nil, cpuMem("1", "1Gi")).Limits}, corev1.PodQOSGuaranteed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Resources: tt.pod}}
			for i, r := range tt.inits {
				pod.Spec.InitContainers = append(pod.Spec.InitContainers, corev1.Container{Name: "i" + string(rune('a'+i)), Resources: r})
			}
			for i, r := range tt.apps {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "c" + string(rune('a'+i)), Resources: r})
			}
			if got := QOSClass(pod); got != tt.want {
				t.Errorf("QOSClass = %s, want %s", got, tt.want)
			}
		})
	}
	if got := QOSClass(nil); got != corev1.PodQOSBestEffort {
		t.Errorf("QOSClass(nil) = %s", got)
	}
}
