package admission

import (
	"testing"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/registry/core"
	corev1 "k8s.io/api/core/v1"
)

func TestServiceAccountDefaulting(t *testing.T) {
	tests := []struct {
		name, sa, deprecated, want string
	}{
		{"unset", "", "", "default"},
		{"set", "builder", "", "builder"},
		{"deprecated field only", "", "old", "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: tt.sa, DeprecatedServiceAccount: tt.deprecated}}
			a := &apiserver.Attributes{Resource: core.Pods(), Verb: "create", Object: pod}
			if err := (ServiceAccount{}).Admit(a); err != nil {
				t.Fatal(err)
			}
			if pod.Spec.ServiceAccountName != tt.want || pod.Spec.DeprecatedServiceAccount != tt.want {
				t.Fatalf("serviceAccountName=%q serviceAccount=%q, want %q", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount, tt.want)
			}
		})
	}
}
