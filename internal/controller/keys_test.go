package controller

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func TestOwnerKey(t *testing.T) {
	key := OwnerKey(appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
	owned := func(apiVersion, kind string, controller bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "rs", Controller: ptr.To(controller)}}}}
	}
	tests := []struct {
		name string
		obj  interface{}
		want string
		ok   bool
	}{
		{"controlled", owned("apps/v1", "ReplicaSet", true), "ns/rs", true},
		{"tombstone", cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: owned("apps/v1", "ReplicaSet", true)}, "ns/rs", true},
		{"other kind", owned("apps/v1", "StatefulSet", true), "", false},
		{"other group", owned("extensions/v1beta1", "ReplicaSet", true), "", false},
		{"not the controller", owned("apps/v1", "ReplicaSet", false), "", false},
		{"orphan", &corev1.Pod{}, "", false},
		{"not an object", "x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := key(tt.obj)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("OwnerKey = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFormerOwnerKey(t *testing.T) {
	key := FormerOwnerKey(OwnerKey(appsv1.SchemeGroupVersion.WithKind("ReplicaSet")))
	pod := func(uid string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
		if uid != "" {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + uid, UID: types.UID(uid), Controller: ptr.To(true)}}
		}
		return p
	}
	tests := []struct {
		name     string
		old, cur *corev1.Pod
		want     string
	}{
		{"unchanged", pod("a"), pod("a"), ""},
		{"released", pod("a"), pod(""), "ns/rs-a"},
		{"moved", pod("a"), pod("b"), "ns/rs-a"},
		{"adopted", pod(""), pod("b"), ""},
	}
	for _, tt := range tests {
		got, _ := key(tt.old, tt.cur)
		if got != tt.want {
			t.Errorf("%s: FormerOwnerKey = %q, want %q", tt.name, got, tt.want)
		}
	}
}
