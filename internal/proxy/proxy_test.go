package proxy

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestNewChecksConfig checks that New refuses bad settings clearly and
// normalises the good ones.
func TestNewChecksConfig(t *testing.T) {
	client := fake.NewClientset()
	for _, c := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no node name", Config{Client: client}, "NodeName is required"},
		{"no client", Config{NodeName: "n"}, "Client or Informers is required"},
		{"bad mode", Config{NodeName: "n", Client: client, Mode: "ipvs"}, `unsupported mode "ipvs"`},
		{"bad cluster CIDR", Config{NodeName: "n", Client: client, ClusterCIDR: "10.42.0.0"}, "not an IPv4 prefix"},
		{"IPv6 cluster CIDR", Config{NodeName: "n", Client: client, ClusterCIDR: "fd00::/64"}, "not an IPv4 prefix"},
		{"bad node IP", Config{NodeName: "n", Client: client, NodeIPs: []string{"10.0.0.300"}}, `node IP "10.0.0.300"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("New: %v, want an error containing %q", err, c.wantErr)
			}
		})
	}

	p, err := New(Config{NodeName: "n", Client: client, ClusterCIDR: "10.42.3.4/16", NodeIPs: []string{"fd00::1", "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.cfg.ClusterCIDR != "10.42.0.0/16" || len(p.cfg.NodeIPs) != 1 || p.cfg.NodeIPs[0] != "192.0.2.7" || p.cfg.Mode != ModeIPTables {
		t.Errorf("normalised config: CIDR %q, node IPs %v, mode %q", p.cfg.ClusterCIDR, p.cfg.NodeIPs, p.cfg.Mode)
	}
}

// TestNewWarnsAboutIPv6OnlyNodeIPs checks that node IPs without any IPv4
// address, which restrict nothing, are reported.
func TestNewWarnsAboutIPv6OnlyNodeIPs(t *testing.T) {
	var logs bytes.Buffer
	p, err := New(Config{NodeName: "n", Client: fake.NewClientset(), NodeIPs: []string{"fd00::1"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.cfg.NodeIPs) != 0 {
		t.Errorf("node IPs = %v, want none", p.cfg.NodeIPs)
	}
	if !strings.Contains(logs.String(), "no IPv4 address among the node IPs") {
		t.Errorf("no warning logged; logs:\n%s", logs.String())
	}
}
