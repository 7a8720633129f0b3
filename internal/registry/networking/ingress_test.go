package networking

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func pathType(t networkingv1.PathType) *networkingv1.PathType { return &t }

func svcBackend(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: name, Port: networkingv1.ServiceBackendPort{Number: port},
	}}
}

// validIngress returns an ingress that passes validation; cases mutate it.
func validIngress() *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: networkingv1.IngressSpec{
			Rules: []networkingv1.IngressRule{{
				Host: "foo.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: pathType(networkingv1.PathTypePrefix), Backend: svcBackend("web", 80),
					}},
				}},
			}},
		},
	}
}

func firstPath(ing *networkingv1.Ingress) *networkingv1.HTTPIngressPath {
	return &ing.Spec.Rules[0].HTTP.Paths[0]
}

func TestIngressResource(t *testing.T) {
	r := Ingresses()
	if r.Group != "networking.k8s.io" || r.Version != "v1" || r.Resource != "ingresses" || r.Kind != "Ingress" || !r.Namespaced {
		t.Errorf("unexpected identity %+v", r)
	}
	if !reflect.DeepEqual(r.ShortNames, []string{"ing"}) || !r.HasSubresource("status") {
		t.Errorf("short names %v, status %v", r.ShortNames, r.HasSubresource("status"))
	}
	if _, ok := r.New().(*networkingv1.Ingress); !ok {
		t.Errorf("New returned %T", r.New())
	}
	if _, ok := r.NewList().(*networkingv1.IngressList); !ok {
		t.Errorf("NewList returned %T", r.NewList())
	}
}

func TestIngressValidate(t *testing.T) {
	p0 := "spec.rules[0].http.paths[0]"
	cases := []struct {
		name   string
		mutate func(*networkingv1.Ingress)
		want   []string
		detail string // checked on want[0]'s field when set
	}{
		{name: "valid", mutate: func(*networkingv1.Ingress) {}},
		{name: "default backend only", mutate: func(i *networkingv1.Ingress) {
			b := svcBackend("web", 80)
			i.Spec.Rules = nil
			i.Spec.DefaultBackend = &b
		}},
		{name: "neither rules nor backend", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules = nil },
			want: []string{invalid + "spec"}, detail: "either `defaultBackend` or `rules` must be specified"},
		{name: "pathType missing", mutate: func(i *networkingv1.Ingress) { firstPath(i).PathType = nil },
			want: []string{required + p0 + ".pathType"}, detail: "pathType must be specified"},
		{name: "pathType unknown", mutate: func(i *networkingv1.Ingress) { firstPath(i).PathType = pathType("Regex") },
			want: []string{notSupported + p0 + ".pathType"}, detail: `supported values: "Exact", "ImplementationSpecific", "Prefix"`},
		{name: "prefix path relative", mutate: func(i *networkingv1.Ingress) { firstPath(i).Path = "api" },
			want: []string{invalid + p0 + ".path"}, detail: "must be an absolute path"},
		{name: "exact path empty", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Path = ""
			firstPath(i).PathType = pathType(networkingv1.PathTypeExact)
		}, want: []string{invalid + p0 + ".path"}},
		{name: "path double slash", mutate: func(i *networkingv1.Ingress) { firstPath(i).Path = "/a//b" },
			want: []string{invalid + p0 + ".path"}, detail: "must not contain '//'"},
		{name: "path dot suffix", mutate: func(i *networkingv1.Ingress) { firstPath(i).Path = "/a/.." },
			want: []string{invalid + p0 + ".path"}, detail: "cannot end with '/..'"},
		{name: "implementation specific empty path", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Path = ""
			firstPath(i).PathType = pathType(networkingv1.PathTypeImplementationSpecific)
		}},
		{name: "implementation specific relative path", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Path = "x"
			firstPath(i).PathType = pathType(networkingv1.PathTypeImplementationSpecific)
		}, want: []string{invalid + p0 + ".path"}},
		{name: "no paths", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil },
			want: []string{required + "spec.rules[0].http.paths"}},
		{name: "rule without http", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP = nil }},
		{name: "host is IP", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "10.0.0.1" },
			want: []string{invalid + "spec.rules[0].host"}, detail: "must be a DNS name, not an IP address"},
		{name: "host upper case", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "Foo.com" },
			want: []string{invalid + "spec.rules[0].host"}},
		{name: "host wildcard first label", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.foo.com" }},
		{name: "host wildcard elsewhere", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "foo.*.com" },
			want: []string{invalid + "spec.rules[0].host"}, detail: "wildcard DNS-1123 subdomain"},
		{name: "both backends", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Backend.Resource = &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "b"}
		}, want: []string{invalid + p0 + ".backend"}, detail: "cannot set both resource and service backends"},
		{name: "no backend", mutate: func(i *networkingv1.Ingress) { firstPath(i).Backend = networkingv1.IngressBackend{} },
			want: []string{invalid + p0 + ".backend"}, detail: "resource or service backend is required"},
		{name: "resource backend", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("k8s.example.com"), Kind: "Bucket", Name: "static"}}
		}},
		{name: "resource backend incomplete", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("Bad_Group")}}
		}, want: []string{invalid + p0 + ".backend.resource.apiGroup", required + p0 + ".backend.resource.kind", required + p0 + ".backend.resource.name"}},
		{name: "service name missing", mutate: func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Name = "" },
			want: []string{required + p0 + ".backend.service.name"}},
		{name: "service name not DNS-1035", mutate: func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Name = "1web" },
			want: []string{invalid + p0 + ".backend.service.name"}},
		{name: "port name and number", mutate: func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Port.Name = "http" },
			want: []string{invalid + p0 + ".backend"}, detail: "cannot set both port name & port number"},
		{name: "port missing", mutate: func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Port.Number = 0 },
			want: []string{required + p0 + ".backend"}, detail: "port name or number is required"},
		{name: "port number out of range", mutate: func(i *networkingv1.Ingress) { firstPath(i).Backend.Service.Port.Number = 70000 },
			want: []string{invalid + p0 + ".backend.service.port.number"}},
		{name: "port name valid", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
		}},
		{name: "port name invalid", mutate: func(i *networkingv1.Ingress) {
			firstPath(i).Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "HTTP_PORT"}
		}, want: []string{invalid + p0 + ".backend.service.port.name", invalid + p0 + ".backend.service.port.name"}},
		{name: "tls hosts", mutate: func(i *networkingv1.Ingress) {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"*.foo.com", "a.*.com", "ok.com"}, SecretName: "Bad_Secret"}}
		}, want: []string{invalid + "spec.tls[0].hosts[1]", invalid + "spec.tls[0].secretName"}},
		{name: "tls without secret", mutate: func(i *networkingv1.Ingress) {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"foo.com"}}}
		}},
		{name: "ingress class name invalid", mutate: func(i *networkingv1.Ingress) { i.Spec.IngressClassName = ptr.To("Nginx!") },
			want: []string{invalid + "spec.ingressClassName"}},
		{name: "class annotation mismatch", mutate: func(i *networkingv1.Ingress) {
			i.Spec.IngressClassName = ptr.To("nginx")
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": "traefik"}
		}, want: []string{invalid + "annotations.kubernetes.io/ingress.class"}, detail: "must match `ingressClassName`"},
		{name: "class annotation agrees", mutate: func(i *networkingv1.Ingress) {
			i.Spec.IngressClassName = ptr.To("nginx")
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
		}},
	}
	s := ingressStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing := validIngress()
			tc.mutate(ing)
			s.Default(ing)
			s.PrepareForCreate(ing)
			errs := s.Validate(ing)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" && len(tc.want) > 0 {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestIngressNoPathTypeDefault(t *testing.T) {
	ing := validIngress()
	firstPath(ing).PathType = nil
	Ingresses().Strategy.Default(ing)
	if firstPath(ing).PathType != nil {
		t.Fatalf("pathType defaulted to %q; v1 requires it", *firstPath(ing).PathType)
	}
}

