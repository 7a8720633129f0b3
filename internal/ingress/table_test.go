package ingress

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

type path struct {
	pt   networkingv1.PathType
	path string
	svc  string
}

func ing(name string, age int, host string, paths ...path) *networkingv1.Ingress {
	in := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name,
		CreationTimestamp: metav1.NewTime(time.Unix(int64(1000+age), 0))}}
	rule := networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
	for _, p := range paths {
		rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p.path, PathType: ptr.To(p.pt),
			Backend: svcBackend(p.svc, 80)})
	}
	in.Spec.Rules = []networkingv1.IngressRule{rule}
	return in
}

func svcBackend(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name,
		Port: networkingv1.ServiceBackendPort{Number: port}}}
}

// routeName returns the service a request routes to, "404" when none.
func routeName(t *Table, host, p string) string {
	b, ok := t.Route(host, p)
	if !ok {
		return "404"
	}
	name := strings.TrimPrefix(b.Name, "default/")
	return name[:strings.IndexByte(name, ':')]
}

const (
	prefix = networkingv1.PathTypePrefix
	exact  = networkingv1.PathTypeExact
	impl   = networkingv1.PathTypeImplementationSpecific
)

// TestPathMatching follows the examples table of the Kubernetes Ingress
// documentation ("Examples" under "Path types").
func TestPathMatching(t *testing.T) {
	tests := []struct {
		name  string
		paths []path
		req   string
		want  string // service, or 404
	}{
		{"prefix / all paths", []path{{prefix, "/", "a"}}, "/anything/at/all", "a"},
		{"exact /foo", []path{{exact, "/foo", "a"}}, "/foo", "a"},
		{"exact /foo vs /bar", []path{{exact, "/foo", "a"}}, "/bar", "404"},
		{"exact /foo vs /foo/", []path{{exact, "/foo", "a"}}, "/foo/", "404"},
		{"exact /foo/ vs /foo", []path{{exact, "/foo/", "a"}}, "/foo", "404"},
		{"prefix /foo vs /foo", []path{{prefix, "/foo", "a"}}, "/foo", "a"},
		{"prefix /foo vs /foo/", []path{{prefix, "/foo", "a"}}, "/foo/", "a"},
		{"prefix /foo/ vs /foo", []path{{prefix, "/foo/", "a"}}, "/foo", "a"},
		{"prefix /foo/ vs /foo/", []path{{prefix, "/foo/", "a"}}, "/foo/", "a"},
		{"prefix /aaa/bb vs /aaa/bbb", []path{{prefix, "/aaa/bb", "a"}}, "/aaa/bbb", "404"},
		{"prefix /aaa/bbb vs /aaa/bbb", []path{{prefix, "/aaa/bbb", "a"}}, "/aaa/bbb", "a"},
		{"prefix /aaa/bbb/ ignores trailing slash", []path{{prefix, "/aaa/bbb/", "a"}}, "/aaa/bbb", "a"},
		{"prefix /aaa/bbb matches trailing slash", []path{{prefix, "/aaa/bbb", "a"}}, "/aaa/bbb/", "a"},
		{"prefix /aaa/bbb matches subpath", []path{{prefix, "/aaa/bbb", "a"}}, "/aaa/bbb/ccc", "a"},
		{"prefix /aaa/bbb not string prefix", []path{{prefix, "/aaa/bbb", "a"}}, "/aaa/bbbxyz", "404"},
		{"prefix / and /aaa", []path{{prefix, "/", "root"}, {prefix, "/aaa", "a"}}, "/aaa/ccc", "a"},
		{"prefix /, /aaa, /aaa/bbb longest", []path{{prefix, "/", "root"}, {prefix, "/aaa", "a"}, {prefix, "/aaa/bbb", "b"}}, "/aaa/bbb", "b"},
		{"prefix /, /aaa, /aaa/bbb to /", []path{{prefix, "/", "root"}, {prefix, "/aaa", "a"}, {prefix, "/aaa/bbb", "b"}}, "/ccc", "root"},
		{"prefix /aaa no match", []path{{prefix, "/aaa", "a"}}, "/ccc", "404"},
		{"mixed exact wins", []path{{prefix, "/foo", "p"}, {exact, "/foo", "e"}}, "/foo", "e"},
		{"mixed exact wins, order swapped", []path{{exact, "/foo", "e"}, {prefix, "/foo", "p"}}, "/foo", "e"},
		{"mixed prefix for subpath", []path{{exact, "/foo", "e"}, {prefix, "/foo", "p"}}, "/foo/x", "p"},
		{"implementation specific as prefix", []path{{impl, "/api", "a"}}, "/api/v1", "a"},
		{"case sensitive", []path{{prefix, "/Foo", "a"}}, "/foo", "404"},
		{"empty path is /", []path{{prefix, "", "a"}}, "/x", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, warnings := Build(Snapshot{Ingresses: []*networkingv1.Ingress{ing("i", 0, "foo.com", tt.paths...)}})
			if len(warnings) != 0 && !strings.Contains(tt.name, "swapped") {
				t.Logf("warnings: %v", warnings)
			}
			if got := routeName(table, "foo.com", tt.req); got != tt.want {
				t.Errorf("%s -> %s, want %s", tt.req, got, tt.want)
			}
		})
	}
}

