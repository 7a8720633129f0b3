package core

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func epTest(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Subsets: subsets}
}

func epAddrs(ips ...string) []corev1.EndpointAddress {
	out := make([]corev1.EndpointAddress, len(ips))
	for i, ip := range ips {
		out[i] = corev1.EndpointAddress{IP: ip}
	}
	return out
}

func TestEndpointsResource(t *testing.T) {
	r := Endpoints()
	if r.Resource != "endpoints" || r.Kind != "Endpoints" || r.ShortNames[0] != "ep" || !r.Namespaced {
		t.Errorf("unexpected resource %+v", r)
	}
}

func TestEndpointsValidate(t *testing.T) {
	node := "Bad_Node"
	cases := []struct {
		name string
		in   *corev1.Endpoints
		want []string
	}{
		{"empty", epTest(), nil},
		{"valid", epTest(corev1.EndpointSubset{Addresses: epAddrs("10.1.0.5"), Ports: []corev1.EndpointPort{{Port: 80}}}), nil},
		{"headless without ports", epTest(corev1.EndpointSubset{NotReadyAddresses: epAddrs("10.1.0.5")}), nil},
		{"no addresses", epTest(corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Port: 80}}}),
			[]string{"FieldValueRequired subsets[0]"}},
		{"bad addresses", epTest(corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{
			{IP: "127.0.0.1"}, {IP: "10.0.0.1", Hostname: "Web", NodeName: &node},
		}}), []string{"FieldValueInvalid subsets[0].addresses[0].ip", "FieldValueInvalid subsets[0].addresses[1].hostname", "FieldValueInvalid subsets[0].addresses[1].nodeName"}},
		{"bad ports", epTest(corev1.EndpointSubset{Addresses: epAddrs("10.1.0.5"), Ports: []corev1.EndpointPort{
			{Port: 80}, {Name: "b", Port: 0, Protocol: "ICMP"},
		}}), []string{"FieldValueRequired subsets[0].ports[0].name", "FieldValueInvalid subsets[0].ports[1].port", "FieldValueNotSupported subsets[0].ports[1].protocol"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := epStrategy{}
			s.Default(c.in)
			commonExpectErrs(t, s.Validate(c.in), c.want...)
			commonExpectErrs(t, s.ValidateUpdate(c.in, epTest()), c.want...)
		})
	}
	ep := epTest(corev1.EndpointSubset{Addresses: epAddrs("10.1.0.5"), Ports: []corev1.EndpointPort{{Port: 80}}})
	epStrategy{}.Default(ep)
	if ep.Subsets[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Error("protocol not defaulted")
	}
}

func TestEndpointsTable(t *testing.T) {
	s := epStrategy{}
	cases := []struct {
		name string
		in   *corev1.Endpoints
		want string
	}{
		{"none", epTest(), "<none>"},
		{"two", epTest(corev1.EndpointSubset{Addresses: epAddrs("10.0.0.1", "10.0.0.2"), Ports: []corev1.EndpointPort{{Port: 80}}}),
			"10.0.0.1:80,10.0.0.2:80"},
		{"more", epTest(corev1.EndpointSubset{Addresses: epAddrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}}),
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more..."},
		{"no ports and ipv6", epTest(corev1.EndpointSubset{Addresses: epAddrs("10.0.0.1")}, corev1.EndpointSubset{Addresses: epAddrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 53}}}),
			"10.0.0.1,[fd00::1]:53"},
		{"only not ready", epTest(corev1.EndpointSubset{NotReadyAddresses: epAddrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := s.TableRow(c.in)
			commonCheckTable(t, s, []string{"Name", "Endpoints", "Age"}, row)
			if want := []interface{}{"web", c.want, "<unknown>"}; !reflect.DeepEqual(row, want) {
				t.Errorf("row = %q, want %q", row, want)
			}
		})
	}
}
