package storage

import (
	"reflect"
	"testing"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestCSIDriverDefault(t *testing.T) {
	s := csiDriverStrategy{now: fixedClock}
	d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "hostpath.csi.k8s.io"}}
	s.Default(d)
	want := storagev1.CSIDriverSpec{
		AttachRequired:       ptr.To(true),
		PodInfoOnMount:       ptr.To(false),
		StorageCapacity:      ptr.To(false),
		RequiresRepublish:    ptr.To(false),
		SELinuxMount:         ptr.To(false),
		FSGroupPolicy:        ptr.To(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy),
		VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
	}
	if !reflect.DeepEqual(d.Spec, want) {
		t.Errorf("defaults %+v", d.Spec)
	}
	checkErrs(t, s.Validate(d), nil)

	d = &storagev1.CSIDriver{Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(false), VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{"Ephemeral"}}}
	s.Default(d)
	if *d.Spec.AttachRequired || d.Spec.VolumeLifecycleModes[0] != "Ephemeral" {
		t.Errorf("explicit values overwritten: %+v", d.Spec)
	}
}

func TestCSIDriverValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*storagev1.CSIDriverSpec)
		undef  bool
		want   []string
	}{
		{name: "valid", mutate: func(*storagev1.CSIDriverSpec) {}},
		{name: "required fields without defaulting", undef: true, mutate: func(*storagev1.CSIDriverSpec) {},
			want: []string{required + "spec.attachedRequired", required + "spec.podInfoOnMount", required + "spec.storageCapacity", required + "spec.seLinuxMount"}},
		{name: "bad fsGroupPolicy", mutate: func(s *storagev1.CSIDriverSpec) { s.FSGroupPolicy = ptr.To(storagev1.FSGroupPolicy("Some")) },
			want: []string{notSupported + "spec.fsGroupPolicy"}},
		{name: "bad lifecycle mode", mutate: func(s *storagev1.CSIDriverSpec) {
			s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Persistent", "Forever"}
		}, want: []string{notSupported + "spec.volumeLifecycleModes"}},
		{name: "token requests", mutate: func(s *storagev1.CSIDriverSpec) {
			s.TokenRequests = []storagev1.TokenRequest{
				{Audience: "a", ExpirationSeconds: ptr.To[int64](60)},
				{Audience: "a"},
				{Audience: "b", ExpirationSeconds: ptr.To[int64](1<<32 + 1)},
				{Audience: "c", ExpirationSeconds: ptr.To[int64](600)},
			}
		}, want: []string{invalid + "spec.tokenRequests[0].expirationSeconds", "FieldValueDuplicate spec.tokenRequests[1].audience", invalid + "spec.tokenRequests[2].expirationSeconds"}},
		{name: "allocatable period too short", mutate: func(s *storagev1.CSIDriverSpec) { s.NodeAllocatableUpdatePeriodSeconds = ptr.To[int64](5) },
			want: []string{invalid + "spec.nodeAllocatableUpdatePeriodSeconds"}},
		{name: "token in secrets without requests", mutate: func(s *storagev1.CSIDriverSpec) { s.ServiceAccountTokenInSecrets = ptr.To(true) },
			want: []string{invalid + "spec.serviceAccountTokenInSecrets"}},
		{name: "token in secrets with requests", mutate: func(s *storagev1.CSIDriverSpec) {
			s.ServiceAccountTokenInSecrets = ptr.To(true)
			s.TokenRequests = []storagev1.TokenRequest{{Audience: "x"}}
		}},
	}
	s := csiDriverStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "d"}}
			if !tc.undef {
				s.Default(d)
			}
			tc.mutate(&d.Spec)
			checkErrs(t, s.Validate(d), tc.want)
		})
	}
}

func TestCSIDriverValidateUpdate(t *testing.T) {
	s := csiDriverStrategy{now: fixedClock}
	old := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "d"}}
	s.Default(old)
	cur := old.DeepCopy()
	cur.Spec.PodInfoOnMount = ptr.To(true)
	cur.Spec.StorageCapacity = ptr.To(true)
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.Spec.AttachRequired = ptr.To(false)
	cur.Spec.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Ephemeral"}
	checkErrs(t, s.ValidateUpdate(cur, old), []string{invalid + "spec.attachedRequired", invalid + "spec.volumeLifecycleModes"})
}

func TestCSIDriverTable(t *testing.T) {
	s := csiDriverStrategy{now: fixedClock}
	if n := len(s.TableColumns()); n != 8 {
		t.Fatalf("%d columns", n)
	}
	d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "d"}}
	if got, want := s.TableRow(d), []interface{}{"d", true, false, false, "<unset>", false, "<none>", "<unknown>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
	s.Default(d)
	d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "a"}, {Audience: "b"}}
	d.Spec.VolumeLifecycleModes = append(d.Spec.VolumeLifecycleModes, "Ephemeral")
	if got, want := s.TableRow(d), []interface{}{"d", true, false, false, "a,b", false, "Persistent,Ephemeral", "<unknown>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
}
