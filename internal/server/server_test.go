package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(badPolicy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no data dir", Config{}, "data dir is required"},
		{"bad cluster cidr", Config{DataDir: dir, ClusterCIDR: "10.0.0.0"}, "--cluster-cidr"},
		{"bad node port range", Config{DataDir: dir, NodePortRange: "5-1"}, "invalid node port range"},
		{"negative audit size", Config{DataDir: dir, Audit: AuditConfig{MaxSizeMB: -1}}, "--audit-log-maxsize must not be negative"},
		{"negative audit backups", Config{DataDir: dir, Audit: AuditConfig{MaxBackups: -2}}, "--audit-log-maxbackup must not be negative"},
		{"missing policy", Config{DataDir: dir, Audit: AuditConfig{PolicyFile: filepath.Join(dir, "none.yaml")}}, "--audit-policy-file"},
		{"bad policy", Config{DataDir: dir, Audit: AuditConfig{PolicyFile: badPolicy}}, "--audit-policy-file"},
		{"fine", Config{DataDir: dir}, ""},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}
