package volumes

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func qp(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func TestMemoryVolumeSize(t *testing.T) {
	tests := []struct {
		name                   string
		alloc, podLimit, limit *resource.Quantity
		want                   int64
	}{
		{"nothing known", nil, nil, nil, 0},
		{"size limit only", nil, nil, qp("64Mi"), 64 << 20},
		{"allocatable caps size limit", qp("32Mi"), nil, qp("64Mi"), 32 << 20},
		{"pod limit below allocatable", qp("1Gi"), qp("128Mi"), nil, 128 << 20},
		{"size limit below pod limit", qp("1Gi"), qp("128Mi"), qp("16Mi"), 16 << 20},
		{"zero size limit ignored", qp("1Gi"), nil, qp("0"), 1 << 30},
	}
	for _, tt := range tests {
		if got := memoryVolumeSize(tt.alloc, tt.podLimit, tt.limit); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPodMemoryLimit(t *testing.T) {
	withLimit := func(name, mem string) corev1.Container {
		c := corev1.Container{Name: name}
		if mem != "" {
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}
		}
		return c
	}
	tests := []struct {
		name string
		spec corev1.PodSpec
		want string // "" means unlimited
	}{
		{"sum of containers", corev1.PodSpec{Containers: []corev1.Container{withLimit("a", "100Mi"), withLimit("b", "50Mi")}}, "150Mi"},
		{"one unlimited container", corev1.PodSpec{Containers: []corev1.Container{withLimit("a", "100Mi"), withLimit("b", "")}}, ""},
		{"init container larger", corev1.PodSpec{Containers: []corev1.Container{withLimit("a", "100Mi")}, InitContainers: []corev1.Container{withLimit("i", "1Gi")}}, "1Gi"},
		{"overhead added", corev1.PodSpec{Containers: []corev1.Container{withLimit("a", "100Mi")}, Overhead: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("10Mi")}}, "110Mi"},
		{"pod-level limit", corev1.PodSpec{Containers: []corev1.Container{withLimit("a", "")},
			Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("300Mi")}}}, "300Mi"},
	}
	for _, tt := range tests {
		got := podMemoryLimit(&corev1.Pod{Spec: tt.spec})
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("%s: got %v, want unlimited", tt.name, got)
		case tt.want != "" && (got == nil || got.Cmp(resource.MustParse(tt.want)) != 0):
			t.Errorf("%s: got %v, want %s", tt.name, got, tt.want)
		}
	}
}

func TestCommonRunAsUser(t *testing.T) {
	user := func(uid int64) *corev1.SecurityContext { return &corev1.SecurityContext{RunAsUser: ptr(uid)} }
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(1000))},
		Containers:      []corev1.Container{{Name: "a"}, {Name: "b", SecurityContext: user(1000)}},
	}}
	if got := commonRunAsUser(pod); got == nil || *got != 1000 {
		t.Errorf("shared user: %v", got)
	}
	pod.Spec.InitContainers = []corev1.Container{{Name: "i", SecurityContext: user(0)}}
	if got := commonRunAsUser(pod); got != nil {
		t.Errorf("differing users: %v", *got)
	}
	pod.Spec.InitContainers = nil
	pod.Spec.SecurityContext = nil
	if got := commonRunAsUser(pod); got != nil {
		t.Errorf("a container without a user: %v", *got)
	}
}
