package discovery

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validSlice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "default"},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.1.0.5"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To("node-1"),
			Zone:       ptr.To("zone-a"),
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](80)}},
	}
}

func TestEndpointSliceResource(t *testing.T) {
	r := EndpointSlices()
	if r.Group != "discovery.k8s.io" || r.Version != "v1" || r.Resource != "endpointslices" || !r.Namespaced {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestEndpointSliceDefault(t *testing.T) {
	es := validSlice()
	es.Ports = append(es.Ports, discoveryv1.EndpointPort{Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)})
	endpointSliceStrategy{}.Default(es)
	if *es.Ports[0].Protocol != corev1.ProtocolTCP || *es.Ports[0].Name != "http" {
		t.Errorf("port 0: %q %q", *es.Ports[0].Name, *es.Ports[0].Protocol)
	}
	if es.Ports[1].Name == nil || *es.Ports[1].Name != "" || *es.Ports[1].Protocol != corev1.ProtocolUDP {
		t.Errorf("port 1: %v %v", es.Ports[1].Name, es.Ports[1].Protocol)
	}
}

func TestEndpointSliceValidate(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "10.0.0.1"
		}
		return out
	}
	cases := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []string
		detail string
	}{
		{name: "valid", mutate: func(*discoveryv1.EndpointSlice) {}},
		{name: "no endpoints or ports", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints, e.Ports = nil, nil }},
		{name: "address type missing", mutate: func(e *discoveryv1.EndpointSlice) { e.AddressType = "" },
			want: []string{required + "addressType"}},
		{name: "address type deprecated IP", mutate: func(e *discoveryv1.EndpointSlice) { e.AddressType = "IP" },
			want: []string{notSupported + "addressType"}, detail: `supported values: "FQDN", "IPv4", "IPv6"`},
		{name: "ipv6 address in ipv4 slice", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"fd00::1"} },
			want: []string{invalid + "endpoints[0].addresses[0]"}, detail: "must be a valid IPv4 address"},
		{name: "garbage address", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"ten"} },
			want: []string{invalid + "endpoints[0].addresses[0]"}},
		{name: "loopback", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"127.0.0.1"} },
			want: []string{invalid + "endpoints[0].addresses[0]"}, detail: "loopback"},
		{name: "link local", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"169.254.169.254"} },
			want: []string{invalid + "endpoints[0].addresses[0]"}, detail: "link-local"},
		{name: "unspecified", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"0.0.0.0"} },
			want: []string{invalid + "endpoints[0].addresses[0]"}, detail: "may not be unspecified"},
		{name: "ipv6 slice", mutate: func(e *discoveryv1.EndpointSlice) {
			e.AddressType = discoveryv1.AddressTypeIPv6
			e.Endpoints[0].Addresses = []string{"fd00::1", "10.0.0.1"}
		}, want: []string{invalid + "endpoints[0].addresses[1]"}, detail: "must be a valid IPv6 address"},
		{name: "fqdn slice", mutate: func(e *discoveryv1.EndpointSlice) {
			e.AddressType = discoveryv1.AddressTypeFQDN
			e.Endpoints[0].Addresses = []string{"db.example.com", "not_valid"}
		}, want: []string{invalid + "endpoints[0].addresses[1]"}},
		{name: "no addresses", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = nil },
			want: []string{required + "endpoints[0].addresses"}, detail: "must contain at least 1 address"},
		{name: "100 addresses allowed", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = many(100) }},
		{name: "101 addresses", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = many(101) },
			want: []string{"FieldValueTooMany endpoints[0].addresses"}},
		{name: "too many endpoints", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints = make([]discoveryv1.Endpoint, 1001)
		}, want: []string{"FieldValueTooMany endpoints"}},
		{name: "bad node and hostname", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints[0].NodeName = ptr.To("Node_1")
			e.Endpoints[0].Hostname = ptr.To("a.b")
		}, want: []string{invalid + "endpoints[0].nodeName", invalid + "endpoints[0].hostname"}},
		{name: "hints", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints[0].Hints = &discoveryv1.EndpointHints{
				ForZones: []discoveryv1.ForZone{{Name: "a"}, {Name: "a"}, {Name: "bad zone"}},
				ForNodes: []discoveryv1.ForNode{{Name: "n1"}, {Name: "N_2"}},
			}
		}, want: []string{"FieldValueDuplicate endpoints[0].hints.forZones[1].name", invalid + "endpoints[0].hints.forZones[2].name", invalid + "endpoints[0].hints.forNodes[1].name"}},
		{name: "bad topology label", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints[0].DeprecatedTopology = map[string]string{"bad key": "v"}
		}, want: []string{invalid + "endpoints[0].deprecatedTopology"}},
		{name: "duplicate port names", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Ports = append(e.Ports, discoveryv1.EndpointPort{Name: ptr.To("http"), Port: ptr.To[int32](8080)})
		}, want: []string{"FieldValueDuplicate ports[1].name"}},
		{name: "bad port name", mutate: func(e *discoveryv1.EndpointSlice) { e.Ports[0].Name = ptr.To("HTTP") },
			want: []string{invalid + "ports[0].name"}},
		{name: "bad protocol", mutate: func(e *discoveryv1.EndpointSlice) { e.Ports[0].Protocol = ptr.To(corev1.Protocol("ICMP")) },
			want: []string{notSupported + "ports[0].protocol"}},
		{name: "app protocol", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Ports[0].AppProtocol = ptr.To("kubernetes.io/h2c")
			e.Ports = append(e.Ports, discoveryv1.EndpointPort{Name: ptr.To("b"), AppProtocol: ptr.To("a/b/c")})
		}, want: []string{invalid + "ports[1].appProtocol"}},
	}
	s := endpointSliceStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := validSlice()
			tc.mutate(es)
			s.Default(es)
			errs := s.Validate(es)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestEndpointSliceProtocolRequiredWithoutDefaulting(t *testing.T) {
	es := validSlice()
	checkErrs(t, endpointSliceStrategy{}.Validate(es), []string{required + "ports[0].protocol"})
}

