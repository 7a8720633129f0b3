package core

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func pvTest(mut func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-1"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/data/pv-1"},
			},
		},
	}
	if mut != nil {
		mut(pv)
	}
	return pv
}

func TestPersistentVolumesResource(t *testing.T) {
	r := PersistentVolumes()
	if r.Namespaced || r.Resource != "persistentvolumes" || r.ShortNames[0] != "pv" || !r.HasSubresource("status") {
		t.Errorf("unexpected resource %+v", r)
	}
	var _ registry.StatusStrategy = pvStrategy{}
}

func TestPersistentVolumeCreate(t *testing.T) {
	s := pvStrategy{}
	pv := pvTest(nil)
	pv.Status.Phase = corev1.VolumeBound
	s.Default(pv)
	s.PrepareForCreate(pv)
	commonExpectErrs(t, s.Validate(pv))
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || *pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		t.Errorf("defaults = %q / %v", pv.Spec.PersistentVolumeReclaimPolicy, *pv.Spec.VolumeMode)
	}
	if pv.Status.Phase != corev1.VolumePending || pv.Status.LastPhaseTransitionTime == nil {
		t.Errorf("status = %+v", pv.Status)
	}
}

func TestPersistentVolumeValidate(t *testing.T) {
	aff := &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}},
	}}}}
	cases := []struct {
		name string
		mut  func(*corev1.PersistentVolume)
		want []string
	}{
		{"no access modes", func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = nil }, []string{"FieldValueRequired spec.accessModes"}},
		{"rwop mixed", func(pv *corev1.PersistentVolume) {
			pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadOnlyMany}
		}, []string{"FieldValueForbidden spec.accessModes"}},
		{"bad access mode", func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"RW"} },
			[]string{"FieldValueNotSupported spec.accessModes"}},
		{"no capacity", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = nil },
			[]string{"FieldValueRequired spec.capacity", "FieldValueNotSupported spec.capacity"}},
		{"extra capacity", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity[corev1.ResourceCPU] = resource.MustParse("1") },
			[]string{"FieldValueNotSupported spec.capacity"}},
		{"zero capacity", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse("0") },
			[]string{"FieldValueInvalid spec.capacity[storage]"}},
		{"no source", func(pv *corev1.PersistentVolume) { pv.Spec.HostPath = nil }, []string{"FieldValueRequired spec"}},
		{"two sources", func(pv *corev1.PersistentVolume) {
			pv.Spec.NFS = &corev1.NFSVolumeSource{Server: "nfs", Path: "/x"}
		}, []string{"FieldValueForbidden spec.nfs"}},
		{"host path backsteps", func(pv *corev1.PersistentVolume) { pv.Spec.HostPath.Path = "/data/../etc" },
			[]string{"FieldValueInvalid spec.hostPath.path"}},
		{"recycle root", func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = "/"
			pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRecycle
		}, []string{"FieldValueForbidden spec.persistentVolumeReclaimPolicy"}},
		{"bad reclaim", func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeReclaimPolicy = "Keep" },
			[]string{"FieldValueNotSupported spec.persistentVolumeReclaimPolicy"}},
		{"local needs affinity", func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath = nil
			pv.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt/disk"}
		}, []string{"FieldValueRequired spec.nodeAffinity"}},
		{"local with affinity", func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath = nil
			pv.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt/disk"}
			pv.Spec.NodeAffinity = aff
		}, nil},
		{"nfs relative", func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath = nil
			pv.Spec.NFS = &corev1.NFSVolumeSource{Path: "x"}
		}, []string{"FieldValueRequired spec.nfs.server", "FieldValueInvalid spec.nfs.path"}},
		{"csi", func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath = nil
			pv.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: "csi.example.com"}
		}, []string{"FieldValueRequired spec.csi.volumeHandle"}},
		{"bad storage class", func(pv *corev1.PersistentVolume) { pv.Spec.StorageClassName = "Fast_SSD" },
			[]string{"FieldValueInvalid spec.storageClassName"}},
		{"empty affinity", func(pv *corev1.PersistentVolume) { pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{} },
			[]string{"FieldValueRequired spec.nodeAffinity.required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := pvStrategy{}
			pv := pvTest(c.mut)
			s.Default(pv)
			commonExpectErrs(t, s.Validate(pv), c.want...)
		})
	}
}

func TestPersistentVolumeUpdate(t *testing.T) {
	s := pvStrategy{}
	old := pvTest(nil)
	s.Default(old)
	s.PrepareForCreate(old)
	old.Status.Phase = corev1.VolumeAvailable
	cases := []struct {
		name string
		mut  func(*corev1.PersistentVolume)
		want []string
	}{
		{"grow capacity", func(pv *corev1.PersistentVolume) {
			pv.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse("10Gi")
		}, nil},
		{"bind claim", func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "data"}
		}, nil},
		{"change source", func(pv *corev1.PersistentVolume) { pv.Spec.HostPath.Path = "/elsewhere" },
			[]string{"FieldValueForbidden spec.persistentvolumesource"}},
		{"change mode", func(pv *corev1.PersistentVolume) { m := corev1.PersistentVolumeBlock; pv.Spec.VolumeMode = &m },
			[]string{"FieldValueInvalid volumeMode"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pv := old.DeepCopy()
			c.mut(pv)
			pv.Status = corev1.PersistentVolumeStatus{}
			s.Default(pv)
			s.PrepareForUpdate(pv, old)
			if pv.Status.Phase != corev1.VolumeAvailable {
				t.Error("update changed status")
			}
			errs := s.ValidateUpdate(pv, old)
			commonExpectErrs(t, errs, c.want...)
			if c.name == "change source" {
				commonExpectErrText(t, errs, "spec.persistentvolumesource is immutable after creation")
			}
		})
	}

	st := old.DeepCopy()
	st.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
	st.Status.Phase = corev1.VolumeBound
	before := old.Status.LastPhaseTransitionTime.DeepCopy()
	old.Status.LastPhaseTransitionTime = &metav1.Time{Time: before.Add(-time.Hour)}
	st.Status.LastPhaseTransitionTime = old.Status.LastPhaseTransitionTime.DeepCopy()
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Error("status update changed spec")
	}
	if !st.Status.LastPhaseTransitionTime.After(old.Status.LastPhaseTransitionTime.Time) {
		t.Error("phase transition time not stamped")
	}
}

func TestPersistentVolumeTable(t *testing.T) {
	s := pvStrategy{}
	pv := pvTest(func(pv *corev1.PersistentVolume) {
		pv.Spec.AccessModes = append(pv.Spec.AccessModes, corev1.ReadOnlyMany)
		pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "data"}
		pv.Spec.StorageClassName = "standard"
		pv.Status.Phase = corev1.VolumeBound
	})
	s.Default(pv)
	row := s.TableRow(pv)
	commonCheckTable(t, s, []string{"Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
		"VolumeAttributesClass", "Reason", "Age", "VolumeMode"}, row)
	want := []interface{}{"pv-1", "5Gi", "RWO,ROX", "Retain", "Bound", "ns/data", "standard", "<unset>", "", "<unknown>", "Filesystem"}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("row = %#v, want %#v", row, want)
	}
	now := metav1.Now()
	pv.DeletionTimestamp = &now
	pv.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "legacy"}
	if row := s.TableRow(pv); row[4] != "Terminating" || row[6] != "legacy" {
		t.Errorf("terminating row = %v", row)
	}
	if f := s.SelectableFields(pv); f["name"] != "pv-1" {
		t.Errorf("fields = %v", f)
	}
}
