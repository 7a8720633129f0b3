package pki

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnsureCreatesFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b := mustEnsure(t, Config{Dir: dir, APIServerURL: "https://127.0.0.1:7443"}, fakeEnv(now))

	wantModes := map[string]os.FileMode{
		filepath.Join(TLSDirName, CAKeyFile):             0o600,
		filepath.Join(TLSDirName, ServingKeyFile):        0o600,
		filepath.Join(TLSDirName, AdminKeyFile):          0o600,
		filepath.Join(TLSDirName, KubeletClientKeyFile):  0o600,
		filepath.Join(TLSDirName, KubeletClientCertFile): 0o644,
		KubeconfigFile:                             0o600,
		filepath.Join(TLSDirName, CACertFile):      0o644,
		filepath.Join(TLSDirName, ServingCertFile): 0o644,
		filepath.Join(TLSDirName, AdminCertFile):   0o644,
	}
	for f, mode := range wantModes {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := info.Mode().Perm(); got != mode {
			t.Errorf("%s mode = %o, want %o", f, got, mode)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, TLSDirName))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	if !b.CA.IsCA {
		t.Error("CA certificate is not a CA")
	}
	if life := b.CA.NotAfter.Sub(now); life < 9*365*24*time.Hour {
		t.Errorf("CA lifetime %v, want about 10 years", life)
	}
	if got := mustParseCert(t, b.CAPEM()); !got.Equal(b.CA) {
		t.Error("CAPEM does not encode CA")
	}
	if b.ServingCert.Leaf == nil {
		t.Fatal("ServingCert.Leaf not set")
	}
	if b.KubeconfigPath != filepath.Join(dir, KubeconfigFile) {
		t.Errorf("KubeconfigPath = %q", b.KubeconfigPath)
	}
}

func TestServingCertVerifies(t *testing.T) {
	now := time.Now()
	b := mustEnsure(t, Config{Dir: t.TempDir(), ExtraSANs: []string{"api.example.com", "203.0.113.9"}}, fakeEnv(now))
	leaf := b.ServingCert.Leaf
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"node-1.example", true},
		{"192.168.5.7", true},
		{"2001:db8::7", true},
		{"kubernetes", true},
		{"kubernetes.default", true},
		{"kubernetes.default.svc", true},
		{"kubernetes.default.svc.cluster.local", true},
		{"10.43.0.1", true},
		{"api.example.com", true},
		{"203.0.113.9", true},
		{"10.43.0.2", false},
		{"fe80::1", false},
		{"evil.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			_, err := leaf.Verify(x509.VerifyOptions{
				DNSName:     tt.host,
				Roots:       b.CAPool,
				CurrentTime: now,
				KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if (err == nil) != tt.ok {
				t.Errorf("verify for %s: err = %v, want ok=%v", tt.host, err, tt.ok)
			}
		})
	}
}

func TestAdminCert(t *testing.T) {
	now := time.Now()
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(now))
	cert := mustParseCert(t, b.AdminCertPEM)
	if cert.Subject.CommonName != "system:admin" {
		t.Errorf("CN = %q", cert.Subject.CommonName)
	}
	if !slices.Equal(cert.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("O = %v", cert.Subject.Organization)
	}
	opts := x509.VerifyOptions{Roots: b.CAPool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := cert.Verify(opts); err != nil {
		t.Errorf("admin cert does not verify for client auth: %v", err)
	}
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if _, err := cert.Verify(opts); err == nil {
		t.Error("admin cert verifies for server auth")
	}
	if _, err := parseKeyPEM(b.AdminKeyPEM); err != nil {
		t.Errorf("admin key: %v", err)
	}
}

