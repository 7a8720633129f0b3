package core

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func TestServiceAccountsResource(t *testing.T) {
	r := ServiceAccounts()
	if r.Resource != "serviceaccounts" || !r.Namespaced || r.ShortNames[0] != "sa" {
		t.Errorf("unexpected resource %+v", r)
	}
	var token registry.Subresource
	for _, s := range r.Subresources {
		if s.Name == "token" {
			token = s
		}
	}
	if token.Kind != "TokenRequest" || token.Group != "authentication.k8s.io" || token.Version != "v1" ||
		!reflect.DeepEqual(token.Verbs, []string{"create"}) {
		t.Errorf("token subresource = %+v", token)
	}
	cases := []struct {
		name string
		ok   bool
	}{{"default", true}, {"build.robot", true}, {"Bad", false}, {"", false}}
	for _, c := range cases {
		if got := len(r.ValidateName(c.name, false)) == 0; got != c.ok {
			t.Errorf("ValidateName(%q) ok = %v, want %v", c.name, got, c.ok)
		}
	}
	if _, ok := r.Strategy.(registry.FieldSelectable); ok {
		t.Error("service accounts have no extra selectable fields")
	}
}

func TestServiceAccountStrategy(t *testing.T) {
	s := saStrategy{}
	sa := &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: "ci"},
		Secrets:    []corev1.ObjectReference{{Name: "builder-token"}},
	}
	s.Default(sa)
	s.PrepareForCreate(sa)
	commonExpectErrs(t, s.Validate(sa))
	commonExpectErrs(t, s.ValidateUpdate(sa, sa.DeepCopy()))
	row := s.TableRow(sa)
	commonCheckTable(t, s, []string{"Name", "Secrets", "Age"}, row)
	if want := []interface{}{"builder", int64(1), "<unknown>"}; !reflect.DeepEqual(row, want) {
		t.Errorf("row = %v, want %v", row, want)
	}
}