func TestIngressValidateUpdate(t *testing.T) {
	s := ingressStrategy{now: fixedClock}
	cases := []struct {
		name      string
		oldMutate func(*networkingv1.Ingress)
		newMutate func(*networkingv1.Ingress)
		want      []string
	}{
		{name: "valid change", oldMutate: func(*networkingv1.Ingress) {}, newMutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "bar.com" }},
		{name: "new invalid secret rejected", oldMutate: func(*networkingv1.Ingress) {},
			newMutate: func(i *networkingv1.Ingress) { i.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "Bad_Secret"}} },
			want:      []string{invalid + "spec.tls[0].secretName"}},
		{name: "stored invalid secret tolerated",
			oldMutate: func(i *networkingv1.Ingress) { i.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "Bad_Secret"}} },
			newMutate: func(i *networkingv1.Ingress) { i.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "Bad_Secret"}} }},
		{name: "stored invalid wildcard rule tolerated",
			oldMutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.foo.com"; firstPath(i).PathType = nil },
			newMutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.foo.com"; firstPath(i).PathType = nil }},
		{name: "invalid non-wildcard rule still rejected",
			oldMutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.foo.com"; firstPath(i).PathType = nil },
			newMutate: func(i *networkingv1.Ingress) { firstPath(i).PathType = nil },
			want:      []string{required + "spec.rules[0].http.paths[0].pathType"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := validIngress(), validIngress()
			tc.oldMutate(old)
			tc.newMutate(cur)
			s.PrepareForUpdate(cur, old)
			checkErrs(t, s.ValidateUpdate(cur, old), tc.want)
		})
	}
}

