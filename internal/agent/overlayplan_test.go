package agent

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/agent/overlay"
)

// testNode is a Node with an InternalIP and pod CIDR (either may be
// empty) and, when published, the overlay annotations of vxlan mode.
func testNode(name, ip, cidr string, published bool) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}
	}
	if cidr != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
	}
	if published {
		n.Annotations = overlay.Annotations(netip.MustParseAddr(ip), overlay.VTEPMAC(netip.MustParseAddr(ip)))
	}
	return n
}

func TestPlanOverlay(t *testing.T) {
	selfIP := netip.MustParseAddr("198.18.0.1")
	self := overlaySelf("a", selfIP, netip.MustParsePrefix("10.96.1.0/24"), overlay.ModeVXLAN)
	selfNode := testNode("a", "198.18.0.1", "10.96.1.0/24", true)
	tests := []struct {
		name       string
		nodes      []*corev1.Node
		mode       overlay.Mode
		wantDevice bool
		wantRoutes []string // destination CIDRs
	}{
		{"single node: no device", []*corev1.Node{selfNode}, overlay.ModeVXLAN, false, nil},
		{"no nodes at all", nil, overlay.ModeVXLAN, false, nil},
		{"one published peer", []*corev1.Node{selfNode, testNode("b", "198.18.0.2", "10.96.2.0/24", true)},
			overlay.ModeVXLAN, true, []string{"10.96.2.0/24"}},
		{"peer without VTEP MAC yet: no device", []*corev1.Node{selfNode, testNode("b", "198.18.0.2", "10.96.2.0/24", false)},
			overlay.ModeVXLAN, false, nil},
		{"peer without pod CIDR yet", []*corev1.Node{selfNode, testNode("b", "198.18.0.2", "", true)},
			overlay.ModeVXLAN, false, nil},
		{"two peers, one unusable", []*corev1.Node{
			testNode("c", "198.18.0.3", "10.96.3.0/24", true), selfNode,
			testNode("b", "198.18.0.2", "10.96.2.0/24", true), testNode("d", "", "10.96.4.0/24", false),
		}, overlay.ModeVXLAN, true, []string{"10.96.2.0/24", "10.96.3.0/24"}},
		{"same address as self (two agents on one host)", []*corev1.Node{selfNode, testNode("b", "198.18.0.1", "10.96.2.0/24", true)},
			overlay.ModeVXLAN, false, nil},
		{"host-gw needs no MAC and no device", []*corev1.Node{selfNode, testNode("b", "198.18.0.2", "10.96.2.0/24", false)},
			overlay.ModeHostGW, false, []string{"10.96.2.0/24"}},
		{"none plans nothing", []*corev1.Node{selfNode, testNode("b", "198.18.0.2", "10.96.2.0/24", true)},
			overlay.ModeNone, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := self
			if tt.mode != overlay.ModeVXLAN {
				s = overlaySelf("a", selfIP, self.PodCIDR, tt.mode)
			}
			d := planOverlay(s, tt.nodes, tt.mode)
			if (d.Device != nil) != tt.wantDevice {
				t.Errorf("device = %+v, want device %v", d.Device, tt.wantDevice)
			}
			var got []string
			for _, r := range d.Routes {
				got = append(got, r.Dst.String())
			}
			if !reflect.DeepEqual(got, tt.wantRoutes) {
				t.Errorf("routes = %v, want %v", got, tt.wantRoutes)
			}
			if tt.mode == overlay.ModeVXLAN && len(d.FDB) != len(tt.wantRoutes) {
				t.Errorf("FDB = %v, want one entry per peer", d.FDB)
			}
		})
	}
}

