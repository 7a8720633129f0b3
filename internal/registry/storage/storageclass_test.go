package storage

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validStorageClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard"},
		Provisioner: "rancher.io/local-path",
		Parameters:  map[string]string{"type": "ssd"},
	}
}

func TestStorageClassResource(t *testing.T) {
	r := StorageClasses()
	if r.Group != "storage.k8s.io" || r.Resource != "storageclasses" || r.Namespaced || !reflect.DeepEqual(r.ShortNames, []string{"sc"}) {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestStorageClassDefault(t *testing.T) {
	s := storageClassStrategy{now: fixedClock}
	sc := validStorageClass()
	s.Default(sc)
	if sc.ReclaimPolicy == nil || *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("reclaimPolicy %v", sc.ReclaimPolicy)
	}
	if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("volumeBindingMode %v", sc.VolumeBindingMode)
	}
	sc = validStorageClass()
	sc.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRetain)
	sc.VolumeBindingMode = ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)
	s.Default(sc)
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimRetain || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		t.Errorf("explicit values overwritten: %v %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
}

func TestStorageClassValidate(t *testing.T) {
	term := func(key string, values ...string) corev1.TopologySelectorTerm {
		return corev1.TopologySelectorTerm{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: key, Values: values}}}
	}
	cases := []struct {
		name    string
		mutate  func(*storagev1.StorageClass)
		noDef   bool
		want    []string
		detail  string
		oneMore string
	}{
		{name: "valid", mutate: func(*storagev1.StorageClass) {}},
		{name: "upper case provisioner", mutate: func(c *storagev1.StorageClass) { c.Provisioner = "Example.COM/Disk" }},
		{name: "provisioner missing", mutate: func(c *storagev1.StorageClass) { c.Provisioner = "" },
			want: []string{required + "provisioner"}},
		{name: "provisioner invalid", mutate: func(c *storagev1.StorageClass) { c.Provisioner = "a/b/c" },
			want: []string{invalid + "provisioner"}},
		{name: "empty parameter key", mutate: func(c *storagev1.StorageClass) { c.Parameters[""] = "x" },
			want: []string{invalid + "parameters"}, detail: "field can not be empty."},
		{name: "parameters too large", mutate: func(c *storagev1.StorageClass) { c.Parameters["big"] = strings.Repeat("x", 256*1024) },
			want: []string{tooLong + "parameters"}},
		{name: "bad reclaim policy", mutate: func(c *storagev1.StorageClass) {
			c.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRecycle)
		}, want: []string{notSupported + "reclaimPolicy"}, detail: `supported values: "Delete", "Retain"`},
		{name: "bad binding mode", mutate: func(c *storagev1.StorageClass) {
			c.VolumeBindingMode = ptr.To(storagev1.VolumeBindingMode("Later"))
		}, want: []string{notSupported + "volumeBindingMode"}},
		{name: "binding mode missing without defaulting", noDef: true, mutate: func(c *storagev1.StorageClass) {
			c.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimDelete)
		}, want: []string{required + "volumeBindingMode"}},
		{name: "topologies valid", mutate: func(c *storagev1.StorageClass) {
			c.AllowedTopologies = []corev1.TopologySelectorTerm{term("topology.kubernetes.io/zone", "a", "b"), term("topology.kubernetes.io/zone", "c")}
		}},
		{name: "topology values missing", mutate: func(c *storagev1.StorageClass) {
			c.AllowedTopologies = []corev1.TopologySelectorTerm{term("zone")}
		}, want: []string{required + "allowedTopologies[0].matchLabelExpressions[0].values"}},
		{name: "topology bad key and duplicate value", mutate: func(c *storagev1.StorageClass) {
			c.AllowedTopologies = []corev1.TopologySelectorTerm{term("bad key", "a", "a")}
		}, want: []string{invalid + "allowedTopologies[0].matchLabelExpressions[0].key", "FieldValueDuplicate allowedTopologies[0].matchLabelExpressions[0].values[1]"}},
		{name: "duplicate topology terms", mutate: func(c *storagev1.StorageClass) {
			c.AllowedTopologies = []corev1.TopologySelectorTerm{term("zone", "a"), term("zone", "a")}
		}, want: []string{"FieldValueDuplicate allowedTopologies[1].matchLabelExpressions"}},
	}
	s := storageClassStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := validStorageClass()
			tc.mutate(sc)
			if !tc.noDef {
				s.Default(sc)
			}
			errs := s.Validate(sc)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestStorageClassValidateUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		want   []string
		detail string
	}{
		{name: "labels and expansion may change", mutate: func(c *storagev1.StorageClass) {
			c.Labels = map[string]string{"a": "b"}
			c.AllowVolumeExpansion = ptr.To(true)
			c.MountOptions = []string{"ro"}
		}},
		{name: "parameters", mutate: func(c *storagev1.StorageClass) { c.Parameters["type"] = "hdd" },
			want: []string{forbidden + "parameters"}, detail: "updates to parameters are forbidden."},
		{name: "provisioner", mutate: func(c *storagev1.StorageClass) { c.Provisioner = "other.io/x" },
			want: []string{forbidden + "provisioner"}, detail: "updates to provisioner are forbidden."},
		{name: "reclaim policy", mutate: func(c *storagev1.StorageClass) { c.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRetain) },
			want: []string{forbidden + "reclaimPolicy"}},
		{name: "binding mode", mutate: func(c *storagev1.StorageClass) {
			c.VolumeBindingMode = ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)
		}, want: []string{invalid + "volumeBindingMode"}, detail: "field is immutable"},
	}
	s := storageClassStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validStorageClass()
			s.Default(old)
			cur := old.DeepCopy()
			tc.mutate(cur)
			s.Default(cur)
			errs := s.ValidateUpdate(cur, old)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestStorageClassTable(t *testing.T) {
	s := storageClassStrategy{now: fixedClock}
	var names []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"}) {
		t.Fatalf("columns %v", names)
	}
	cases := []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		want   []interface{}
	}{
		{name: "undefaulted", mutate: func(*storagev1.StorageClass) {},
			want: []interface{}{"standard", "rancher.io/local-path", "Delete", "Immediate", false, "4d"}},
		{name: "default class", mutate: func(c *storagev1.StorageClass) {
			c.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
			c.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRetain)
			c.VolumeBindingMode = ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)
			c.AllowVolumeExpansion = ptr.To(true)
		}, want: []interface{}{"standard (default)", "rancher.io/local-path", "Retain", "WaitForFirstConsumer", true, "4d"}},
		{name: "beta default annotation", mutate: func(c *storagev1.StorageClass) {
			c.Annotations = map[string]string{"storageclass.beta.kubernetes.io/is-default-class": "true"}
		}, want: []interface{}{"standard (default)", "rancher.io/local-path", "Delete", "Immediate", false, "4d"}},
		{name: "annotation false", mutate: func(c *storagev1.StorageClass) {
			c.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "false"}
		}, want: []interface{}{"standard", "rancher.io/local-path", "Delete", "Immediate", false, "4d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := validStorageClass()
			sc.CreationTimestamp = createdAgo(4 * 24 * time.Hour)
			tc.mutate(sc)
			if got := s.TableRow(sc); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("row %v, want %v", got, tc.want)
			}
		})
	}
}
