package core

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func secretTest(typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Type: typ, Data: data}
}

func TestSecretsResource(t *testing.T) {
	r := Secrets()
	if r.Resource != "secrets" || !r.Namespaced || len(r.ShortNames) != 0 {
		t.Errorf("unexpected resource %+v", r)
	}
}

func TestSecretDefault(t *testing.T) {
	s := secretTest("", map[string][]byte{"a": []byte("1"), "b": []byte("2")})
	s.StringData = map[string]string{"b": "two", "c": "3"}
	secretStrategy{}.Default(s)
	if s.Type != corev1.SecretTypeOpaque {
		t.Errorf("type = %q", s.Type)
	}
	want := map[string][]byte{"a": []byte("1"), "b": []byte("two"), "c": []byte("3")}
	if !reflect.DeepEqual(s.Data, want) || s.StringData != nil {
		t.Errorf("data = %q stringData = %v", s.Data, s.StringData)
	}
}

func TestSecretValidate(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	cases := []struct {
		name string
		in   *corev1.Secret
		want []string
	}{
		{"opaque", secretTest(corev1.SecretTypeOpaque, map[string][]byte{"k": b("v")}), nil},
		{"custom type", secretTest("example.com/thing", nil), nil},
		{"bad key", secretTest(corev1.SecretTypeOpaque, map[string][]byte{"a:b": nil}), []string{"FieldValueInvalid data[a:b]"}},
		{"too big", secretTest(corev1.SecretTypeOpaque, map[string][]byte{"k": b(strings.Repeat("x", commonMaxDataBytes+1))}),
			[]string{"FieldValueTooLong data"}},
		{"tls missing", secretTest(corev1.SecretTypeTLS, nil),
			[]string{"FieldValueRequired data[tls.crt]", "FieldValueRequired data[tls.key]"}},
		{"tls ok", secretTest(corev1.SecretTypeTLS, map[string][]byte{"tls.crt": nil, "tls.key": nil}), nil},
		{"dockerconfigjson missing", secretTest(corev1.SecretTypeDockerConfigJson, nil),
			[]string{"FieldValueRequired data[.dockerconfigjson]"}},
		{"dockerconfigjson bad json", secretTest(corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": b("{")}),
			[]string{"FieldValueInvalid data[.dockerconfigjson]"}},
		{"dockerconfigjson ok", secretTest(corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": b(`{"auths":{}}`)}), nil},
		{"dockercfg missing", secretTest(corev1.SecretTypeDockercfg, nil), []string{"FieldValueRequired data[.dockercfg]"}},
		{"basic auth empty", secretTest(corev1.SecretTypeBasicAuth, nil),
			[]string{"FieldValueRequired data[password]", "FieldValueRequired data[username]"}},
		{"basic auth user only", secretTest(corev1.SecretTypeBasicAuth, map[string][]byte{"username": nil}), nil},
		{"ssh empty key", secretTest(corev1.SecretTypeSSHAuth, map[string][]byte{"ssh-privatekey": nil}),
			[]string{"FieldValueRequired data[ssh-privatekey]"}},
		{"sa token without annotation", secretTest(corev1.SecretTypeServiceAccountToken, nil),
			[]string{"FieldValueRequired metadata.annotations[kubernetes.io/service-account.name]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := secretStrategy{}
			s.Default(c.in)
			commonExpectErrs(t, s.Validate(c.in), c.want...)
		})
	}
	bad := secretTest(corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": []byte("{")})
	errs := secretStrategy{}.Validate(bad)
	commonExpectErrText(t, errs, "<secret contents redacted>")
}

func TestSecretUpdate(t *testing.T) {
	yes := true
	old := secretTest(corev1.SecretTypeOpaque, map[string][]byte{"k": []byte("v")})
	cases := []struct {
		name      string
		immutable bool
		mut       func(*corev1.Secret)
		want      []string
	}{
		{"change data", false, func(s *corev1.Secret) { s.Data["k"] = []byte("w") }, nil},
		{"change type", false, func(s *corev1.Secret) { s.Type = "example.com/x" }, []string{"FieldValueInvalid type"}},
		{"immutable data", true, func(s *corev1.Secret) { s.Data["k"] = []byte("w") }, []string{"FieldValueForbidden data"}},
		{"immutable via stringData", true, func(s *corev1.Secret) { s.StringData = map[string]string{"n": "1"} },
			[]string{"FieldValueForbidden data"}},
		{"immutable unset", true, func(s *corev1.Secret) { s.Immutable = nil }, []string{"FieldValueForbidden immutable"}},
		{"immutable labels", true, func(s *corev1.Secret) { s.Labels = map[string]string{"a": "b"} }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := old.DeepCopy()
			if c.immutable {
				o.Immutable = &yes
			}
			n := o.DeepCopy()
			c.mut(n)
			st := secretStrategy{}
			st.Default(n)
			st.PrepareForUpdate(n, o)
			commonExpectErrs(t, st.ValidateUpdate(n, o), c.want...)
		})
	}
}

func TestSecretTableAndFields(t *testing.T) {
	st := secretStrategy{}
	s := secretTest(corev1.SecretTypeTLS, map[string][]byte{"tls.crt": nil, "tls.key": nil})
	row := st.TableRow(s)
	commonCheckTable(t, st, []string{"Name", "Type", "Data", "Age"}, row)
	if want := []interface{}{"s", "kubernetes.io/tls", int64(2), "<unknown>"}; !reflect.DeepEqual(row, want) {
		t.Errorf("row = %v, want %v", row, want)
	}
	if f := st.SelectableFields(s); f["type"] != "kubernetes.io/tls" {
		t.Errorf("fields = %v", f)
	}
}
