package ingress

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestProxyRetriesConnectFailureWithBody(t *testing.T) {
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+string(b))
	}))
	defer live.Close()
	liveAddr := strings.TrimPrefix(live.URL, "http://")
	p := NewProxy(nil)
	defer p.CloseIdleConnections()
	dead1, dead2 := deadAddr(t), deadAddr(t)
	tests := []struct {
		name      string
		endpoints []string
		want      int
	}{
		{"dead endpoints before the live one", []string{dead1, dead2, liveAddr}, 200},
		{"only dead endpoints", []string{dead1, dead2}, 502},
		{"no endpoints", nil, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.SetTable(&Table{defaultBackend: &Backend{Name: "b", Endpoints: tt.endpoints}})
			for range len(tt.endpoints) + 1 { // every round-robin starting point
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://x/", strings.NewReader("payload")))
				if rec.Code != tt.want {
					t.Fatalf("status %d, want %d", rec.Code, tt.want)
				}
				if tt.want == 200 && rec.Body.String() != "POST payload" {
					t.Fatalf("body %q", rec.Body.String())
				}
			}
		})
	}
	p.SetTable(&Table{})
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://x/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("empty table: %d, want 404", rec.Code)
	}
}

func TestCertificateSelection(t *testing.T) {
	mk := func(name string) *tls.Certificate { return &tls.Certificate{OCSPStaple: []byte(name)} }
	tbl := &Table{
		certs:         map[string]*tls.Certificate{"demo.example.com": mk("exact")},
		wildcardCerts: map[string]*tls.Certificate{"example.com": mk("wild")},
	}
	noDefault := *tbl
	tbl.defaultCert = mk("default")
	tests := []struct {
		table *Table
		sni   string
		want  string
	}{
		{tbl, "demo.example.com", "exact"},
		{tbl, "DEMO.example.com", "exact"},
		{tbl, "other.example.com", "wild"},
		{tbl, "a.b.example.com", "default"},
		{tbl, "", "default"},
		{&noDefault, "nothing.test", ""},
	}
	for _, tt := range tests {
		got := ""
		if c := tt.table.Certificate(tt.sni); c != nil {
			got = string(c.OCSPStaple)
		}
		if got != tt.want {
			t.Errorf("%q -> %q, want %q", tt.sni, got, tt.want)
		}
	}
}

func TestBuildTLSWarnings(t *testing.T) {
	in := ing("i", 0, "demo.example.com")
	in.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"demo.example.com"}, SecretName: "missing"}, {SecretName: "bad"}}
	bad := &corev1.Secret{}
	bad.Namespace, bad.Name = "default", "bad"
	tbl, warnings := Build(Snapshot{Ingresses: []*networkingv1.Ingress{in}, Secrets: []*corev1.Secret{bad}})
	if len(warnings) != 2 {
		t.Errorf("warnings %v, want missing and unparsable secret", warnings)
	}
	if tbl.Certificate("demo.example.com") != nil {
		t.Error("certificate without a usable secret")
	}
}