func TestIngressStatusHandling(t *testing.T) {
	s := ingressStrategy{now: fixedClock}
	lb := networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
		Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "1.2.3.4"}},
	}}

	created := validIngress()
	created.Status = lb
	s.PrepareForCreate(created)
	if !reflect.DeepEqual(created.Status, networkingv1.IngressStatus{}) {
		t.Errorf("create kept status %+v", created.Status)
	}

	old := validIngress()
	old.Status = lb
	upd := validIngress()
	upd.Spec.Rules[0].Host = "changed.com"
	s.PrepareForUpdate(upd, old)
	if !reflect.DeepEqual(upd.Status, lb) || upd.Spec.Rules[0].Host != "changed.com" {
		t.Errorf("main update: status %+v host %q", upd.Status, upd.Spec.Rules[0].Host)
	}

	st := validIngress()
	st.Spec.Rules[0].Host = "sneaky.com"
	st.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: "lb.example.com"}}
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.Rules[0].Host != "foo.example.com" || st.Status.LoadBalancer.Ingress[0].Hostname != "lb.example.com" {
		t.Errorf("status update: spec host %q status %+v", st.Spec.Rules[0].Host, st.Status)
	}
}

func TestIngressValidateStatusUpdate(t *testing.T) {
	s := ingressStrategy{now: fixedClock}
	cases := []struct {
		name    string
		oldLB   []networkingv1.IngressLoadBalancerIngress
		newLB   []networkingv1.IngressLoadBalancerIngress
		want    []string
		wantMsg string
	}{
		{name: "valid", newLB: []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.1"}, {Hostname: "lb.example.com"}}},
		{name: "bad ip", newLB: []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0"}},
			want: []string{invalid + "status.loadBalancer.ingress[0].ip"}},
		{name: "leading zero ip rejected when new", newLB: []networkingv1.IngressLoadBalancerIngress{{IP: "010.0.0.1"}},
			want: []string{invalid + "status.loadBalancer.ingress[0].ip"}},
		{name: "leading zero ip kept when stored", oldLB: []networkingv1.IngressLoadBalancerIngress{{IP: "010.0.0.1"}},
			newLB: []networkingv1.IngressLoadBalancerIngress{{IP: "010.0.0.1"}}},
		{name: "hostname is ip", newLB: []networkingv1.IngressLoadBalancerIngress{{Hostname: "10.0.0.1"}},
			want: []string{invalid + "status.loadBalancer.ingress[0].hostname"}, wantMsg: "must be a DNS name, not an IP address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := validIngress(), validIngress()
			old.Status.LoadBalancer.Ingress = tc.oldLB
			cur.Status.LoadBalancer.Ingress = tc.newLB
			errs := s.ValidateStatusUpdate(cur, old)
			checkErrs(t, errs, tc.want)
			if tc.wantMsg != "" {
				checkDetail(t, errs, "status.loadBalancer.ingress[0].hostname", tc.wantMsg)
			}
		})
	}
}

func TestIngressTable(t *testing.T) {
	s := ingressStrategy{now: fixedClock}
	cols := s.TableColumns()
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
		if c.Type == "" || c.Description == "" {
			t.Errorf("column %q lacks type or description", c.Name)
		}
	}
	if !reflect.DeepEqual(names, []string{"Name", "Class", "Hosts", "Address", "Ports", "Age"}) || cols[0].Format != "name" {
		t.Fatalf("columns %v", names)
	}

	rule := func(host string) networkingv1.IngressRule { return networkingv1.IngressRule{Host: host} }
	cases := []struct {
		name string
		ing  *networkingv1.Ingress
		want []interface{}
	}{
		{
			name: "minimal",
			ing: &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "a", CreationTimestamp: createdAgo(5 * time.Hour)},
				Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("")}}},
			want: []interface{}{"a", "<none>", "*", "", "80", "5h"},
		},
		{
			name: "class tls addresses",
			ing: &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "b", CreationTimestamp: createdAgo(90 * time.Second)},
				Spec: networkingv1.IngressSpec{
					IngressClassName: ptr.To("nginx"),
					Rules:            []networkingv1.IngressRule{rule("a.com"), rule(""), rule("b.com")},
					TLS:              []networkingv1.IngressTLS{{Hosts: []string{"a.com"}}},
				},
				Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
					{IP: "10.0.0.2"}, {Hostname: "lb.example.com"}, {IP: "10.0.0.1"}, {IP: "10.0.0.2"},
				}}}},
			want: []interface{}{"b", "nginx", "a.com,b.com", "10.0.0.1,10.0.0.2,lb.example.com", "80, 443", "90s"},
		},
		{
			name: "many hosts",
			ing: &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "c"},
				Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("a"), rule("b"), rule("c"), rule("d"), rule("e"), rule("f")}}},
			want: []interface{}{"c", "<none>", "a,b,c,d + 2 more...", "", "80", "<unknown>"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.TableRow(tc.ing); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("row %#v, want %#v", got, tc.want)
			}
		})
	}
}
