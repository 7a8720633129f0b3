package core

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func quotaTest(hard corev1.ResourceList, scopes ...corev1.ResourceQuotaScope) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "compute", Namespace: "ns"},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard, Scopes: scopes},
	}
}

func quotaList(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestResourceQuotasResource(t *testing.T) {
	r := ResourceQuotas()
	if !r.Namespaced || r.Resource != "resourcequotas" || r.ShortNames[0] != "quota" || !r.HasSubresource("status") {
		t.Errorf("unexpected resource %+v", r)
	}
	var _ registry.StatusStrategy = quotaStrategy{}
}

func TestResourceQuotaValidate(t *testing.T) {
	cases := []struct {
		name string
		in   *corev1.ResourceQuota
		want []string
	}{
		{"valid", quotaTest(quotaList("pods", "10", "requests.cpu", "2", "limits.memory", "4Gi", "count/deployments.apps", "5", "requests.nvidia.com/gpu", "1")), nil},
		{"negative", quotaTest(quotaList("requests.cpu", "-1")), []string{"FieldValueInvalid spec.hard[requests.cpu]"}},
		{"fractional pods", quotaTest(quotaList("pods", "1.5")), []string{"FieldValueInvalid spec.hard[pods]"}},
		{"unknown name", quotaTest(quotaList("widgets", "1")),
			[]string{"FieldValueInvalid spec.hard[widgets]", "FieldValueInvalid spec.hard[widgets]"}},
		{"storage is not a quota name", quotaTest(quotaList("storage", "1Gi")), []string{"FieldValueInvalid spec.hard[storage]"}},
		{"best effort pods", quotaTest(quotaList("pods", "3"), corev1.ResourceQuotaScopeBestEffort), nil},
		{"best effort cpu", quotaTest(quotaList("requests.cpu", "1"), corev1.ResourceQuotaScopeBestEffort),
			[]string{"FieldValueInvalid spec.scopes"}},
		{"unknown scope", quotaTest(quotaList("pods", "1"), "Sometimes"), []string{"FieldValueInvalid spec.scopes", "FieldValueInvalid spec.scopes"}},
		{"conflicting scopes", quotaTest(quotaList("pods", "1"), corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating),
			[]string{"FieldValueInvalid spec.scopes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := quotaStrategy{}
			s.Default(c.in)
			s.PrepareForCreate(c.in)
			commonExpectErrs(t, s.Validate(c.in), c.want...)
		})
	}
	sel := quotaTest(quotaList("pods", "1"))
	sel.Spec.ScopeSelector = &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
		{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn},
		{ScopeName: corev1.ResourceQuotaScopeBestEffort, Operator: corev1.ScopeSelectorOpIn, Values: []string{"x"}},
	}}
	commonExpectErrs(t, quotaStrategy{}.Validate(sel),
		"FieldValueRequired spec.scopeSelector.matchExpressions.values",
		"FieldValueInvalid spec.scopeSelector.matchExpressions.operator")
}

func TestResourceQuotaUpdates(t *testing.T) {
	s := quotaStrategy{}
	old := quotaTest(quotaList("pods", "10"), corev1.ResourceQuotaScopeNotTerminating)
	old.Status.Hard = quotaList("pods", "10")
	upd := old.DeepCopy()
	upd.Spec.Hard = quotaList("pods", "20")
	upd.Status = corev1.ResourceQuotaStatus{}
	s.PrepareForUpdate(upd, old)
	if len(upd.Status.Hard) != 1 {
		t.Error("update changed status")
	}
	commonExpectErrs(t, s.ValidateUpdate(upd, old))
	upd.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating}
	commonExpectErrs(t, s.ValidateUpdate(upd, old), "FieldValueInvalid spec.scopes")

	st := old.DeepCopy()
	st.Spec.Hard = nil
	st.Status.Used = quotaList("pods", "-2")
	s.PrepareForStatusUpdate(st, old)
	if len(st.Spec.Hard) != 1 {
		t.Error("status update changed spec")
	}
	commonExpectErrs(t, s.ValidateStatusUpdate(st, old), "FieldValueInvalid status.used[pods]")
}

func TestResourceQuotaTable(t *testing.T) {
	s := quotaStrategy{}
	q := quotaTest(nil)
	q.Status.Hard = quotaList("requests.memory", "1Gi", "pods", "10", "limits.cpu", "2", "limits.memory", "2Gi")
	q.Status.Used = quotaList("pods", "3", "limits.cpu", "500m")
	row := s.TableRow(q)
	commonCheckTable(t, s, []string{"Name", "Request", "Limit", "Age"}, row)
	want := []interface{}{"compute", "pods: 3/10, requests.memory: 0/1Gi", "limits.cpu: 500m/2, limits.memory: 0/2Gi", "<unknown>"}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("row = %#v, want %#v", row, want)
	}
}
