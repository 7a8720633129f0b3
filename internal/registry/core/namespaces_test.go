package core

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func nsTest(name string, finalizers ...corev1.FinalizerName) *corev1.Namespace {
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.NamespaceSpec{Finalizers: finalizers},
	}
}

func TestNamespacesResource(t *testing.T) {
	r := Namespaces()
	if r.Namespaced || r.Resource != "namespaces" || r.ShortNames[0] != "ns" {
		t.Errorf("unexpected resource %+v", r)
	}
	if !r.HasSubresource("status") || !r.HasSubresource("finalize") {
		t.Error("namespaces must serve status and finalize")
	}
	for _, name := range []string{"a.b", "UPPER", "-x"} {
		if len(r.ValidateName(name, false)) == 0 {
			t.Errorf("name %q must be rejected (DNS-1123 label)", name)
		}
	}
	if len(r.ValidateName("team-a", false)) != 0 {
		t.Error("valid name rejected")
	}
	var _ registry.StatusStrategy = nsStrategy{}
}

func TestNamespaceCreate(t *testing.T) {
	cases := []struct {
		name       string
		in         *corev1.Namespace
		finalizers []corev1.FinalizerName
		errs       []string
	}{
		{"plain", nsTest("a"), []corev1.FinalizerName{"kubernetes"}, nil},
		{"kubernetes kept once", nsTest("a", "kubernetes"), []corev1.FinalizerName{"kubernetes"}, nil},
		{"custom finalizer", nsTest("a", "example.com/x"), []corev1.FinalizerName{"example.com/x", "kubernetes"}, nil},
		{"unqualified finalizer", nsTest("a", "cleanup"), []corev1.FinalizerName{"cleanup", "kubernetes"},
			[]string{"FieldValueInvalid spec.finalizers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := nsStrategy{}
			c.in.Status.Phase = corev1.NamespaceTerminating
			s.Default(c.in)
			s.PrepareForCreate(c.in)
			commonExpectErrs(t, s.Validate(c.in), c.errs...)
			if c.in.Status.Phase != corev1.NamespaceActive {
				t.Errorf("phase = %q", c.in.Status.Phase)
			}
			if !reflect.DeepEqual(c.in.Spec.Finalizers, c.finalizers) {
				t.Errorf("finalizers = %v, want %v", c.in.Spec.Finalizers, c.finalizers)
			}
			if c.in.Labels[corev1.LabelMetadataName] != "a" {
				t.Errorf("labels = %v", c.in.Labels)
			}
		})
	}
}

func TestNamespaceUpdates(t *testing.T) {
	s := nsStrategy{}
	old := nsTest("a", "kubernetes")
	s.PrepareForCreate(old)

	upd := old.DeepCopy()
	upd.Spec.Finalizers = nil
	upd.Status.Phase = corev1.NamespaceTerminating
	upd.Labels = map[string]string{"team": "x"}
	s.Default(upd)
	s.PrepareForUpdate(upd, old)
	if len(upd.Spec.Finalizers) != 1 || upd.Status.Phase != corev1.NamespaceActive {
		t.Errorf("main update changed finalizers/status: %+v", upd)
	}
	if upd.Labels[corev1.LabelMetadataName] != "a" || upd.Labels["team"] != "x" {
		t.Errorf("labels = %v", upd.Labels)
	}

	st := old.DeepCopy()
	st.Spec.Finalizers = nil
	st.Status.Phase = corev1.NamespaceTerminating
	s.PrepareForStatusUpdate(st, old)
	if len(st.Spec.Finalizers) != 1 {
		t.Error("status update changed spec")
	}
	commonExpectErrs(t, s.ValidateStatusUpdate(st, old), "FieldValueInvalid status.Phase")
	now := metav1.Now()
	st.DeletionTimestamp = &now
	commonExpectErrs(t, s.ValidateStatusUpdate(st, old))

	fin := old.DeepCopy()
	fin.Spec.Finalizers = []corev1.FinalizerName{"bad"}
	fin.Status.Phase = corev1.NamespaceTerminating
	NamespacePrepareForFinalize(fin, old)
	if fin.Status.Phase != corev1.NamespaceActive {
		t.Error("finalize changed status")
	}
	commonExpectErrs(t, NamespaceValidateFinalize(fin, old), "FieldValueInvalid spec.finalizers[0]")
	fin.Spec.Finalizers = nil
	commonExpectErrs(t, NamespaceValidateFinalize(fin, old))
}

func TestNamespaceTableAndFields(t *testing.T) {
	s := nsStrategy{}
	ns := nsTest("kube-system")
	ns.Status.Phase = corev1.NamespaceActive
	ns.CreationTimestamp = metav1.NewTime(time.Now().Add(-48 * time.Hour))
	row := s.TableRow(ns)
	commonCheckTable(t, s, []string{"Name", "Status", "Age"}, row)
	if want := []interface{}{"kube-system", "Active", "2d"}; !reflect.DeepEqual(row, want) {
		t.Errorf("row = %v, want %v", row, want)
	}
	f := s.SelectableFields(ns)
	if f["status.phase"] != "Active" || f["name"] != "kube-system" {
		t.Errorf("fields = %v", f)
	}
}
