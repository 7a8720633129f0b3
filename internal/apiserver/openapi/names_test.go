package openapi

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestGroupTokenAndTag(t *testing.T) {
	tests := []struct {
		gv        schema.GroupVersion
		wantToken string
		wantTag   string
	}{
		{schema.GroupVersion{Version: "v1"}, "Core", "core_v1"},
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "Apps", "apps_v1"},
		{schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}, "RbacAuthorization", "rbacAuthorization_v1"},
		{schema.GroupVersion{Group: "networking.k8s.io", Version: "v1"}, "Networking", "networking_v1"},
		{schema.GroupVersion{Group: "autoscaling", Version: "v2"}, "Autoscaling", "autoscaling_v2"},
		{schema.GroupVersion{Group: "flowcontrol.apiserver.k8s.io", Version: "v1"}, "FlowcontrolApiserver", "flowcontrolApiserver_v1"},
	}
	for _, tt := range tests {
		if got := groupToken(tt.gv.Group); got != tt.wantToken {
			t.Errorf("groupToken(%q) = %q, want %q", tt.gv.Group, got, tt.wantToken)
		}
		if got := tag(tt.gv); got != tt.wantTag {
			t.Errorf("tag(%v) = %q, want %q", tt.gv, got, tt.wantTag)
		}
	}
}

func TestKindIndex(t *testing.T) {
	served := map[schema.GroupVersion]bool{
		{Version: "v1"}:                true,
		{Group: "apps", Version: "v1"}: true,
	}
	idx := newKindIndex(scheme.Scheme, served)
	deleteOptions := metav1.DeleteOptions{}.OpenAPIModelName()
	tests := []struct {
		name string
		want []schema.GroupVersionKind
	}{
		{"io.k8s.api.core.v1.Pod", []schema.GroupVersionKind{{Version: "v1", Kind: "Pod"}}},
		{"io.k8s.api.apps.v1.Deployment", []schema.GroupVersionKind{{Group: "apps", Version: "v1", Kind: "Deployment"}}},
		// Registered in every group version; only served ones are listed.
		{deleteOptions, []schema.GroupVersionKind{
			{Version: "v1", Kind: "DeleteOptions"},
			{Group: "apps", Version: "v1", Kind: "DeleteOptions"},
		}},
		// batch/v1 is not served.
		{"io.k8s.api.batch.v1.Job", nil},
		// Not a kind at all.
		{"io.k8s.api.core.v1.PodSpec", nil},
	}
	for _, tt := range tests {
		if got := idx[tt.name]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("index[%s] = %v, want %v", tt.name, got, tt.want)
		}
		name, ext := idx.definitionName(tt.name)
		if name != tt.name {
			t.Errorf("definitionName(%s) renamed it to %s", tt.name, name)
		}
		if (ext != nil) != (tt.want != nil) {
			t.Errorf("definitionName(%s) extensions = %v, want some: %v", tt.name, ext, tt.want != nil)
		}
		if ext != nil {
			if list, _ := ext[gvkExtension].([]interface{}); len(list) != len(tt.want) {
				t.Errorf("definitionName(%s) lists %v, want %d kinds", tt.name, ext[gvkExtension], len(tt.want))
			}
		}
	}
}
