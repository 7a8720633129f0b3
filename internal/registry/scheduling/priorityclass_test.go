package scheduling

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPriorityClassResource(t *testing.T) {
	r := PriorityClasses()
	if r.Group != "scheduling.k8s.io" || r.Resource != "priorityclasses" || r.Namespaced || !reflect.DeepEqual(r.ShortNames, []string{"pc"}) {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestPriorityClassDefault(t *testing.T) {
	s := priorityClassStrategy{now: fixedClock}
	pc := &schedulingv1.PriorityClass{Value: 10}
	s.Default(pc)
	if pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("preemptionPolicy %v", pc.PreemptionPolicy)
	}
	pc.PreemptionPolicy = ptr.To(corev1.PreemptNever)
	s.Default(pc)
	if *pc.PreemptionPolicy != corev1.PreemptNever {
		t.Errorf("explicit policy overwritten")
	}
}

func TestPriorityClassValidate(t *testing.T) {
	cases := []struct {
		name   string
		pc     schedulingv1.PriorityClass
		want   []string
		detail string
	}{
		{name: "user class", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000000000, GlobalDefault: true}},
		{name: "negative value allowed", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "low"}, Value: -5}},
		{name: "user value too high", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000000001},
			want: []string{forbidden + "value"}, detail: "maximum allowed value of a user defined priority is 1000000000"},
		{name: "system node critical", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-node-critical"}, Value: 2000001000}},
		{name: "system cluster critical", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-cluster-critical"}, Value: 2000000000}},
		{name: "system class wrong value", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-cluster-critical"}, Value: 5},
			want: []string{forbidden + "metadata.name"}, detail: "value of system-cluster-critical PriorityClass must be 2000000000"},
		{name: "system class global default", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-node-critical"}, Value: 2000001000, GlobalDefault: true},
			want: []string{forbidden + "metadata.name"}, detail: "globalDefault of system-node-critical PriorityClass must be false"},
		{name: "unknown system class", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-mine"}, Value: 1},
			want: []string{forbidden + "metadata.name"}, detail: "reserved for system use only. error: system-mine is not a known system priority class"},
		{name: "bad preemption policy", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, PreemptionPolicy: ptr.To(corev1.PreemptionPolicy("Sometimes"))},
			want: []string{notSupported + "preemptionPolicy"}},
		{name: "empty preemption policy", pc: schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, PreemptionPolicy: ptr.To(corev1.PreemptionPolicy(""))},
			want: []string{required + "preemptionPolicy"}},
	}
	s := priorityClassStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pc := tc.pc.DeepCopy()
			s.Default(pc)
			errs := s.Validate(pc)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
	for _, sys := range SystemPriorityClasses() {
		checkErrs(t, s.Validate(sys), nil)
	}
}

func TestPriorityClassValidateUpdate(t *testing.T) {
	s := priorityClassStrategy{now: fixedClock}
	old := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 100}
	s.Default(old)
	cur := old.DeepCopy()
	cur.Description = "changed"
	cur.GlobalDefault = true
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.Value = 200
	cur.PreemptionPolicy = ptr.To(corev1.PreemptNever)
	errs := s.ValidateUpdate(cur, old)
	checkErrs(t, errs, []string{forbidden + "value", invalid + "preemptionPolicy"})
	checkDetail(t, errs, "value", "may not be changed in an update.")
}

func TestPriorityClassTable(t *testing.T) {
	s := priorityClassStrategy{now: fixedClock}
	cols := s.TableColumns()
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "Value", "Global-Default", "Age", "PreemptionPolicy"}) || cols[1].Type != "integer" || cols[2].Type != "boolean" {
		t.Fatalf("columns %+v", cols)
	}
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high", CreationTimestamp: createdAgo(3 * time.Hour)}, Value: 1000, GlobalDefault: true}
	if got, want := s.TableRow(pc), []interface{}{"high", int64(1000), true, "3h", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
	s.Default(pc)
	if got := s.TableRow(pc)[4]; got != "PreemptLowerPriority" {
		t.Errorf("policy cell %v", got)
	}
}
