package join

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/pki"
)

func testBundle(t *testing.T) *pki.Bundle {
	t.Helper()
	b, err := pki.Ensure(pki.Config{Dir: t.TempDir(), ServiceCIDR: "10.43.0.0/16", APIServerURL: "https://127.0.0.1:6443"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTokenRoundTrip(t *testing.T) {
	b := testBundle(t)
	dir := t.TempDir()
	tok, err := EnsureToken(dir, b.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	again, err := EnsureToken(dir, b.CAPEM())
	if err != nil || again != tok {
		t.Fatalf("token changed on reuse: %v %v", again, err)
	}
	parsed, err := ParseToken(tok.String() + "\n")
	if err != nil || parsed != tok {
		t.Fatalf("ParseToken = %v, %v", parsed, err)
	}
	for _, bad := range []string{"", "skiff1.abc.def", "k10.x.y", "skiff1." + strings.Repeat("z", 64) + "." + strings.Repeat("a", 32)} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

func TestJoin(t *testing.T) {
	b := testBundle(t)
	tok, err := EnsureToken(t.TempDir(), b.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewUnstartedServer(Handler(b, tok, slog.New(slog.DiscardHandler), next))
	srv.TLS = b.ServerTLSConfig() // the API server's own certificate, signed by the cluster CA
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()

	resp, err := Join(ctx, srv.URL, tok, Request{NodeName: "node-a", NodeIPs: []string{"192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(resp.ClientCert))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:node:node-a" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:nodes" {
		t.Fatalf("client cert subject = %v", cert.Subject)
	}
	block, _ = pem.Decode([]byte(resp.ServingCert))
	serving, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := serving.VerifyHostname("192.0.2.7"); err != nil {
		t.Fatalf("serving cert: %v", err)
	}

	wrong := tok
	wrong.Secret = strings.Repeat("0", 48)
	if _, err := Join(ctx, srv.URL, wrong, Request{NodeName: "node-a"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong secret: %v", err)
	}
	wrong = tok
	wrong.CAHash = strings.Repeat("0", 64)
	if _, err := Join(ctx, srv.URL, wrong, Request{NodeName: "node-a"}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong CA: %v", err)
	}
	if _, err := Join(ctx, srv.URL, tok, Request{NodeName: "Bad_Name"}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("bad name: %v", err)
	}
	// Everything else goes to the wrapped handler.
	r, err := insecureClient().Get(srv.URL + "/api")
	if err != nil || r.StatusCode != http.StatusTeapot {
		t.Fatalf("passthrough: %v %v", r, err)
	}
}

func insecureClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test
}