func TestEnsureReuse(t *testing.T) {
	base := time.Now()
	cfg := Config{Dir: "", ServiceCIDR: "10.43.0.0/16", APIServerURL: "https://127.0.0.1:6443"}
	serving := filepath.Join(TLSDirName, ServingCertFile)
	servingKey := filepath.Join(TLSDirName, ServingKeyFile)
	admin := filepath.Join(TLSDirName, AdminCertFile)
	adminKey := filepath.Join(TLSDirName, AdminKeyFile)
	kubeletClient := filepath.Join(TLSDirName, KubeletClientCertFile)
	kubeletClientKey := filepath.Join(TLSDirName, KubeletClientKeyFile)

	tests := []struct {
		name string
		// change alters the data dir, config or environment between the
		// first and the second Ensure.
		change      func(t *testing.T, dir string, cfg *Config, e *env)
		wantChanged []string
	}{
		{
			name:   "nothing changed",
			change: func(*testing.T, string, *Config, *env) {},
		},
		{
			name: "a month later",
			change: func(_ *testing.T, _ string, _ *Config, e *env) {
				e.now = func() time.Time { return base.Add(30 * 24 * time.Hour) }
			},
		},
		{
			name: "leaves expire within 90 days",
			change: func(_ *testing.T, _ string, _ *Config, e *env) {
				e.now = func() time.Time { return base.Add(300 * 24 * time.Hour) }
			},
			wantChanged: []string{serving, servingKey, admin, adminKey, kubeletClient, kubeletClientKey, KubeconfigFile},
		},
		{
			name:        "new extra SAN",
			change:      func(_ *testing.T, _ string, c *Config, _ *env) { c.ExtraSANs = []string{"api.example.com"} },
			wantChanged: []string{serving, servingKey},
		},
		{
			name:        "new service CIDR",
			change:      func(_ *testing.T, _ string, c *Config, _ *env) { c.ServiceCIDR = "10.96.0.0/12" },
			wantChanged: []string{serving, servingKey},
		},
		{
			name: "SAN dropped keeps cert",
			change: func(_ *testing.T, _ string, _ *Config, e *env) {
				e.interfaces = func() ([]net.Addr, error) { return nil, nil }
			},
		},
		{
			name:        "new server URL",
			change:      func(_ *testing.T, _ string, c *Config, _ *env) { c.APIServerURL = "https://127.0.0.1:7443" },
			wantChanged: []string{KubeconfigFile},
		},
		{
			name:        "serving cert deleted",
			change:      func(t *testing.T, dir string, _ *Config, _ *env) { remove(t, dir, serving) },
			wantChanged: []string{serving, servingKey},
		},
		{
			name:        "admin key deleted",
			change:      func(t *testing.T, dir string, _ *Config, _ *env) { remove(t, dir, adminKey) },
			wantChanged: []string{admin, adminKey, KubeconfigFile},
		},
		{
			name:        "kubelet client key deleted",
			change:      func(t *testing.T, dir string, _ *Config, _ *env) { remove(t, dir, kubeletClientKey) },
			wantChanged: []string{kubeletClient, kubeletClientKey},
		},
		{
			name:        "serving cert corrupt",
			change:      func(t *testing.T, dir string, _ *Config, _ *env) { write(t, dir, serving, []byte("garbage")) },
			wantChanged: []string{serving, servingKey},
		},
		{
			name: "admin cert signed by another CA",
			change: func(t *testing.T, dir string, _ *Config, e *env) {
				other := mustEnsure(t, Config{Dir: t.TempDir()}, *e)
				write(t, dir, admin, other.AdminCertPEM)
				write(t, dir, adminKey, other.AdminKeyPEM)
			},
			wantChanged: []string{admin, adminKey, KubeconfigFile},
		},
		{
			name: "kubeconfig deleted",
			change: func(t *testing.T, dir string, _ *Config, _ *env) {
				remove(t, dir, KubeconfigFile)
			},
			wantChanged: []string{KubeconfigFile},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := cfg
			c.Dir = dir
			e := fakeEnv(base)
			first := mustEnsure(t, c, e)
			tt.change(t, dir, &c, &e)
			// Snapshot after the change, so only Ensure's own writes count.
			before := snapshot(t, dir)
			second := mustEnsure(t, c, e)
			after := snapshot(t, dir)

			if first.CA.SerialNumber.Cmp(second.CA.SerialNumber) != 0 {
				t.Errorf("CA serial changed: %v -> %v", first.CA.SerialNumber, second.CA.SerialNumber)
			}
			got := changed(before, after)
			for _, f := range allFiles() {
				if got[f] != slices.Contains(tt.wantChanged, f) {
					t.Errorf("%s rewritten = %v, want %v", f, got[f], !got[f])
				}
			}
			// The bundle must describe what is on disk now.
			if string(second.AdminCertPEM) != string(after[admin].data) {
				t.Error("bundle admin cert differs from file")
			}
			if !second.ServingCert.Leaf.Equal(mustParseCert(t, after[serving].data)) {
				t.Error("bundle serving cert differs from file")
			}
			if _, err := second.ServingCert.Leaf.Verify(x509.VerifyOptions{
				DNSName: "kubernetes.default.svc", Roots: second.CAPool, CurrentTime: e.now(),
			}); err != nil {
				t.Errorf("serving cert after second Ensure: %v", err)
			}
		})
	}
}