// TestHostMatching follows the Ingress documentation's host wildcard
// examples.
func TestHostMatching(t *testing.T) {
	table, _ := Build(Snapshot{Ingresses: []*networkingv1.Ingress{
		ing("exact", 0, "foo.bar.com", path{prefix, "/", "exact"}),
		ing("wild", 1, "*.foo.com", path{prefix, "/", "wild"}),
		ing("wild2", 2, "*.bar.com", path{prefix, "/", "wild2"}),
		ing("any", 3, "", path{prefix, "/any", "any"}),
	}})
	tests := []struct{ host, path, want string }{
		{"foo.bar.com", "/", "exact"},
		{"FOO.Bar.com:8080", "/", "exact"},
		{"foo.bar.com.", "/", "exact"},
		{"bar.foo.com", "/", "wild"},
		{"baz.bar.foo.com", "/any", "any"}, // wildcard covers one label only
		{"foo.com", "/any", "any"},         // no label for the wildcard
		{"foo.com", "/", "404"},
		{"other.bar.com", "/", "wild2"}, // exact foo.bar.com does not shadow the wildcard for others
		{"unknown.example", "/", "404"},
		{"unknown.example", "/any/x", "any"},
		{"[::1]:80", "/any", "any"},
		{"foo.bar.com", "/any", "exact"}, // host rules do not fall through to hostless rules
	}
	for _, tt := range tests {
		if got := routeName(table, tt.host, tt.path); got != tt.want {
			t.Errorf("%s%s -> %s, want %s", tt.host, tt.path, got, tt.want)
		}
	}
}

func TestDefaultBackendAndPrecedence(t *testing.T) {
	old := ing("old", 0, "demo.example.com", path{prefix, "/", "old"})
	old.Spec.DefaultBackend = ptr.To(svcBackend("olddefault", 80))
	young := ing("young", 5, "demo.example.com", path{prefix, "/", "young"}, path{prefix, "/api", "api"})
	young.Spec.DefaultBackend = ptr.To(svcBackend("youngdefault", 80))
	table, warnings := Build(Snapshot{Ingresses: []*networkingv1.Ingress{young, old}})
	if len(warnings) != 1 {
		t.Errorf("warnings = %v, want one duplicate path", warnings)
	}
	tests := []struct{ host, path, want string }{
		{"demo.example.com", "/", "old"},
		{"demo.example.com", "/api/x", "api"},
		{"nobody.example.com", "/", "olddefault"},
	}
	for _, tt := range tests {
		if got := routeName(table, tt.host, tt.path); got != tt.want {
			t.Errorf("%s%s -> %s, want %s", tt.host, tt.path, got, tt.want)
		}
	}
	var empty *Table
	if _, ok := empty.Route("x", "/"); ok {
		t.Error("nil table routed a request")
	}
}

func slice(svc, name string, portName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints:   eps,
	}
}

func ep(ip string, ready *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
}

