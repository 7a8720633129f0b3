package overlay

import (
	"net"
	"net/netip"
	"reflect"
	"testing"
)

func mac(s string) net.HardwareAddr {
	m, _ := net.ParseMAC(s) // constants; a typo shows as a test failure
	return m
}

func node(name, ip, cidr, m string) NodeInfo {
	n := NodeInfo{Name: name}
	if ip != "" {
		n.InternalIP = netip.MustParseAddr(ip)
	}
	if cidr != "" {
		n.PodCIDR = netip.MustParsePrefix(cidr)
	}
	if m != "" {
		n.VTEPMAC = mac(m)
	}
	return n
}

func TestPlan(t *testing.T) {
	self := node("a", "192.168.1.1", "10.42.1.0/24", "0e:6b:c0:a8:01:01")
	b := node("b", "192.168.1.2", "10.42.2.0/24", "0e:6b:c0:a8:01:02")
	c := node("c", "192.168.1.3", "10.42.3.0/24", "0e:6b:c0:a8:01:03")
	selfDev := &Device{Name: DeviceName, VNI: VNI, Port: Port, Local: self.InternalIP,
		Address: netip.MustParsePrefix("10.42.1.0/32"), MAC: self.VTEPMAC}
	vxRoute := func(cidr, gw string) Route {
		return Route{Dst: netip.MustParsePrefix(cidr), Via: netip.MustParseAddr(gw), Dev: DeviceName, OnLink: true}
	}
	tests := []struct {
		name  string
		self  NodeInfo
		peers []NodeInfo
		mode  Mode
		want  Desired
	}{
		{
			name: "vxlan two peers, sorted by pod CIDR, self skipped",
			self: self, peers: []NodeInfo{c, self, b}, mode: ModeVXLAN,
			want: Desired{
				Mode: ModeVXLAN, Device: selfDev,
				Routes: []Route{vxRoute("10.42.2.0/24", "10.42.2.0"), vxRoute("10.42.3.0/24", "10.42.3.0")},
				FDB: []FDBEntry{
					{MAC: b.VTEPMAC, Dst: b.InternalIP},
					{MAC: c.VTEPMAC, Dst: c.InternalIP},
				},
				Neighbors: []Neighbor{
					{IP: netip.MustParseAddr("10.42.2.0"), MAC: b.VTEPMAC},
					{IP: netip.MustParseAddr("10.42.3.0"), MAC: c.VTEPMAC},
				},
			},
		},
		{
			name: "host-gw routes via peer addresses, no device",
			self: self, peers: []NodeInfo{b, c}, mode: ModeHostGW,
			want: Desired{Mode: ModeHostGW, Routes: []Route{
				{Dst: b.PodCIDR, Via: b.InternalIP},
				{Dst: c.PodCIDR, Via: c.InternalIP},
			}},
		},
		{
			name: "vxlan skips a peer without VTEP MAC; host-gw keeps it",
			self: self, peers: []NodeInfo{node("d", "192.168.1.4", "10.42.4.0/24", "")}, mode: ModeVXLAN,
			want: Desired{Mode: ModeVXLAN, Device: selfDev},
		},
		{
			name: "host-gw keeps a peer without VTEP MAC",
			self: self, peers: []NodeInfo{node("d", "192.168.1.4", "10.42.4.0/24", "")}, mode: ModeHostGW,
			want: Desired{Mode: ModeHostGW, Routes: []Route{{Dst: netip.MustParsePrefix("10.42.4.0/24"), Via: netip.MustParseAddr("192.168.1.4")}}},
		},
		{
			name: "unusable peers are skipped",
			self: self, mode: ModeHostGW,
			peers: []NodeInfo{
				node("no-ip", "", "10.42.5.0/24", ""),
				node("no-cidr", "192.168.1.6", "", ""),
				node("v6", "fd00::7", "10.42.7.0/24", ""),
				node("v6cidr", "192.168.1.8", "fd00:42::/64", ""),
				node("overlaps-self", "192.168.1.9", "10.42.0.0/16", ""),
				node("same-ip", "192.168.1.1", "10.42.10.0/24", ""),
				node("", "192.168.1.11", "", ""),
			},
			want: Desired{Mode: ModeHostGW},
		},
		{
			name: "a pod CIDR claimed twice is routed once, to the first by name",
			self: self, mode: ModeHostGW,
			peers: []NodeInfo{node("y", "192.168.1.20", "10.42.2.0/24", ""), node("x", "192.168.1.21", "10.42.2.0/24", "")},
			want:  Desired{Mode: ModeHostGW, Routes: []Route{{Dst: netip.MustParsePrefix("10.42.2.0/24"), Via: netip.MustParseAddr("192.168.1.21")}}},
		},
		{
			name: "unmasked pod CIDRs are masked; default self MAC derives from the address",
			self: node("a", "192.168.1.1", "10.42.1.7/24", ""), peers: []NodeInfo{node("b", "192.168.1.2", "10.42.2.9/24", "0e:6b:c0:a8:01:02")},
			mode: ModeVXLAN,
			want: Desired{
				Mode: ModeVXLAN,
				Device: &Device{Name: DeviceName, VNI: VNI, Port: Port, Local: self.InternalIP,
					Address: netip.MustParsePrefix("10.42.1.0/32"), MAC: mac("0e:6b:c0:a8:01:01")},
				Routes:    []Route{vxRoute("10.42.2.0/24", "10.42.2.0")},
				FDB:       []FDBEntry{{MAC: b.VTEPMAC, Dst: b.InternalIP}},
				Neighbors: []Neighbor{{IP: netip.MustParseAddr("10.42.2.0"), MAC: b.VTEPMAC}},
			},
		},
		{
			name: "self without pod CIDR plans nothing",
			self: node("a", "192.168.1.1", "", ""), peers: []NodeInfo{b}, mode: ModeVXLAN,
			want: Desired{Mode: ModeVXLAN},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Plan(tt.self, tt.peers, tt.mode)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Plan:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPlanNone(t *testing.T) {
	self := NodeInfo{Name: "a", InternalIP: netip.MustParseAddr("198.18.0.1"), PodCIDR: netip.MustParsePrefix("10.97.1.0/24")}
	peer := NodeInfo{Name: "b", InternalIP: netip.MustParseAddr("198.18.0.2"), PodCIDR: netip.MustParsePrefix("10.97.2.0/24"),
		VTEPMAC: VTEPMAC(netip.MustParseAddr("198.18.0.2"))}
	got := Plan(self, []NodeInfo{peer}, ModeNone)
	if !reflect.DeepEqual(got, Desired{Mode: ModeNone}) {
		t.Errorf("Plan(none) = %+v, want nothing", got)
	}
}

func TestPodMTU(t *testing.T) {
	tests := []struct {
		uplink int
		mode   Mode
		want   int
	}{
		{1500, ModeVXLAN, 1450},
		{9001, ModeVXLAN, 8951},
		{1500, ModeHostGW, 1500},
		{0, ModeVXLAN, 1450},
		{-1, ModeHostGW, 1500},
		{1500, ModeNone, 1500},
	}
	for _, tt := range tests {
		if got := PodMTU(tt.uplink, tt.mode); got != tt.want {
			t.Errorf("PodMTU(%d, %s) = %d, want %d", tt.uplink, tt.mode, got, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"", ModeVXLAN, false},
		{"vxlan", ModeVXLAN, false},
		{"host-gw", ModeHostGW, false},
		{"none", ModeNone, false},
		{"hostgw", "", true},
		{"udp", "", true},
	}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseMode(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestVTEPMAC(t *testing.T) {
	got := VTEPMAC(netip.MustParseAddr("198.18.0.2"))
	if got.String() != "0e:6b:c6:12:00:02" {
		t.Errorf("VTEPMAC = %s", got)
	}
	if got[0]&1 != 0 || got[0]&2 == 0 {
		t.Errorf("VTEPMAC %s is not locally administered unicast", got)
	}
}
