package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestCNIConfig(t *testing.T) {
	dir := t.TempDir()
	if err := writeCNIConfig(dir, "10.42.3.0/24", "/data/ipam", 1450); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "10-skiff.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Name    string `json:"name"`
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
			MTU    int    `json:"mtu"`
			IPAM   struct {
				Type    string                `json:"type"`
				Ranges  [][]map[string]string `json:"ranges"`
				DataDir string                `json:"dataDir"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.Plugins) != 2 || conf.Plugins[0].Type != "bridge" || conf.Plugins[0].Bridge != "skf0a2a030018" || conf.Plugins[1].Type != "portmap" {
		t.Fatalf("plugins = %+v", conf.Plugins)
	}
	if conf.Plugins[0].MTU != 1450 {
		t.Fatalf("bridge mtu = %d, want 1450", conf.Plugins[0].MTU)
	}
	ipam := conf.Plugins[0].IPAM
	if ipam.Type != "host-local" || ipam.Ranges[0][0]["subnet"] != "10.42.3.0/24" || ipam.DataDir != "/data/ipam" {
		t.Fatalf("ipam = %+v", ipam)
	}
	st, _ := os.Stat(filepath.Join(dir, "10-skiff.conflist"))
	// Writing the same configuration again leaves the file alone.
	if err := writeCNIConfig(dir, "10.42.3.0/24", "/data/ipam", 1450); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(filepath.Join(dir, "10-skiff.conflist"))
	if !st.ModTime().Equal(st2.ModTime()) {
		t.Fatal("unchanged configuration was rewritten")
	}
	// A node restarted with another MTU (a new uplink, another backend)
	// gets the new value.
	if err := writeCNIConfig(dir, "10.42.3.0/24", "/data/ipam", 1500); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(filepath.Join(dir, "10-skiff.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	if conf.Plugins[0].MTU != 1500 {
		t.Fatalf("rewritten bridge mtu = %d, want 1500", conf.Plugins[0].MTU)
	}
}

func TestHasServiceRule(t *testing.T) {
	rules := "0:\tfrom all lookup local\n10043:\tfrom all to 10.43.0.0/16 iif lo lookup 4243 \n32766:\tfrom all lookup main\n"
	if !hasServiceRule(rules, "10.43.0.0/16") {
		t.Error("rule not found")
	}
	if hasServiceRule(rules, "10.45.0.0/16") {
		t.Error("rule for another range found")
	}
}