func TestEnsureCAErrors(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string)
		now     time.Duration
		wantErr string
	}{
		{
			name:    "CA key missing",
			change:  func(t *testing.T, dir string) { remove(t, dir, filepath.Join(TLSDirName, CAKeyFile)) },
			wantErr: "key",
		},
		{
			name: "CA key from elsewhere",
			change: func(t *testing.T, dir string) {
				other := t.TempDir()
				mustEnsure(t, Config{Dir: other}, fakeEnv(time.Now()))
				data, err := os.ReadFile(filepath.Join(other, TLSDirName, CAKeyFile))
				if err != nil {
					t.Fatal(err)
				}
				write(t, dir, filepath.Join(TLSDirName, CAKeyFile), data)
			},
			wantErr: "does not match",
		},
		{
			name:    "CA cert corrupt",
			change:  func(t *testing.T, dir string) { write(t, dir, filepath.Join(TLSDirName, CACertFile), []byte("x")) },
			wantErr: "CA certificate",
		},
		{
			name:    "CA expired",
			change:  func(*testing.T, string) {},
			now:     11 * 365 * 24 * time.Hour,
			wantErr: "expired",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			base := time.Now()
			mustEnsure(t, Config{Dir: dir}, fakeEnv(base))
			tt.change(t, dir)
			_, err := ensure(Config{Dir: dir}, fakeEnv(base.Add(tt.now)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEnsureInterruptedFirstStart(t *testing.T) {
	// A CA key without its certificate means the first start stopped
	// half-way; Ensure starts over instead of failing forever.
	dir := t.TempDir()
	write(t, dir, filepath.Join(TLSDirName, CAKeyFile), []byte("stale"))
	b := mustEnsure(t, Config{Dir: dir}, fakeEnv(time.Now()))
	if _, err := parseCA(b.CAPEM(), mustRead(t, dir, filepath.Join(TLSDirName, CAKeyFile)), time.Now()); err != nil {
		t.Fatalf("CA on disk unusable: %v", err)
	}
}

func TestEnsureRequiresDir(t *testing.T) {
	if _, err := Ensure(Config{}); err == nil {
		t.Fatal("Ensure without Dir succeeded")
	}
}

func TestLeafClampedToCA(t *testing.T) {
	// Near the CA's end of life a leaf cannot reach 90 days of validity;
	// it must be issued once, capped at the CA's expiry, and then kept.
	dir := t.TempDir()
	base := time.Now()
	first := mustEnsure(t, Config{Dir: dir}, fakeEnv(base))
	late := first.CA.NotAfter.Add(-30 * 24 * time.Hour)
	second := mustEnsure(t, Config{Dir: dir}, fakeEnv(late))
	if !second.ServingCert.Leaf.NotAfter.Equal(first.CA.NotAfter) {
		t.Errorf("serving NotAfter = %v, want CA NotAfter %v", second.ServingCert.Leaf.NotAfter, first.CA.NotAfter)
	}
	before := snapshot(t, dir)
	mustEnsure(t, Config{Dir: dir}, fakeEnv(late.Add(time.Hour)))
	if got := changed(before, snapshot(t, dir)); len(got) != 0 {
		t.Errorf("files rewritten near CA expiry: %v", got)
	}
}

func remove(t *testing.T, dir, f string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, f)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, f string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, f)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, dir, f string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, f))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
