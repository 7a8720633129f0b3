package resourcequota

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCountedResource(t *testing.T) {
	tests := []struct {
		name string
		want schema.GroupResource
		ok   bool
	}{
		{"configmaps", schema.GroupResource{Resource: "configmaps"}, true},
		{"count/deployments.apps", schema.GroupResource{Group: "apps", Resource: "deployments"}, true},
		{"count/secrets", schema.GroupResource{Resource: "secrets"}, true},
		{"count/pods", schema.GroupResource{}, false},
		{"pods", schema.GroupResource{}, false},
		{"requests.cpu", schema.GroupResource{}, false},
	}
	for _, tt := range tests {
		got, ok := countedResource(corev1.ResourceName(tt.name))
		if ok != tt.ok || got != tt.want {
			t.Errorf("countedResource(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
