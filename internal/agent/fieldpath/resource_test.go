package fieldpath

import (
	"math"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func q(s string) resource.Quantity { return resource.MustParse(s) }

func TestContainerResource(t *testing.T) {
	allocatable := corev1.ResourceList{
		corev1.ResourceCPU: q("4"), corev1.ResourceMemory: q("8Gi"), corev1.ResourceEphemeralStorage: q("100Gi"),
	}
	limited := corev1.Container{Name: "app", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: q("250m"), corev1.ResourceMemory: q("100Mi"), "hugepages-2Mi": q("4Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: q("1500m"), corev1.ResourceMemory: q("129Mi"), corev1.ResourceEphemeralStorage: q("1G")},
	}}
	unlimited := corev1.Container{Name: "side"}
	initC := corev1.Container{Name: "init", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("2")}}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{limited, unlimited}, InitContainers: []corev1.Container{initC}}}
	podLevel := pod.DeepCopy()
	podLevel.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: q("1Gi")}}

	tests := []struct {
		name      string
		pod       *corev1.Pod
		c         *corev1.Container
		sel       corev1.ResourceFieldSelector
		alloc     corev1.ResourceList
		want      string
		wantErrIn string
	}{
		{name: "cpu limit cores rounds up", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, want: "2"},
		{name: "cpu limit millicores", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: q("1m")}, want: "1500"},
		{name: "cpu request", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "requests.cpu"}, want: "1"},
		{name: "memory limit bytes", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.memory"}, want: strconv.Itoa(129 * 1024 * 1024)},
		{name: "memory limit Mi", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: q("1Mi")}, want: "129"},
		{name: "memory limit Gi rounds up", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: q("1Gi")}, want: "1"},
		{name: "memory request M", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "requests.memory", Divisor: q("1M")}, want: "105"},
		{name: "ephemeral limit", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.ephemeral-storage", Divisor: q("1M")}, want: "1000"},
		{name: "hugepages request", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "requests.hugepages-2Mi", Divisor: q("1Mi")}, want: "4"},
		{name: "unset request is 0", c: &unlimited, sel: corev1.ResourceFieldSelector{Resource: "requests.memory"}, want: "0"},
		{name: "unset limit is allocatable", c: &unlimited, alloc: allocatable, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, want: "4"},
		{name: "unset memory limit is allocatable", c: &unlimited, alloc: allocatable, sel: corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: q("1Gi")}, want: "8"},
		{name: "unset limit without allocatable is 0", c: &unlimited, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, want: "0"},
		{name: "set limit wins over allocatable", c: &limited, alloc: allocatable, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: q("1m")}, want: "1500"},
		{name: "pod-level limit is the default", pod: podLevel, c: &unlimited, alloc: allocatable, sel: corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: q("1Mi")}, want: "1024"},
		{name: "pod-level limit not used for cpu it lacks", pod: podLevel, c: &unlimited, alloc: allocatable, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, want: "4"},
		{name: "by container name", c: nil, sel: corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.cpu", Divisor: q("1m")}, want: "1500"},
		{name: "init container by name", c: nil, sel: corev1.ResourceFieldSelector{ContainerName: "init", Resource: "limits.cpu"}, want: "2"},
		{name: "unknown container", c: nil, sel: corev1.ResourceFieldSelector{ContainerName: "nope", Resource: "limits.cpu"}, wantErrIn: "container nope not found"},
		{name: "no container", c: nil, sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, wantErrIn: "names no container"},
		{name: "unsupported resource", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "limits.gpu"}, wantErrIn: "unsupported container resource : limits.gpu"},
		{name: "unsupported prefix", c: &limited, sel: corev1.ResourceFieldSelector{Resource: "status.cpu"}, wantErrIn: "unsupported container resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pod
			if p == nil {
				p = pod
			}
			got, err := ContainerResource(&tt.sel, p, tt.c, tt.alloc)
			if tt.wantErrIn != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrIn) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErrIn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, ok := limited.Resources.Limits[corev1.ResourceCPU]; !ok || len(unlimited.Resources.Limits) != 0 {
		t.Error("ContainerResource modified the container")
	}
}

func TestCeilRatio(t *testing.T) {
	maxInt := strconv.FormatInt(math.MaxInt64, 10)
	tests := []struct{ q, d, want string }{
		{"1", "1", "1"},
		{"0", "1", "0"},
		{"1", "0", "0"},
		{"-1", "1", "0"},
		{"250m", "1", "1"},
		{"250m", "1m", "250"},
		{"1001m", "1", "2"},
		{"1Gi", "1Mi", "1024"},
		{"1G", "1Mi", "954"},
		{"1", "1e30", "1"},
		{"1e30", "1", maxInt},
		{"9223372036854775807", "1", maxInt},
		{"9223372036854775808", "1", maxInt},
		{"1e18", "1", "1000000000000000000"},
		{"123456789012345678", "1m", maxInt},
		{"1n", "1m", "1"},
	}
	for _, tt := range tests {
		if got := CeilRatio(q(tt.q), q(tt.d)); got != tt.want {
			t.Errorf("CeilRatio(%s, %s) = %s, want %s", tt.q, tt.d, got, tt.want)
		}
	}
}