func TestBackendResolution(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "admin", Port: 9000}}}}
	ext := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ext"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.org", Ports: []corev1.ServicePort{{Port: 8080}}}}
	snap := Snapshot{
		Services: []*corev1.Service{svc, ext},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			slice("web", "web-1", "http", 8080, ep("10.0.0.2", nil), ep("10.0.0.1", ptr.To(true)), ep("10.0.0.3", ptr.To(false))),
			slice("web", "web-2", "http", 8080, ep("10.0.0.1", ptr.To(true)), ep("10.0.0.4", ptr.To(true))),
			slice("web", "web-3", "admin", 9090, ep("10.0.0.1", ptr.To(true))),
			slice("other", "other-1", "http", 1, ep("10.9.9.9", nil)),
		},
	}
	named := func(port string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: port}}}
	}
	tests := []struct {
		name    string
		backend networkingv1.IngressBackend
		want    string
		problem string
	}{
		{"by number", svcBackend("web", 80), "10.0.0.1:8080,10.0.0.2:8080,10.0.0.4:8080", ""},
		{"by name", named("admin"), "10.0.0.1:9090", ""},
		{"unknown port number", svcBackend("web", 81), "", "service has no such port"},
		{"unknown port name", named("nope"), "", "service has no such port"},
		{"missing service", svcBackend("gone", 80), "", "service not found"},
		{"external name", svcBackend("ext", 8080), "example.org:8080", ""},
		{"resource backend", networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "b"}}, "", "resource backends are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ing("i", 0, "")
			in.Spec.DefaultBackend = &tt.backend
			s := snap
			s.Ingresses = []*networkingv1.Ingress{in}
			table, _ := Build(s)
			b, ok := table.Route("x", "/")
			if !ok {
				t.Fatal("no default backend")
			}
			if got := strings.Join(b.Endpoints, ","); got != tt.want || b.Problem != tt.problem {
				t.Errorf("endpoints %q problem %q, want %q %q", got, b.Problem, tt.want, tt.problem)
			}
		})
	}
}

func TestRoundRobin(t *testing.T) {
	b := &Backend{Endpoints: []string{"a", "b", "c"}}
	var got []string
	for range 4 {
		s := b.start()
		order := ""
		for i := range len(b.Endpoints) { // the order retryTransport tries them in
			order += b.Endpoints[(s+i)%len(b.Endpoints)]
		}
		got = append(got, order)
	}
	if want := "abc bca cab abc"; strings.Join(got, " ") != want {
		t.Errorf("try order %v, want %s", got, want)
	}
	if (&Backend{}).start() != 0 {
		t.Error("empty backend: start != 0")
	}
}

func TestServes(t *testing.T) {
	def := DefaultClass()
	other := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	mine2 := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "internal"}, Spec: networkingv1.IngressClassSpec{Controller: ControllerName}}
	notDefault := DefaultClass()
	notDefault.Annotations = nil
	withClass := func(c string) *networkingv1.Ingress {
		i := ing("i", 0, "")
		i.Spec.IngressClassName = ptr.To(c)
		return i
	}
	legacy := ing("i", 0, "")
	legacy.Annotations = map[string]string{legacyClassAnnotation: "skiff"}
	tests := []struct {
		name    string
		ing     *networkingv1.Ingress
		classes []*networkingv1.IngressClass
		want    bool
	}{
		{"class skiff", withClass("skiff"), []*networkingv1.IngressClass{def, other}, true},
		{"other class", withClass("nginx"), []*networkingv1.IngressClass{def, other}, false},
		{"another class of ours", withClass("internal"), []*networkingv1.IngressClass{def, mine2}, true},
		{"class missing", withClass("skiff"), nil, false},
		{"no class, skiff default", ing("i", 0, ""), []*networkingv1.IngressClass{def, other}, true},
		{"no class, skiff not default", ing("i", 0, ""), []*networkingv1.IngressClass{notDefault}, false},
		{"legacy annotation", legacy, []*networkingv1.IngressClass{notDefault}, true},
	}
	for _, tt := range tests {
		if got := Serves(tt.ing, tt.classes); got != tt.want {
			t.Errorf("%s: Serves = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLoadBalancerStatus(t *testing.T) {
	got := LoadBalancerStatus([]string{"10.0.0.2", "node.example", "10.0.0.1", "10.0.0.2"})
	want := []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}, {Hostname: "node.example"}}
	if !equalLB(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	nodes := []*corev1.Node{
		{Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "h"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.9"}}}},
		{Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "1.2.3.4"}}}},
		{},
	}
	if got := strings.Join(NodeAddresses(nodes), ","); got != "1.2.3.4,10.0.0.9" {
		t.Errorf("NodeAddresses = %s", got)
	}
}
