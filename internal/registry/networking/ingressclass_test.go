package networking

import (
	"reflect"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validIngressClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec:       networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
	}
}

func TestIngressClassResource(t *testing.T) {
	r := IngressClasses()
	if r.Resource != "ingressclasses" || r.Kind != "IngressClass" || r.Namespaced || r.Group != "networking.k8s.io" {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestIngressClassDefault(t *testing.T) {
	s := ingressClassStrategy{now: fixedClock}
	ic := validIngressClass()
	s.Default(ic)
	if ic.Spec.Parameters != nil {
		t.Fatalf("parameters invented: %+v", ic.Spec.Parameters)
	}
	ic.Spec.Parameters = &networkingv1.IngressClassParametersReference{Kind: "Config", Name: "c"}
	s.Default(ic)
	if ic.Spec.Parameters.Scope == nil || *ic.Spec.Parameters.Scope != "Cluster" {
		t.Fatalf("scope not defaulted to Cluster: %v", ic.Spec.Parameters.Scope)
	}
	ic.Spec.Parameters.Scope = ptr.To("Namespace")
	s.Default(ic)
	if *ic.Spec.Parameters.Scope != "Namespace" {
		t.Fatalf("explicit scope overwritten")
	}
}

func TestIngressClassValidate(t *testing.T) {
	params := func(scope, ns *string) *networkingv1.IngressClassParametersReference {
		return &networkingv1.IngressClassParametersReference{APIGroup: ptr.To("k8s.example.com"), Kind: "Config", Name: "c", Scope: scope, Namespace: ns}
	}
	cases := []struct {
		name   string
		mutate func(*networkingv1.IngressClass)
		want   []string
	}{
		{name: "valid", mutate: func(*networkingv1.IngressClass) {}},
		{name: "controller missing", mutate: func(c *networkingv1.IngressClass) { c.Spec.Controller = "" },
			want: []string{required + "spec.controller"}},
		{name: "controller not domain prefixed", mutate: func(c *networkingv1.IngressClass) { c.Spec.Controller = "nginx" },
			want: []string{invalid + "spec.controller"}},
		{name: "controller too long", mutate: func(c *networkingv1.IngressClass) { c.Spec.Controller = "example.com/" + strings.Repeat("a", 250) },
			want: []string{tooLong + "spec.controller"}},
		{name: "cluster params", mutate: func(c *networkingv1.IngressClass) { c.Spec.Parameters = params(nil, nil) }},
		{name: "namespace params", mutate: func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = params(ptr.To("Namespace"), ptr.To("ingress"))
		}},
		{name: "namespace scope without namespace", mutate: func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = params(ptr.To("Namespace"), nil)
		}, want: []string{required + "spec.parameters.namespace"}},
		{name: "cluster scope with namespace", mutate: func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = params(ptr.To("Cluster"), ptr.To("x"))
		}, want: []string{forbidden + "spec.parameters.namespace"}},
		{name: "bad scope", mutate: func(c *networkingv1.IngressClass) { c.Spec.Parameters = params(ptr.To("Global"), nil) },
			want: []string{notSupported + "spec.parameters.scope"}},
		{name: "params missing kind and name", mutate: func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = &networkingv1.IngressClassParametersReference{}
		}, want: []string{required + "spec.parameters.kind", required + "spec.parameters.name"}},
		{name: "params kind with slash", mutate: func(c *networkingv1.IngressClass) {
			c.Spec.Parameters = params(nil, nil)
			c.Spec.Parameters.Kind = "a/b"
		}, want: []string{invalid + "spec.parameters.kind"}},
	}
	s := ingressClassStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ic := validIngressClass()
			tc.mutate(ic)
			s.Default(ic)
			checkErrs(t, s.Validate(ic), tc.want)
		})
	}
}

func TestIngressClassControllerImmutable(t *testing.T) {
	s := ingressClassStrategy{now: fixedClock}
	old, cur := validIngressClass(), validIngressClass()
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.Spec.Controller = "example.com/other"
	errs := s.ValidateUpdate(cur, old)
	checkErrs(t, errs, []string{invalid + "spec.controller"})
	checkDetail(t, errs, "spec.controller", "field is immutable")
}

func TestIngressClassTable(t *testing.T) {
	s := ingressClassStrategy{now: fixedClock}
	var names []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "Controller", "Parameters", "Age"}) {
		t.Fatalf("columns %v", names)
	}
	ic := validIngressClass()
	ic.CreationTimestamp = createdAgo(3 * 24 * time.Hour)
	if got, want := s.TableRow(ic), []interface{}{"nginx", "k8s.io/ingress-nginx", "<none>", "3d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
	ic.Spec.Parameters = &networkingv1.IngressClassParametersReference{APIGroup: ptr.To("k8s.example.com"), Kind: "Config", Name: "c"}
	if got := s.TableRow(ic)[2]; got != "Config.k8s.example.com/c" {
		t.Errorf("parameters cell %v", got)
	}
	ic.Spec.Parameters.APIGroup = nil
	if got := s.TableRow(ic)[2]; got != "Config/c" {
		t.Errorf("parameters cell %v", got)
	}
}