func TestOverlayAnnotationPatch(t *testing.T) {
	ip := netip.MustParseAddr("198.18.0.1")
	vx := overlaySelf("a", ip, netip.MustParsePrefix("10.96.1.0/24"), overlay.ModeVXLAN)
	gw := overlaySelf("a", ip, netip.MustParsePrefix("10.96.1.0/24"), overlay.ModeHostGW)
	mac := overlay.VTEPMAC(ip).String()
	tests := []struct {
		name string
		have map[string]string
		self overlay.NodeInfo
		mode overlay.Mode
		want map[string]any // the annotations of the patch; nil: no patch
	}{
		{"fresh node, vxlan", map[string]string{"other": "x"}, vx, overlay.ModeVXLAN,
			map[string]any{overlay.AnnotationPublicIP: "198.18.0.1", overlay.AnnotationVTEPMAC: mac}},
		{"already published", map[string]string{overlay.AnnotationPublicIP: "198.18.0.1", overlay.AnnotationVTEPMAC: mac}, vx, overlay.ModeVXLAN, nil},
		{"address changed", map[string]string{overlay.AnnotationPublicIP: "198.18.0.9", overlay.AnnotationVTEPMAC: mac}, vx, overlay.ModeVXLAN,
			map[string]any{overlay.AnnotationPublicIP: "198.18.0.1"}},
		{"host-gw publishes no MAC", nil, gw, overlay.ModeHostGW, map[string]any{overlay.AnnotationPublicIP: "198.18.0.1"}},
		{"host-gw removes a stale MAC", map[string]string{overlay.AnnotationPublicIP: "198.18.0.1", overlay.AnnotationVTEPMAC: mac}, gw, overlay.ModeHostGW,
			map[string]any{overlay.AnnotationVTEPMAC: nil}},
		{"none publishes nothing", nil, gw, overlay.ModeNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			patch, needed, err := overlayAnnotationPatch(tt.have, overlayAnnotations(tt.self, tt.mode), tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if needed != (tt.want != nil) {
				t.Fatalf("needed = %v, patch %s", needed, patch)
			}
			if !needed {
				return
			}
			var got struct {
				Metadata struct {
					Annotations map[string]any `json:"annotations"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(patch, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Metadata.Annotations, tt.want) {
				t.Errorf("patch annotations = %v, want %v", got.Metadata.Annotations, tt.want)
			}
		})
	}
}

func TestOverlayNodeChanged(t *testing.T) {
	base := testNode("b", "198.18.0.2", "10.96.2.0/24", true)
	heartbeat := base.DeepCopy()
	heartbeat.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	heartbeat.ResourceVersion = "2"
	newIP := base.DeepCopy()
	newIP.Status.Addresses[0].Address = "198.18.0.3"
	newIP.Annotations = nil
	unpublished := base.DeepCopy()
	delete(unpublished.Annotations, overlay.AnnotationVTEPMAC)
	newCIDR := base.DeepCopy()
	newCIDR.Spec.PodCIDR, newCIDR.Spec.PodCIDRs = "10.96.7.0/24", []string{"10.96.7.0/24"}
	tests := []struct {
		name     string
		old, cur *corev1.Node
		want     bool
	}{
		{"heartbeat", base, heartbeat, false},
		{"address", base, newIP, true},
		{"annotation removed", base, unpublished, true},
		{"pod CIDR", base, newCIDR, true},
		{"unknown old", nil, base, true},
	}
	for _, tt := range tests {
		if got := overlayNodeChanged(tt.old, tt.cur); got != tt.want {
			t.Errorf("%s: overlayNodeChanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPodNetworkMTU(t *testing.T) {
	tests := []struct {
		ip     string
		uplink int
		mode   overlay.Mode
		want   int
	}{
		{"198.18.0.1", 1500, overlay.ModeVXLAN, 1450},
		{"198.18.0.1", 9000, overlay.ModeVXLAN, 8950},
		{"198.18.0.1", 1500, overlay.ModeHostGW, 1500},
		{"198.18.0.1", 1400, overlay.ModeNone, 1400},
		{"198.18.0.1", 0, overlay.ModeVXLAN, 1450},    // uplink unknown
		{"127.0.0.1", 65536, overlay.ModeVXLAN, 1450}, // a node without a network
		{"127.0.0.1", 65536, overlay.ModeHostGW, 1500},
	}
	for _, tt := range tests {
		if got := podNetworkMTU(netip.MustParseAddr(tt.ip), tt.uplink, tt.mode); got != tt.want {
			t.Errorf("podNetworkMTU(%s, %d, %s) = %d, want %d", tt.ip, tt.uplink, tt.mode, got, tt.want)
		}
	}
}

func TestInterfaceMTU(t *testing.T) {
	if got := interfaceMTU(netip.MustParseAddr("127.0.0.1")); got <= 0 {
		t.Errorf("interfaceMTU(127.0.0.1) = %d, want loopback's MTU", got)
	}
	if got := interfaceMTU(netip.MustParseAddr("192.0.2.254")); got != 0 {
		t.Errorf("interfaceMTU of an address no interface holds = %d, want 0", got)
	}
}

func TestOverlayModeFlag(t *testing.T) {
	var m overlay.Mode
	f := OverlayModeFlag(&m)
	if f.String() != "vxlan" {
		t.Errorf("default = %q, want vxlan", f.String())
	}
	for _, in := range []string{"host-gw", "none", "vxlan"} {
		if err := f.Set(in); err != nil || string(m) != in {
			t.Errorf("Set(%q): mode %q, err %v", in, m, err)
		}
	}
	if err := f.Set("udp"); err == nil {
		t.Error("Set(udp) accepted")
	}
	if m != overlay.ModeVXLAN {
		t.Errorf("a refused value changed the mode to %q", m)
	}
}
