package namespace

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNextStep(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name string
		ns   corev1.Namespace
		want step
	}{
		{"active", corev1.Namespace{Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}}}, stepNone},
		{"terminating with our finalizer", corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now},
			Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"other", corev1.FinalizerKubernetes}}}, stepContent},
		{"terminating, only another finalizer", corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now},
			Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"other"}}}, stepNone},
		{"terminating, metadata finalizer", corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now, Finalizers: []string{"x/y"}}}, stepNone},
		{"terminating, nothing left", corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}}, stepDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextStep(&tt.ns); got != tt.want {
				t.Fatalf("nextStep = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWithoutKubernetes(t *testing.T) {
	got := withoutKubernetes([]corev1.FinalizerName{"a", corev1.FinalizerKubernetes, "b"})
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("withoutKubernetes = %v", got)
	}
}

func TestRemainingMessage(t *testing.T) {
	got := remainingMessage(map[string]int{"pods": 2, "configmaps": 1})
	want := "configmaps has 1 resource instances, pods has 2 resource instances"
	if got != want {
		t.Fatalf("remainingMessage = %q, want %q", got, want)
	}
}
