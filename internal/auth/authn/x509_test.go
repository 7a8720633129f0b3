package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// newCert returns a CA-signed client certificate with the given subject.
func newCert(t *testing.T, subject pkix.Name) (leaf, ca *x509.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf, ca
}

func TestX509(t *testing.T) {
	admin, ca := newCert(t, pkix.Name{CommonName: "alice", Organization: []string{"system:masters", "dev"}})
	noCN, _ := newCert(t, pkix.Name{Organization: []string{"dev"}})
	tests := []struct {
		name       string
		state      *tls.ConnectionState
		wantOK     bool
		wantErr    bool
		wantName   string
		wantGroups []string
	}{
		{name: "plain http", state: nil},
		{name: "no client certificate", state: &tls.ConnectionState{}},
		{name: "verified certificate", state: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{admin},
			VerifiedChains: [][]*x509.Certificate{{admin, ca}}}, wantOK: true, wantName: "alice", wantGroups: []string{"dev", "system:masters"}}, // DER sorts the SET,
		{name: "unverified certificate", state: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{admin}}, wantErr: true},
		{name: "no common name", state: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{noCN},
			VerifiedChains: [][]*x509.Certificate{{noCN, ca}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api", nil)
			r.TLS = tt.state
			u, ok, err := X509().AuthenticateRequest(r)
			if (err != nil) != tt.wantErr || ok != tt.wantOK {
				t.Fatalf("ok=%v err=%v, want ok=%v error=%v", ok, err, tt.wantOK, tt.wantErr)
			}
			if !ok {
				return
			}
			if u.Name != tt.wantName || !reflect.DeepEqual(u.Groups, tt.wantGroups) {
				t.Fatalf("user %+v", u)
			}
			if id := u.Extra["authentication.kubernetes.io/credential-id"]; len(id) != 1 || !strings.HasPrefix(id[0], "X509SHA256=") {
				t.Fatalf("credential id %v", id)
			}
		})
	}
}
