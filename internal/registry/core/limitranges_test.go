package core

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func limitTest(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "ns"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func TestLimitRangesResource(t *testing.T) {
	r := LimitRanges()
	if !r.Namespaced || r.Resource != "limitranges" || r.ShortNames[0] != "limits" {
		t.Errorf("unexpected resource %+v", r)
	}
}

func TestLimitRangeDefault(t *testing.T) {
	lr := limitTest(
		corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: quotaList("cpu", "2", "memory", "1Gi"), Min: quotaList("cpu", "100m", "ephemeral-storage", "1Gi"),
			Default: quotaList("memory", "512Mi")},
		corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: quotaList("cpu", "4")},
	)
	limitStrategy{}.Default(lr)
	c := lr.Spec.Limits[0]
	if !reflect.DeepEqual(c.Default, quotaList("cpu", "2", "memory", "512Mi")) {
		t.Errorf("default = %v", c.Default)
	}
	if !reflect.DeepEqual(c.DefaultRequest, quotaList("cpu", "2", "memory", "512Mi", "ephemeral-storage", "1Gi")) {
		t.Errorf("defaultRequest = %v", c.DefaultRequest)
	}
	if lr.Spec.Limits[1].Default != nil {
		t.Error("pod limits get no defaults")
	}
}

func TestLimitRangeValidate(t *testing.T) {
	cases := []struct {
		name  string
		items []corev1.LimitRangeItem
		want  []string
	}{
		{"valid", []corev1.LimitRangeItem{
			{Type: corev1.LimitTypeContainer, Min: quotaList("cpu", "100m"), Max: quotaList("cpu", "2"), Default: quotaList("cpu", "1"), DefaultRequest: quotaList("cpu", "500m")},
			{Type: corev1.LimitTypePersistentVolumeClaim, Max: quotaList("storage", "10Gi")},
		}, nil},
		{"min over max", []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, Min: quotaList("cpu", "2"), Max: quotaList("cpu", "1")}},
			[]string{"FieldValueInvalid spec.limits[0].min[cpu]", "FieldValueInvalid spec.limits[0].default[cpu]", "FieldValueInvalid spec.limits[0].defaultRequest[cpu]"}},
		{"default over max", []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, Max: quotaList("memory", "1Gi"), Default: quotaList("memory", "2Gi"), DefaultRequest: quotaList("memory", "1Gi")}},
			[]string{"FieldValueInvalid spec.limits[0].default[memory]"}},
		{"request over default", []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, Default: quotaList("cpu", "1"), DefaultRequest: quotaList("cpu", "2")}},
			[]string{"FieldValueInvalid spec.limits[0].defaultRequest[cpu]"}},
		{"pod default", []corev1.LimitRangeItem{{Type: corev1.LimitTypePod, Default: quotaList("cpu", "1")}},
			[]string{"FieldValueForbidden spec.limits[0].default"}},
		{"duplicate type", []corev1.LimitRangeItem{{Type: corev1.LimitTypePod}, {Type: corev1.LimitTypePod}},
			[]string{"FieldValueDuplicate spec.limits[1].type"}},
		{"bad type", []corev1.LimitRangeItem{{Type: "Thing"}}, []string{"FieldValueInvalid spec.limits[0].type"}},
		{"pvc without storage", []corev1.LimitRangeItem{{Type: corev1.LimitTypePersistentVolumeClaim}},
			[]string{"FieldValueRequired spec.limits[0].limits"}},
		{"container storage", []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, Max: quotaList("storage", "1Gi")}},
			// Defaulting copies max into default and defaultRequest, as in Kubernetes.
			[]string{"FieldValueInvalid spec.limits[0].max[storage]", "FieldValueInvalid spec.limits[0].default[storage]", "FieldValueInvalid spec.limits[0].defaultRequest[storage]"}},
		{"ratio below one", []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: quotaList("cpu", "500m")}},
			[]string{"FieldValueInvalid spec.limits[0].maxLimitRequestRatio[cpu]"}},
		{"ratio above max/min", []corev1.LimitRangeItem{{Type: corev1.LimitTypePod, Min: quotaList("cpu", "1"), Max: quotaList("cpu", "2"), MaxLimitRequestRatio: quotaList("cpu", "3")}},
			[]string{"FieldValueInvalid spec.limits[0].maxLimitRequestRatio[cpu]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := limitStrategy{}
			lr := limitTest(c.items...)
			s.Default(lr)
			commonExpectErrs(t, s.Validate(lr), c.want...)
			commonExpectErrs(t, s.ValidateUpdate(lr, limitTest()), c.want...)
		})
	}
	errs := limitStrategy{}.Validate(limitTest(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: quotaList("cpu", "2"), Max: quotaList("cpu", "1")}))
	commonExpectErrText(t, errs, "min value 2 is greater than max value 1")
}

func TestLimitRangeTable(t *testing.T) {
	s := limitStrategy{}
	lr := limitTest()
	lr.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	row := s.TableRow(lr)
	commonCheckTable(t, s, []string{"Name", "Created At"}, row)
	if want := []interface{}{"limits", "2026-01-02T02:04:05Z"}; !reflect.DeepEqual(row, want) {
		t.Errorf("row = %v, want %v", row, want)
	}
}
