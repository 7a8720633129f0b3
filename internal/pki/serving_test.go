package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestIssueServingCert(t *testing.T) {
	now := time.Now()
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(now))
	tests := []struct {
		name     string
		cn       string
		hosts    []string
		validity time.Duration
		wantDNS  []string
		wantIPs  []string
		wantErr  bool
	}{
		{name: "node", cn: "node-1", hosts: []string{"node-1", "10.0.0.5", "127.0.0.1"}, validity: time.Hour,
			wantDNS: []string{"node-1"}, wantIPs: []string{"10.0.0.5", "127.0.0.1"}},
		{name: "duplicates and blanks dropped", cn: "n", hosts: []string{"N.example", "n.example.", " ", "::1", "::1"}, validity: time.Hour,
			wantDNS: []string{"n.example"}, wantIPs: []string{"::1"}},
		{name: "no hosts", cn: "n", validity: time.Hour, wantErr: true},
		{name: "bad host", cn: "n", hosts: []string{"not a name"}, validity: time.Hour, wantErr: true},
		{name: "no name", hosts: []string{"n"}, validity: time.Hour, wantErr: true},
		{name: "zero validity", cn: "n", hosts: []string{"n"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := b.IssueServingCert(tt.cn, tt.hosts, tt.validity)
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
			if cert.Subject.CommonName != tt.cn {
				t.Errorf("CN = %q", cert.Subject.CommonName)
			}
			if !slices.Equal(cert.DNSNames, tt.wantDNS) {
				t.Errorf("DNS SANs = %v, want %v", cert.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IP SANs = %v, want %v", ips, tt.wantIPs)
			}
			opts := x509.VerifyOptions{Roots: b.CAPool, CurrentTime: now, DNSName: tt.hosts[0], KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			if _, err := cert.Verify(opts); err != nil {
				t.Errorf("verify: %v", err)
			}
			opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			if _, err := cert.Verify(opts); err == nil {
				t.Error("serving cert verifies for client auth")
			}
		})
	}
}

func TestKubeletClientCert(t *testing.T) {
	now := time.Now()
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(now))
	cert := b.KubeletClientCert.Leaf
	if cert == nil {
		t.Fatal("KubeletClientCert.Leaf not set")
	}
	if cert.Subject.CommonName != KubeletClientUser || !slices.Equal(cert.Subject.Organization, []string{AdminGroup}) {
		t.Errorf("subject = %v", cert.Subject)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// TestKubeletClientTLSConfig runs a real handshake: an agent-like server
// with a CA-issued serving certificate that requires client certificates,
// and the API server's client configuration.
func TestKubeletClientTLSConfig(t *testing.T) {
	b := mustEnsure(t, Config{Dir: t.TempDir()}, systemEnv())
	certPEM, keyPEM, err := b.IssueServingCert("node-1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	var gotCN string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: b.CAPool}
	srv.StartTLS()
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: b.KubeletClientTLSConfig()}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with kubelet client config: %v", err)
	}
	resp.Body.Close()
	if gotCN != KubeletClientUser {
		t.Errorf("server saw client %q", gotCN)
	}

	// A server certificate from another CA must be refused.
	other := mustEnsure(t, Config{Dir: t.TempDir()}, systemEnv())
	otherClient := &http.Client{Transport: &http.Transport{TLSClientConfig: other.KubeletClientTLSConfig()}}
	if resp, err := otherClient.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Error("client trusting another CA accepted the server")
	}
}
