package storage

import (
	"reflect"
	"strings"
	"testing"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validCSINode() *storagev1.CSINode {
	return &storagev1.CSINode{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
		Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{
			Name: "hostpath.csi.k8s.io", NodeID: "node-1", TopologyKeys: []string{"topology.hostpath.csi/node"},
			Allocatable: &storagev1.VolumeNodeResources{Count: ptr.To[int32](10)},
		}}},
	}
}

func TestCSINodeValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*storagev1.CSINodeDriver)
		extra  bool
		want   []string
	}{
		{name: "valid", mutate: func(*storagev1.CSINodeDriver) {}},
		{name: "upper-case driver name", mutate: func(d *storagev1.CSINodeDriver) { d.Name = "HostPath.CSI.k8s.io" }},
		{name: "node id missing", mutate: func(d *storagev1.CSINodeDriver) { d.NodeID = "" },
			want: []string{required + "spec.drivers[0].nodeID"}},
		{name: "node id too long", mutate: func(d *storagev1.CSINodeDriver) { d.NodeID = strings.Repeat("n", 193) },
			want: []string{invalid + "spec.drivers[0].nodeID"}},
		{name: "driver name invalid", mutate: func(d *storagev1.CSINodeDriver) { d.Name = "bad_name" },
			want: []string{invalid + "spec.drivers[0].name"}},
		{name: "negative allocatable", mutate: func(d *storagev1.CSINodeDriver) { d.Allocatable.Count = ptr.To[int32](-1) },
			want: []string{invalid + "spec.drivers[0].allocatable.count"}},
		{name: "duplicate topology key", mutate: func(d *storagev1.CSINodeDriver) { d.TopologyKeys = []string{"zone", "zone"} },
			want: []string{"FieldValueDuplicate spec.drivers[0]"}},
		{name: "duplicate driver", extra: true, mutate: func(*storagev1.CSINodeDriver) {},
			want: []string{"FieldValueDuplicate spec.drivers[1].name"}},
	}
	s := csiNodeStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := validCSINode()
			tc.mutate(&n.Spec.Drivers[0])
			if tc.extra {
				n.Spec.Drivers = append(n.Spec.Drivers, n.Spec.Drivers[0])
			}
			checkErrs(t, s.Validate(n), tc.want)
		})
	}
}

func TestCSINodeValidateUpdate(t *testing.T) {
	s := csiNodeStrategy{now: fixedClock}
	old := validCSINode()
	cur := old.DeepCopy()
	cur.Spec.Drivers[0].Allocatable.Count = ptr.To[int32](20)
	cur.Spec.Drivers = append(cur.Spec.Drivers, storagev1.CSINodeDriver{Name: "other.csi", NodeID: "x"})
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.Spec.Drivers[0].NodeID = "changed"
	checkErrs(t, s.ValidateUpdate(cur, old), []string{invalid + "spec.drivers"})

	// A node ID stored under an older, longer limit stays acceptable.
	long := validCSINode()
	long.Spec.Drivers[0].NodeID = strings.Repeat("n", 200)
	checkErrs(t, s.ValidateUpdate(long.DeepCopy(), long), nil)
}

func TestCSINodeTable(t *testing.T) {
	s := csiNodeStrategy{now: fixedClock}
	cols := s.TableColumns()
	if len(cols) != 3 || cols[1].Name != "Drivers" || cols[1].Type != "integer" {
		t.Fatalf("columns %+v", cols)
	}
	n := validCSINode()
	n.CreationTimestamp = createdAgo(time.Minute)
	if got, want := s.TableRow(n), []interface{}{"node-1", int64(1), "60s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
}
