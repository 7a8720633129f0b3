package main

import (
	"testing"
)

func TestClusterState(t *testing.T) {
	c, err := newCluster(300, 5)
	if err != nil {
		t.Fatal(err)
	}
	st := c.State()
	if len(st.Services) != 300 {
		t.Fatalf("%d service ports, want 300", len(st.Services))
	}
	ips := map[string]bool{}
	for _, sp := range st.Services {
		if len(sp.Endpoints) != 5 {
			t.Fatalf("%s has %d endpoints, want 5", sp.String(), len(sp.Endpoints))
		}
		if ips[sp.ClusterIP] {
			t.Fatalf("cluster IP %s used twice", sp.ClusterIP)
		}
		ips[sp.ClusterIP] = true
		for _, e := range sp.Endpoints {
			if ips[e.IP] {
				t.Fatalf("endpoint IP %s used twice", e.IP)
			}
			ips[e.IP] = true
			if !e.Ready || e.NodeName == benchNode {
				t.Fatalf("endpoint %+v: want ready and on another node", e)
			}
		}
	}
	if got := st.Services[299].Endpoints[4].IP; got != "10.42.5.220" {
		t.Errorf("last endpoint %s, want 10.42.5.220", got)
	}
}

func TestChangeEndpoint(t *testing.T) {
	c, err := newCluster(100, 5)
	if err != nil {
		t.Fatal(err)
	}
	before := c.State()
	seen := map[int]bool{}
	for k := range 5 {
		c.changeEndpoint(k, 5)
		after := c.State()
		changed := 0
		for i := range after.Services {
			old := map[string]bool{}
			for _, e := range before.Services[i].Endpoints {
				old[e.IP] = true
			}
			if len(after.Services[i].Endpoints) != 5 {
				t.Fatalf("change %d left %s with %d endpoints", k, after.Services[i].String(), len(after.Services[i].Endpoints))
			}
			for _, e := range after.Services[i].Endpoints {
				if !old[e.IP] {
					changed++
					seen[i] = true
				}
			}
		}
		if changed != 1 {
			t.Fatalf("change %d changed %d endpoints, want 1", k, changed)
		}
		before = after
	}
	if len(seen) != 5 {
		t.Errorf("5 changes touched %d Services, want 5 different ones", len(seen))
	}
}

func TestNewClusterLimits(t *testing.T) {
	if _, err := newCluster(20000, 5); err == nil {
		t.Error("100,000 endpoints fit in a /16?")
	}
	if _, err := newCluster(0, 5); err == nil {
		t.Error("0 Services accepted")
	}
}

func TestLegacyTool(t *testing.T) {
	for in, want := range map[string]string{
		"iptables": "iptables-legacy", "iptables-restore": "iptables-legacy-restore",
		"iptables-save": "iptables-legacy-save", "ip": "ip",
	} {
		if got := legacyTool(in); got != want {
			t.Errorf("legacyTool(%q) = %q, want %q", in, got, want)
		}
	}
}