func TestEndpointSliceAddressTypeImmutable(t *testing.T) {
	s := endpointSliceStrategy{now: fixedClock}
	old := validSlice()
	s.Default(old)
	cur := old.DeepCopy()
	cur.Endpoints[0].Addresses = []string{"10.1.0.6"}
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.AddressType = discoveryv1.AddressTypeIPv6
	cur.Endpoints[0].Addresses = []string{"fd00::6"}
	errs := s.ValidateUpdate(cur, old)
	checkErrs(t, errs, []string{invalid + "addressType"})
	checkDetail(t, errs, "addressType", "field is immutable")
}

func TestEndpointSliceTable(t *testing.T) {
	s := endpointSliceStrategy{now: fixedClock}
	var names []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "AddressType", "Ports", "Endpoints", "Age"}) {
		t.Fatalf("columns %v", names)
	}
	cases := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		ports  string
		eps    string
	}{
		{name: "one", mutate: func(*discoveryv1.EndpointSlice) {}, ports: "80", eps: "10.1.0.5"},
		{name: "empty", mutate: func(e *discoveryv1.EndpointSlice) { e.Ports, e.Endpoints = nil, nil }, ports: "<unset>", eps: "<unset>"},
		{name: "many", mutate: func(e *discoveryv1.EndpointSlice) {
			e.Ports = []discoveryv1.EndpointPort{{Port: ptr.To[int32](1)}, {Name: ptr.To("dns")}, {}, {Port: ptr.To[int32](4)}}
			e.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1", "10.0.0.2"}}, {Addresses: []string{"10.0.0.3", "10.0.0.4", "10.0.0.5"}}}
		}, ports: "1,dns,* + 1 more...", eps: "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := validSlice()
			es.CreationTimestamp = createdAgo(30 * time.Second)
			tc.mutate(es)
			want := []interface{}{"web-abc", "IPv4", tc.ports, tc.eps, "30s"}
			if got := s.TableRow(es); !reflect.DeepEqual(got, want) {
				t.Errorf("row %v, want %v", got, want)
			}
		})
	}
}

func TestEndpointSliceGeneration(t *testing.T) {
	st := endpointSliceStrategy{}
	es := &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4}
	st.PrepareForCreate(es)
	if es.Generation != 1 {
		t.Fatalf("generation on create = %d, want 1", es.Generation)
	}
	next := es.DeepCopy()
	next.Annotations = map[string]string{"a": "b"}
	st.PrepareForUpdate(next, es)
	if next.Generation != 1 {
		t.Errorf("annotation change bumped generation to %d", next.Generation)
	}
	next = es.DeepCopy()
	next.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.42.0.5"}}}
	st.PrepareForUpdate(next, es)
	if next.Generation != 2 {
		t.Errorf("endpoint change: generation = %d, want 2", next.Generation)
	}
}
