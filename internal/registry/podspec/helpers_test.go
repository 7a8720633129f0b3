package podspec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validSpec returns a defaulted spec that passes validation.
func validSpec() corev1.PodSpec {
	spec := corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "data"}},
		Containers: []corev1.Container{{
			Name:         "app",
			Image:        "nginx:1.25",
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
		}},
	}
	DefaultPodSpec(&spec)
	return spec
}

// validPod returns a defaulted pod that passes validation.
func validPod() *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       validSpec(),
	}
	DefaultPod(pod)
	return pod
}

// checkErrors compares errors with expectations. An expectation ending in
// "..." matches any error string with that prefix; others must match
// exactly. Every error must be expected and every expectation met.
func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if used[i] {
				continue
			}
			if g == w || (strings.HasSuffix(w, "...") && strings.HasPrefix(g, strings.TrimSuffix(w, "..."))) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing error %q", w)
		}
	}
	for i, g := range got {
		if !used[i] {
			t.Errorf("unexpected error %q", g)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
