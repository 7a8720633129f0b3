package core

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func pvcTest(mut func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
	}
	if mut != nil {
		mut(pvc)
	}
	return pvc
}

func TestPersistentVolumeClaimsResource(t *testing.T) {
	r := PersistentVolumeClaims()
	if !r.Namespaced || r.Resource != "persistentvolumeclaims" || r.ShortNames[0] != "pvc" || !r.HasSubresource("status") {
		t.Errorf("unexpected resource %+v", r)
	}
	var _ registry.StatusStrategy = pvcStrategy{}
}

func TestPersistentVolumeClaimCreate(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name string
		mut  func(*corev1.PersistentVolumeClaim)
		want []string
	}{
		{"valid", nil, nil},
		{"no access modes", func(c *corev1.PersistentVolumeClaim) { c.Spec.AccessModes = nil },
			[]string{"FieldValueRequired spec.accessModes"}},
		{"no storage", func(c *corev1.PersistentVolumeClaim) { c.Spec.Resources.Requests = nil },
			[]string{"FieldValueRequired spec.resources[storage]"}},
		{"zero storage", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("0")
		}, []string{"FieldValueInvalid spec.resources[storage]"}},
		{"bad class", func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = str("Fast SSD") },
			[]string{"FieldValueInvalid spec.storageClassName"}},
		{"empty class allowed", func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = str("") }, nil},
		{"bad selector", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b c"}}
		}, []string{"FieldValueInvalid spec.selector.matchLabels"}},
		{"data source kind", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "Secret", Name: "x"}
		}, []string{"FieldValueInvalid spec.dataSource"}},
		{"data source mismatch", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "x"}
			c.Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "y"}
		}, []string{"FieldValueInvalid spec"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := pvcStrategy{}
			pvc := pvcTest(c.mut)
			pvc.Status.Phase = corev1.ClaimBound
			s.Default(pvc)
			s.PrepareForCreate(pvc)
			commonExpectErrs(t, s.Validate(pvc), c.want...)
			if pvc.Status.Phase != corev1.ClaimPending || *pvc.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
				t.Errorf("phase %q mode %v", pvc.Status.Phase, *pvc.Spec.VolumeMode)
			}
		})
	}
}

func TestPersistentVolumeClaimUpdate(t *testing.T) {
	s := pvcStrategy{}
	str := func(s string) *string { return &s }
	pending := pvcTest(nil)
	s.Default(pending)
	s.PrepareForCreate(pending)
	bound := pending.DeepCopy()
	bound.Spec.VolumeName = "pv-1"
	bound.Status = corev1.PersistentVolumeClaimStatus{
		Phase:    corev1.ClaimBound,
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
	}
	cases := []struct {
		name string
		old  *corev1.PersistentVolumeClaim
		mut  func(*corev1.PersistentVolumeClaim)
		want []string
	}{
		{"bind once", pending, func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "pv-9" }, nil},
		{"rebind", bound, func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "pv-9" }, []string{"FieldValueForbidden spec"}},
		{"expand bound", bound, func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		}, nil},
		{"expand pending", pending, func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		}, []string{"FieldValueForbidden spec"}},
		{"shrink bound", bound, func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("500Mi")
		}, []string{"FieldValueForbidden spec.resources.requests.storage"}},
		{"access modes", bound, func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, []string{"FieldValueForbidden spec"}},
		{"set class once", pending, func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = str("standard") }, nil},
		{"mode", pending, func(c *corev1.PersistentVolumeClaim) { m := corev1.PersistentVolumeBlock; c.Spec.VolumeMode = &m },
			[]string{"FieldValueForbidden spec", "FieldValueInvalid volumeMode"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pvc := c.old.DeepCopy()
			c.mut(pvc)
			pvc.Status = corev1.PersistentVolumeClaimStatus{}
			s.Default(pvc)
			s.PrepareForUpdate(pvc, c.old)
			if pvc.Status.Phase != c.old.Status.Phase {
				t.Error("update changed status")
			}
			commonExpectErrs(t, s.ValidateUpdate(pvc, c.old), c.want...)
		})
	}
	errs := s.ValidateUpdate(func() *corev1.PersistentVolumeClaim {
		p := bound.DeepCopy()
		p.Spec.AccessModes = nil
		return p
	}(), bound)
	commonExpectErrText(t, errs, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")

	st := pending.DeepCopy()
	st.Spec.VolumeName = "pv-x"
	st.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}
	s.PrepareForStatusUpdate(st, pending)
	if st.Spec.VolumeName != "" || st.Status.Phase != corev1.ClaimBound {
		t.Errorf("status update: %+v", st)
	}
	commonExpectErrs(t, s.ValidateStatusUpdate(st, pending))
}

func TestPersistentVolumeClaimTable(t *testing.T) {
	s := pvcStrategy{}
	class := "standard"
	pvc := pvcTest(func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = &class })
	s.Default(pvc)
	s.PrepareForCreate(pvc)
	row := s.TableRow(pvc)
	cols := []string{"Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age", "VolumeMode"}
	commonCheckTable(t, s, cols, row)
	if want := []interface{}{"data", "Pending", "", "", "", "standard", "<unset>", "<unknown>", "Filesystem"}; !reflect.DeepEqual(row, want) {
		t.Errorf("pending row = %#v", row)
	}
	pvc.Spec.VolumeName = "pv-1"
	pvc.Status = corev1.PersistentVolumeClaimStatus{
		Phase:       corev1.ClaimBound,
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")},
	}
	if want := []interface{}{"data", "Bound", "pv-1", "2Gi", "RWO", "standard", "<unset>", "<unknown>", "Filesystem"}; !reflect.DeepEqual(s.TableRow(pvc), want) {
		t.Errorf("bound row = %#v", s.TableRow(pvc))
	}
	if f := s.SelectableFields(pvc); f["name"] != "data" {
		t.Errorf("fields = %v", f)
	}
}
