package overlay

import (
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPeersFromNodes(t *testing.T) {
	mk := func(name string, ann map[string]string, podCIDR string, podCIDRs []string, addrs ...corev1.NodeAddress) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann},
			Spec:       corev1.NodeSpec{PodCIDR: podCIDR, PodCIDRs: podCIDRs},
			Status:     corev1.NodeStatus{Addresses: addrs},
		}
	}
	internal := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	nodes := []*corev1.Node{
		mk("annotated", Annotations(netip.MustParseAddr("198.18.0.1"), mac("0e:6b:c6:12:00:01")), "10.42.1.0/24", nil, internal("192.168.0.1")),
		mk("status-only", nil, "", []string{"fd00::/64", "10.42.2.0/24"},
			corev1.NodeAddress{Type: corev1.NodeHostName, Address: "status-only"}, internal("fd00::2"), internal("192.168.0.2")),
		mk("bad-mac", map[string]string{AnnotationVTEPMAC: "nope", AnnotationPublicIP: "junk"}, "10.42.3.0/24", nil, internal("192.168.0.3")),
		mk("no-cidr", nil, "", nil, internal("192.168.0.4")),
		mk("no-address", nil, "10.42.5.0/24", nil),
		nil,
	}
	want := []NodeInfo{
		{Name: "annotated", InternalIP: netip.MustParseAddr("198.18.0.1"), PodCIDR: netip.MustParsePrefix("10.42.1.0/24"), VTEPMAC: mac("0e:6b:c6:12:00:01")},
		{Name: "status-only", InternalIP: netip.MustParseAddr("192.168.0.2"), PodCIDR: netip.MustParsePrefix("10.42.2.0/24")},
		{Name: "bad-mac", InternalIP: netip.MustParseAddr("192.168.0.3"), PodCIDR: netip.MustParsePrefix("10.42.3.0/24")},
	}
	if got := PeersFromNodes(nodes); !reflect.DeepEqual(got, want) {
		t.Errorf("PeersFromNodes:\n got %+v\nwant %+v", got, want)
	}
}

func TestAnnotations(t *testing.T) {
	got := Annotations(netip.MustParseAddr("198.18.0.1"), nil)
	if !reflect.DeepEqual(got, map[string]string{AnnotationPublicIP: "198.18.0.1"}) {
		t.Errorf("host-gw annotations = %v", got)
	}
	got = Annotations(netip.MustParseAddr("198.18.0.1"), mac("0e:6b:c6:12:00:01"))
	if got[AnnotationVTEPMAC] != "0e:6b:c6:12:00:01" {
		t.Errorf("vxlan annotations = %v", got)
	}
}
