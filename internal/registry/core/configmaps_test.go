package core

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cmTest(data map[string]string, bin map[string][]byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: data, BinaryData: bin}
}

func TestConfigMapsResource(t *testing.T) {
	r := ConfigMaps()
	if r.Resource != "configmaps" || !r.Namespaced || r.ShortNames[0] != "cm" || len(r.Subresources) != 0 {
		t.Errorf("unexpected resource %+v", r)
	}
}

func TestConfigMapValidate(t *testing.T) {
	big := strings.Repeat("x", commonMaxDataBytes)
	cases := []struct {
		name string
		in   *corev1.ConfigMap
		want []string
	}{
		{"valid", cmTest(map[string]string{"a.conf": "x", "KEY_1": "y"}, map[string][]byte{"b.bin": {1}}), nil},
		{"empty", cmTest(nil, nil), nil},
		{"bad key", cmTest(map[string]string{"a b": "x"}, nil), []string{"FieldValueInvalid data[a b]"}},
		{"dot key", cmTest(map[string]string{"..": "x"}, nil), []string{"FieldValueInvalid data[..]"}},
		{"bad binary key", cmTest(nil, map[string][]byte{"a/b": nil}), []string{"FieldValueInvalid binaryData[a/b]"}},
		{"duplicate key", cmTest(map[string]string{"k": "x"}, map[string][]byte{"k": nil}), []string{"FieldValueInvalid data[k]"}},
		{"exactly max", cmTest(map[string]string{"k": big}, nil), nil},
		{"too big", cmTest(map[string]string{"k": big}, map[string][]byte{"j": {1}}), []string{"FieldValueTooLong []"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := cmStrategy{}
			s.Default(c.in)
			commonExpectErrs(t, s.Validate(c.in), c.want...)
		})
	}
	errs := cmStrategy{}.Validate(cmTest(map[string]string{"a b": "x"}, nil))
	commonExpectErrText(t, errs, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'")
}

func TestConfigMapImmutable(t *testing.T) {
	yes, no := true, false
	old := cmTest(map[string]string{"k": "v"}, nil)
	old.Immutable = &yes
	cases := []struct {
		name string
		mut  func(*corev1.ConfigMap)
		want []string
	}{
		{"labels may change", func(c *corev1.ConfigMap) { c.Labels = map[string]string{"a": "b"} }, nil},
		{"data change", func(c *corev1.ConfigMap) { c.Data["k"] = "w" }, []string{"FieldValueForbidden data"}},
		{"binary added", func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} }, []string{"FieldValueForbidden binaryData"}},
		{"unset immutable", func(c *corev1.ConfigMap) { c.Immutable = &no }, []string{"FieldValueForbidden immutable"}},
		{"drop immutable", func(c *corev1.ConfigMap) { c.Immutable = nil }, []string{"FieldValueForbidden immutable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := old.DeepCopy()
			c.mut(n)
			errs := cmStrategy{}.ValidateUpdate(n, old)
			commonExpectErrs(t, errs, c.want...)
			if len(c.want) > 0 {
				commonExpectErrText(t, errs, "field is immutable when `immutable` is set")
			}
		})
	}
	mutable := cmTest(map[string]string{"k": "v"}, nil)
	changed := mutable.DeepCopy()
	changed.Data["k"] = "w"
	commonExpectErrs(t, cmStrategy{}.ValidateUpdate(changed, mutable))
}

func TestConfigMapTable(t *testing.T) {
	s := cmStrategy{}
	cm := cmTest(map[string]string{"a": "1", "b": "2"}, map[string][]byte{"c": nil})
	row := s.TableRow(cm)
	commonCheckTable(t, s, []string{"Name", "Data", "Age"}, row)
	if want := []interface{}{"cfg", int64(3), "<unknown>"}; !reflect.DeepEqual(row, want) {
		t.Errorf("row = %v, want %v", row, want)
	}
}
