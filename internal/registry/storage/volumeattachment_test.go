package storage

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validAttachment() *storagev1.VolumeAttachment {
	return &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: "csi-123"},
		Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "hostpath.csi.k8s.io",
			NodeName: "node-1",
			Source:   storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr.To("pv-1")},
		},
	}
}

func TestVolumeAttachmentResource(t *testing.T) {
	r := VolumeAttachments()
	if r.Resource != "volumeattachments" || r.Namespaced || !r.HasSubresource("status") {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestVolumeAttachmentValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*storagev1.VolumeAttachment)
		want   []string
	}{
		{name: "valid", mutate: func(*storagev1.VolumeAttachment) {}},
		{name: "no source", mutate: func(v *storagev1.VolumeAttachment) { v.Spec.Source = storagev1.VolumeAttachmentSource{} },
			want: []string{required + "spec.source"}},
		{name: "both sources", mutate: func(v *storagev1.VolumeAttachment) {
			v.Spec.Source.InlineVolumeSpec = &corev1.PersistentVolumeSpec{}
		}, want: []string{forbidden + "spec.source"}},
		{name: "empty pv name", mutate: func(v *storagev1.VolumeAttachment) { v.Spec.Source.PersistentVolumeName = ptr.To("") },
			want: []string{required + "spec.source.persistentVolumeName", invalid + "spec.source.persistentVolumeName"}},
		{name: "bad node name", mutate: func(v *storagev1.VolumeAttachment) { v.Spec.NodeName = "Node_1" },
			want: []string{invalid + "spec.nodeName"}},
		{name: "attacher missing", mutate: func(v *storagev1.VolumeAttachment) { v.Spec.Attacher = "" },
			want: []string{required + "spec.attacher", required + "spec.attacher", invalid + "spec.attacher"}},
		{name: "long error message", mutate: func(v *storagev1.VolumeAttachment) {
			v.Status.AttachError = &storagev1.VolumeError{Message: strings.Repeat("x", 1025), ErrorCode: ptr.To[int32](-1)}
		}, want: []string{tooLong + "status.attachError.message", invalid + "status.attachError.errorCode"}},
	}
	s := volumeAttachmentStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := validAttachment()
			tc.mutate(v)
			checkErrs(t, s.Validate(v), tc.want)
		})
	}
}

func TestVolumeAttachmentStatusHandling(t *testing.T) {
	s := volumeAttachmentStrategy{now: fixedClock}
	attached := storagev1.VolumeAttachmentStatus{Attached: true, AttachmentMetadata: map[string]string{"dev": "/dev/sdb"}}

	v := validAttachment()
	v.Status = attached
	s.PrepareForCreate(v)
	if !reflect.DeepEqual(v.Status, storagev1.VolumeAttachmentStatus{}) {
		t.Errorf("create kept status %+v", v.Status)
	}

	old := validAttachment()
	old.Status = attached
	upd := validAttachment()
	upd.Labels = map[string]string{"a": "b"}
	s.PrepareForUpdate(upd, old)
	if !reflect.DeepEqual(upd.Status, attached) {
		t.Errorf("main update lost status %+v", upd.Status)
	}
	checkErrs(t, s.ValidateUpdate(upd, old), nil)

	st := validAttachment()
	st.Spec.NodeName = "node-2"
	st.Status = storagev1.VolumeAttachmentStatus{Attached: false}
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.NodeName != "node-1" || st.Status.Attached {
		t.Errorf("status update: node %q attached %v", st.Spec.NodeName, st.Status.Attached)
	}
	checkErrs(t, s.ValidateStatusUpdate(st, old), nil)

	moved := validAttachment()
	moved.Spec.NodeName = "node-2"
	errs := s.ValidateUpdate(moved, old)
	checkErrs(t, errs, []string{invalid + "spec"})
	checkDetail(t, errs, "spec", "field is immutable")
}

func TestVolumeAttachmentTable(t *testing.T) {
	s := volumeAttachmentStrategy{now: fixedClock}
	var names []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "Attacher", "PV", "Node", "Attached", "Age"}) {
		t.Fatalf("columns %v", names)
	}
	v := validAttachment()
	v.Status.Attached = true
	if got, want := s.TableRow(v), []interface{}{"csi-123", "hostpath.csi.k8s.io", "pv-1", "node-1", true, "<unknown>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
}
