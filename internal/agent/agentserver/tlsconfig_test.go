package agentserver

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/pki"
)

func TestTLSConfig(t *testing.T) {
	bundle, err := pki.Ensure(pki.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := bundle.IssueServingCert("node-1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TLSConfig([]byte("not a cert"), certPEM, keyPEM); err == nil {
		t.Error("garbage CA accepted")
	}
	if _, err := TLSConfig(bundle.CAPEM(), certPEM, certPEM); err == nil {
		t.Error("certificate as key accepted")
	}
	cfg, err := TLSConfig(bundle.CAPEM(), certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(New(Config{}))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()

	get := func(c *tls.Config) (string, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
		resp, err := client.Get(srv.URL + "/healthz")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := get(bundle.KubeletClientTLSConfig()); err != nil || body != "ok" {
		t.Errorf("API server client: %q, %v", body, err)
	}
	if _, err := get(&tls.Config{RootCAs: bundle.CAPool}); err == nil {
		t.Error("client without a certificate got in")
	}
	other, err := pki.Ensure(pki.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	foreign := other.KubeletClientTLSConfig()
	foreign.RootCAs = bundle.CAPool
	if _, err := get(foreign); err == nil {
		t.Error("client certificate from another CA got in")
	}
}
