package podspec

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestWarnings(t *testing.T) {
	port := func(n int32, host int32) corev1.ContainerPort {
		return corev1.ContainerPort{ContainerPort: n, HostPort: host, Protocol: corev1.ProtocolTCP}
	}
	tests := []struct {
		name string
		path *field.Path
		spec corev1.PodSpec
		want []string
	}{
		{"clean", nil, corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{port(80, 0), port(443, 0)}}}}, nil},
		{"duplicate port in one container", nil,
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{port(80, 0), port(80, 0)}}}},
			[]string{"spec.containers[0].ports[1]: duplicate port definition with spec.containers[0].ports[0]"}},
		{"duplicate port across containers in a template", field.NewPath("spec", "template"),
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{port(80, 0)}}, {Name: "b", Ports: []corev1.ContainerPort{port(80, 8080)}}}},
			[]string{"spec.template.spec.containers[1].ports[0]: overlapping port definition with spec.template.spec.containers[0].ports[0]"}},
		{"same port, other protocol", nil,
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{port(53, 0), {ContainerPort: 53, Protocol: corev1.ProtocolUDP}}}}}, nil},
		{"env hiding", nil,
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Env: []corev1.EnvVar{{Name: "X", Value: "1"}, {Name: "X", Value: "2"}, {Name: "Y"}, {Name: "Y", Value: "$(Y)-more"}}}}},
			[]string{`spec.containers[0].env[1]: hides previous definition of "X", which may be dropped when using apply`}},
		{"pull secrets", nil,
			corev1.PodSpec{ImagePullSecrets: []corev1.LocalObjectReference{{Name: "r"}, {Name: "r"}, {}}},
			[]string{`spec.imagePullSecrets[1].name: duplicate name "r"`, `spec.imagePullSecrets[2].name: invalid empty name ""`}},
		{"fractional memory", nil,
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100m")}}}}},
			[]string{`spec.containers[0].resources.limits[memory]: fractional byte value "100m" is invalid, must be an integer`}},
		{"git repo volume", nil,
			corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{GitRepo: &corev1.GitRepoVolumeSource{Repository: "r"}}}}},
			[]string{"spec.volumes[0].gitRepo: deprecated in v1.11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Warnings(tt.path, &tt.spec)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Warnings =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
