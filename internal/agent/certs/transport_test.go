package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/skiff-io/skiff/internal/pki"
)

// TestRestConfigFollowsRenewal checks, against a real TLS server that
// requires client certificates, that the REST config presents the
// current client certificate and switches to a renewed one.
func TestRestConfigFollowsRenewal(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	ca := newTestCA(t, clk)
	f := newFakeCluster(t, ca)

	var mu sync.Mutex
	var seen []*x509.Certificate
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.TLS.PeerCertificates[0])
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(t, ca)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()

	cfg := testConfig(f, t.TempDir())
	cfg.Server = srv.URL
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(m.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	get := func() *x509.Certificate {
		t.Helper()
		resp, err := hc.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	first := m.ClientCertificate().Leaf
	if got := get(); !got.Equal(first) {
		t.Fatalf("server saw %v, want the node's client certificate", got.Subject)
	}
	if err := m.renew(context.Background(), m.clientRequest()); err != nil {
		t.Fatal(err)
	}
	renewed := m.ClientCertificate().Leaf
	if renewed.Equal(first) {
		t.Fatal("not renewed")
	}
	if got := get(); !got.Equal(renewed) {
		t.Fatal("the REST config kept presenting the old certificate")
	}
}

func serverCert(t *testing.T, ca *testCA) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestNodeClientConfig(t *testing.T) {
	b, err := pki.Ensure(pki.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	base := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "admin-token", QPS: 7,
		TLSClientConfig: rest.TLSClientConfig{CAData: b.CAPEM(), CertFile: "/admin.crt", KeyFile: "/admin.key"}}
	rc, err := NodeClientConfig(b, base, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if rc.BearerToken != "" || rc.CertFile != "" || rc.KeyFile != "" || rc.Host != base.Host || string(rc.CAData) != string(b.CAPEM()) {
		t.Fatalf("config = %+v", rc)
	}
	if base.BearerToken != "admin-token" {
		t.Fatal("base modified")
	}
	pair, err := tls.X509KeyPair(rc.CertData, rc.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	if pair.Leaf.Subject.CommonName != "system:node:node-a" || len(pair.Leaf.Subject.Organization) != 1 || pair.Leaf.Subject.Organization[0] != "system:nodes" {
		t.Fatalf("subject = %v", pair.Leaf.Subject)
	}
	if _, err := NodeClientConfig(b, base, ""); err == nil {
		t.Fatal("empty node name accepted")
	}
}
