package policy

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var fixedNow = time.Date(2026, 10, 7, 9, 17, 26, 0, time.UTC)

type wantErr struct {
	field  string
	typ    field.ErrorType
	detail string
}

func checkErrs(t *testing.T, errs field.ErrorList, want []wantErr) {
	t.Helper()
	var got []string
	for _, e := range errs {
		got = append(got, "  "+e.Error())
	}
	sort.Strings(got)
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		e := errs[i]
		if e.Field != w.field || e.Type != w.typ || !strings.Contains(e.Detail, w.detail) {
			t.Errorf("error %d: got %s, want %s %s %q", i, e.Error(), w.field, w.typ, w.detail)
		}
	}
}

func intOrStr(v intstr.IntOrString) *intstr.IntOrString { return &v }

func validPDB() *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: intOrStr(intstr.FromInt32(2)),
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		},
	}
}

func TestPDBValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*policyv1.PodDisruptionBudget)
		want   []wantErr
	}{
		{"valid", func(*policyv1.PodDisruptionBudget) {}, nil},
		{"percent max unavailable, no selector", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Spec.MaxUnavailable = intOrStr(intstr.FromString("30%"))
			p.Spec.Selector = nil
		}, nil},
		{"both set", func(p *policyv1.PodDisruptionBudget) { p.Spec.MaxUnavailable = intOrStr(intstr.FromInt32(1)) }, []wantErr{
			{"spec", field.ErrorTypeInvalid, "minAvailable and maxUnavailable cannot be both set"},
		}},
		{"bad values", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = intOrStr(intstr.FromString("150%"))
		}, []wantErr{
			{"spec.minAvailable", field.ErrorTypeInvalid, "must not be greater than 100%"},
		}},
		{"negative and malformed", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Spec.MaxUnavailable = intOrStr(intstr.FromString("ten"))
		}, []wantErr{
			{"spec.maxUnavailable", field.ErrorTypeInvalid, "a valid percent string must be"},
		}},
		{"eviction policy", func(p *policyv1.PodDisruptionBudget) {
			pol := policyv1.UnhealthyPodEvictionPolicyType("Never")
			p.Spec.UnhealthyPodEvictionPolicy = &pol
		}, []wantErr{
			{"spec.unhealthyPodEvictionPolicy", field.ErrorTypeNotSupported, `"AlwaysAllow", "IfHealthyBudget"`},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPDB()
			tc.mutate(p)
			checkErrs(t, pdbStrategy{}.Validate(p), tc.want)
			checkErrs(t, pdbStrategy{}.ValidateUpdate(p, validPDB()), tc.want)
		})
	}
}

func TestPDBStatus(t *testing.T) {
	s := pdbStrategy{}
	p := validPDB()
	p.Status.ExpectedPods = 3
	s.PrepareForCreate(p)
	if p.Status.ExpectedPods != 0 || p.Generation != 1 {
		t.Fatalf("create %+v", p)
	}
	old := validPDB()
	old.Generation = 1
	old.Status = policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1, ExpectedPods: 3}
	upd := old.DeepCopy()
	upd.Spec.MinAvailable = intOrStr(intstr.FromString("50%"))
	upd.Status = policyv1.PodDisruptionBudgetStatus{}
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 2 || upd.Status.ExpectedPods != 3 {
		t.Fatalf("update %+v", upd)
	}
	st := old.DeepCopy()
	st.Spec.MinAvailable = nil
	st.Status = policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: -1, Conditions: []metav1.Condition{{Type: "DisruptionAllowed", Status: "Maybe"}}}
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.MinAvailable == nil {
		t.Fatalf("status update changed spec")
	}
	errs := s.ValidateStatusUpdate(st, old)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	for _, want := range []string{"status.conditions[0].status", "status.disruptionsAllowed"} {
		found := false
		for _, f := range fields {
			found = found || f == want
		}
		if !found {
			t.Errorf("no error on %s in %v", want, errs)
		}
	}
}

func TestPDBTable(t *testing.T) {
	s := pdbStrategy{now: func() time.Time { return fixedNow }}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"}) {
		t.Fatalf("columns %v", heads)
	}
	p := validPDB()
	p.CreationTimestamp = metav1.NewTime(fixedNow.Add(-3 * time.Minute))
	p.Status.DisruptionsAllowed = 1
	if got, want := s.TableRow(p), []interface{}{"web", "2", "N/A", int64(1), "3m"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
	p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, intOrStr(intstr.FromString("25%"))
	if got := s.TableRow(p); got[1] != "N/A" || got[2] != "25%" {
		t.Fatalf("row %#v", got)
	}
	r := PodDisruptionBudgets()
	if r.Group != "policy" || !reflect.DeepEqual(r.ShortNames, []string{"pdb"}) || len(r.Categories) != 0 || !r.HasSubresource("status") {
		t.Fatalf("resource %+v", r)
	}
}
