package admission

import (
	"errors"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/registry"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// fakeLister serves fixed objects.
type fakeLister struct {
	objs []runtime.Object
	err  error
}

func (f fakeLister) List(string) ([]runtime.Object, error) { return f.objs, f.err }

func storageClass(name string, created time.Time, annotations map[string]string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created), Annotations: annotations}}
}

func TestDefaultStorageClass(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	isDefault := map[string]string{defaultStorageClassAnnotation: "true"}
	tests := []struct {
		name    string
		classes []runtime.Object
		claim   *corev1.PersistentVolumeClaim
		want    *string
	}{
		{"no default", []runtime.Object{storageClass("fast", t0, nil)}, &corev1.PersistentVolumeClaim{}, nil},
		{"default", []runtime.Object{storageClass("fast", t0, nil), storageClass("std", t0, isDefault)}, &corev1.PersistentVolumeClaim{}, ptr.To("std")},
		{"beta default annotation", []runtime.Object{storageClass("old", t0, map[string]string{betaDefaultStorageClassAnnotation: "true"})},
			&corev1.PersistentVolumeClaim{}, ptr.To("old")},
		{"default annotation not true", []runtime.Object{storageClass("std", t0, map[string]string{defaultStorageClassAnnotation: "false"})},
			&corev1.PersistentVolumeClaim{}, nil},
		{"newest of several defaults", []runtime.Object{storageClass("a", t0, isDefault), storageClass("b", t0.Add(time.Hour), isDefault)},
			&corev1.PersistentVolumeClaim{}, ptr.To("b")},
		{"same age: first by name", []runtime.Object{storageClass("b", t0, isDefault), storageClass("a", t0, isDefault)},
			&corev1.PersistentVolumeClaim{}, ptr.To("a")},
		{"class named", []runtime.Object{storageClass("std", t0, isDefault)},
			&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("fast")}}, ptr.To("fast")},
		{"empty class means none", []runtime.Object{storageClass("std", t0, isDefault)},
			&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("")}}, ptr.To("")},
		{"beta claim annotation", []runtime.Object{storageClass("std", t0, isDefault)},
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{betaClaimStorageClassAnnotation: "fast"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &DefaultStorageClass{Classes: fakeLister{objs: tt.classes}}
			a := &apiserver.Attributes{Resource: &registry.Resource{Version: "v1", Resource: "persistentvolumeclaims", Namespaced: true}, Verb: "create", Object: tt.claim}
			if err := d.Admit(a); err != nil {
				t.Fatal(err)
			}
			got := tt.claim.Spec.StorageClassName
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("storageClassName %v, want %v", ptr.Deref(got, "<nil>"), ptr.Deref(tt.want, "<nil>"))
			}
		})
	}
}

func TestDefaultStorageClassOnlyOnCreate(t *testing.T) {
	d := &DefaultStorageClass{Classes: fakeLister{objs: []runtime.Object{storageClass("std", time.Now(), map[string]string{defaultStorageClassAnnotation: "true"})}}}
	claim := &corev1.PersistentVolumeClaim{}
	a := &apiserver.Attributes{Resource: &registry.Resource{Version: "v1", Resource: "persistentvolumeclaims"}, Verb: "update", Object: claim, Old: claim.DeepCopy()}
	if err := d.Admit(a); err != nil || claim.Spec.StorageClassName != nil {
		t.Fatalf("update changed the claim (class %v, err %v)", claim.Spec.StorageClassName, err)
	}
}

func TestDefaultStorageClassListError(t *testing.T) {
	d := &DefaultStorageClass{Classes: fakeLister{err: errors.New("boom")}}
	a := &apiserver.Attributes{Resource: &registry.Resource{Version: "v1", Resource: "persistentvolumeclaims"}, Verb: "create", Name: "c", Object: &corev1.PersistentVolumeClaim{}}
	if err := d.Admit(a); !apierrors.IsForbidden(err) {
		t.Fatalf("got %v, want 403", err)
	}
}
