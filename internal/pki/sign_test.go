package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"slices"
	"testing"
	"time"
)

func testRequest(t *testing.T, tmpl *x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignCSR(t *testing.T) {
	now := time.Now()
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(now))
	serving := testRequest(t, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}},
		DNSNames:    []string{"n1"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1")},
	})
	client := testRequest(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"devs"}}})
	forged := testRequest(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "mallory"}})
	forged.Signature[len(forged.Signature)-1] ^= 0xff

	tests := []struct {
		name     string
		req      *x509.CertificateRequest
		usages   []x509.ExtKeyUsage
		duration time.Duration
		capped   bool
		wantErr  bool
	}{
		{name: "serving", req: serving, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, duration: 24 * time.Hour},
		{name: "client", req: client, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, duration: 10 * time.Minute},
		{name: "capped at CA", req: client, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, duration: 20 * 365 * 24 * time.Hour, capped: true},
		{name: "bad signature", req: forged, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, duration: time.Hour, wantErr: true},
		{name: "zero duration", req: client, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, wantErr: true},
		{name: "no request", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, duration: time.Hour, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, err := b.SignCSR(tt.req, tt.usages, x509.KeyUsageDigitalSignature, tt.duration)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cert := mustParseCert(t, certPEM)
			if cert.Subject.CommonName != tt.req.Subject.CommonName || !slices.Equal(cert.Subject.Organization, tt.req.Subject.Organization) {
				t.Errorf("subject = %v", cert.Subject)
			}
			if !slices.Equal(cert.DNSNames, tt.req.DNSNames) || len(cert.IPAddresses) != len(tt.req.IPAddresses) {
				t.Errorf("SANs = %v %v", cert.DNSNames, cert.IPAddresses)
			}
			if !slices.Equal(cert.ExtKeyUsage, tt.usages) || cert.KeyUsage != x509.KeyUsageDigitalSignature || cert.IsCA {
				t.Errorf("usages = %v %v, CA %v", cert.ExtKeyUsage, cert.KeyUsage, cert.IsCA)
			}
			pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
			if !ok || !pub.Equal(tt.req.PublicKey) {
				t.Error("certificate is not for the requested key")
			}
			want := now.Add(tt.duration).Truncate(time.Second)
			if tt.capped {
				want = b.CA.NotAfter
			}
			if !cert.NotAfter.Equal(want) {
				t.Errorf("NotAfter = %v, want %v", cert.NotAfter, want)
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: now, KeyUsages: tt.usages}); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}
