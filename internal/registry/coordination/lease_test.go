package coordination

import (
	"reflect"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestLeaseResource(t *testing.T) {
	r := Leases()
	if r.Group != "coordination.k8s.io" || r.Version != "v1" || r.Resource != "leases" || !r.Namespaced || r.Kind != "Lease" {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestLeaseValidate(t *testing.T) {
	strategy := func(s string) *coordinationv1.CoordinatedLeaseStrategy {
		v := coordinationv1.CoordinatedLeaseStrategy(s)
		return &v
	}
	cases := []struct {
		name   string
		spec   coordinationv1.LeaseSpec
		want   []string
		detail string
	}{
		{name: "empty"},
		{name: "typical", spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To("node-1"), LeaseDurationSeconds: ptr.To[int32](40), LeaseTransitions: ptr.To[int32](0),
			RenewTime: ptr.To(metav1.NowMicro()),
		}},
		{name: "zero duration", spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](0)},
			want: []string{invalid + "spec.leaseDurationSeconds"}, detail: "must be greater than 0"},
		{name: "negative transitions", spec: coordinationv1.LeaseSpec{LeaseTransitions: ptr.To[int32](-1)},
			want: []string{invalid + "spec.leaseTransitions"}, detail: "must be greater than or equal to 0"},
		{name: "known strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("OldestEmulationVersion"), PreferredHolder: ptr.To("a")}},
		{name: "qualified strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("example.com/mine")}},
		{name: "unknown strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("Newest")},
			want: []string{notSupported + "spec.strategy.strategy"}},
		{name: "bad qualified strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("a/b/c")},
			want: []string{invalid + "spec.strategy.strategy"}},
		{name: "preferred holder without strategy", spec: coordinationv1.LeaseSpec{PreferredHolder: ptr.To("a")},
			want: []string{forbidden + "spec.preferredHolder"}, detail: "may only be specified if `strategy` is defined"},
	}
	s := leaseStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: "kube-node-lease"}, Spec: tc.spec}
			s.Default(l)
			s.PrepareForCreate(l)
			errs := s.Validate(l)
			checkErrs(t, errs, tc.want)
			checkErrs(t, s.ValidateUpdate(l, l.DeepCopy()), tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestLeaseTable(t *testing.T) {
	s := leaseStrategy{now: fixedClock}
	cols := s.TableColumns()
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "Holder", "Age"}) || cols[0].Format != "name" || cols[1].Description == "" {
		t.Fatalf("columns %+v", cols)
	}
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "kube-scheduler", CreationTimestamp: createdAgo(7 * time.Minute)}}
	if got, want := s.TableRow(l), []interface{}{"kube-scheduler", "", "7m"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
	l.Spec.HolderIdentity = ptr.To("node-1_abc")
	if got := s.TableRow(l)[1]; got != "node-1_abc" {
		t.Errorf("holder cell %v", got)
	}
}
