package pki

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

func TestIssueClientCert(t *testing.T) {
	now := time.Now()
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(now))
	tests := []struct {
		name     string
		cn       string
		orgs     []string
		validity time.Duration
		capped   bool
		wantErr  bool
	}{
		{name: "node", cn: "system:node:n1", orgs: []string{"system:nodes"}, validity: 24 * time.Hour},
		{name: "no groups", cn: "bob", validity: time.Hour},
		{name: "two groups", cn: "carol", orgs: []string{"a", "b"}, validity: time.Hour},
		{name: "capped at CA", cn: "dave", validity: 20 * 365 * 24 * time.Hour, capped: true},
		{name: "zero validity", cn: "erin", wantErr: true},
		{name: "no name", validity: time.Hour, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := b.IssueClientCert(tt.cn, tt.orgs, tt.validity)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
				t.Fatalf("cert and key do not pair: %v", err)
			}
			cert := mustParseCert(t, certPEM)
			if cert.Subject.CommonName != tt.cn || !slices.Equal(cert.Subject.Organization, tt.orgs) {
				t.Errorf("subject = %v", cert.Subject)
			}
			// Certificates carry whole seconds.
			want := now.Add(tt.validity).Truncate(time.Second)
			if tt.capped {
				want = b.CA.NotAfter
			}
			if !cert.NotAfter.Equal(want) {
				t.Errorf("NotAfter = %v, want %v", cert.NotAfter, want)
			}
			_, err = cert.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			if err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}
