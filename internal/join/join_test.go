package join

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

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
	tok, err := LoadOrCreateToken(dir, b.CAPEM(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !tokenIDPattern.MatchString(tok.ID) || !tokenSecretPattern.MatchString(tok.Secret) {
		t.Fatalf("not a bootstrap token: %q", tok.BootstrapToken())
	}
	again, err := LoadOrCreateToken(dir, b.CAPEM(), slog.New(slog.DiscardHandler))
	if err != nil || again != tok {
		t.Fatalf("token changed on reuse: %v %v", again, err)
	}
	parsed, err := ParseToken(tok.String() + "\n")
	if err != nil || parsed != tok {
		t.Fatalf("ParseToken = %v, %v", parsed, err)
	}
	hash := strings.Repeat("a", 64)
	for _, tc := range []struct{ in, wantErr string }{
		{"", "must look like"},
		{"skiff1.abc.def", "must look like"},
		{"k10.x.y", "must look like"},
		{"skiff1." + strings.Repeat("z", 64) + ".abcdef.0123456789abcdef", "CA hash"},
		{"skiff1." + hash + ".ABCDEF.0123456789abcdef", "[a-z0-9]{6}"},
		{"skiff1." + hash + ".abcdef.0123456789abcde", "[a-z0-9]{6}"},
		{"skiff1." + hash + "." + strings.Repeat("f", 48), "old format"},
	} {
		if _, err := ParseToken(tc.in); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseToken(%q) = %v, want error containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestOldTokenFileReplaced(t *testing.T) {
	b := testBundle(t)
	dir := t.TempDir()
	old := "skiff1." + CAHash(b.CAPEM()) + "." + strings.Repeat("f", 48) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	tok, err := LoadOrCreateToken(dir, b.CAPEM(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "token"))
	if string(data) != tok.String()+"\n" || tok.CAHash != CAHash(b.CAPEM()) {
		t.Fatalf("token file = %q, token %v", data, tok)
	}
	if !strings.Contains(logs.String(), "join token changed") {
		t.Fatalf("change not logged: %q", logs.String())
	}
}

func TestEnsureBootstrapSecret(t *testing.T) {
	tok := Token{CAHash: strings.Repeat("a", 64), ID: "abcdef", Secret: "0123456789abcdef"}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		existing *corev1.Secret
	}{
		{name: "missing"},
		{name: "up to date", existing: &corev1.Secret{Type: corev1.SecretTypeBootstrapToken, Data: bootstrapSecretData(tok)}},
		{name: "stale secret and expiration", existing: &corev1.Secret{Type: corev1.SecretTypeBootstrapToken, Data: map[string][]byte{
			keyTokenID: []byte("abcdef"), keyTokenSecret: []byte("ffffffffffffffff"), "expiration": []byte("2020-01-01T00:00:00Z"),
			"auth-extra-groups": []byte("system:bootstrappers:extra")}}},
		{name: "wrong type", existing: &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"x": []byte("y")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			if tc.existing != nil {
				tc.existing.Name, tc.existing.Namespace = "bootstrap-token-abcdef", "kube-system"
				if _, err := client.CoreV1().Secrets("kube-system").Create(ctx, tc.existing, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := EnsureBootstrapSecret(ctx, client, tok); err != nil {
				t.Fatal(err)
			}
			s, err := client.CoreV1().Secrets("kube-system").Get(ctx, "bootstrap-token-abcdef", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Type != "bootstrap.kubernetes.io/token" || !secretHas(s, bootstrapSecretData(tok)) {
				t.Fatalf("secret = %s %v", s.Type, s.Data)
			}
			if tc.existing != nil && tc.existing.Data["auth-extra-groups"] != nil && string(s.Data["auth-extra-groups"]) != "system:bootstrappers:extra" {
				t.Fatalf("extra groups lost: %v", s.Data)
			}
		})
	}
}

func TestFetchCA(t *testing.T) {
	b := testBundle(t)
	tok, err := LoadOrCreateToken(t.TempDir(), b.CAPEM(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewUnstartedServer(CACertsHandler(b.CAPEM(), next))
	srv.TLS = b.ServerTLSConfig() // the API server's own certificate, signed by the cluster CA
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()

	ca, err := FetchCA(ctx, srv.URL+"/", tok)
	if err != nil || !bytes.Equal(ca, b.CAPEM()) {
		t.Fatalf("FetchCA = %q, %v", ca, err)
	}
	wrong := tok
	wrong.CAHash = strings.Repeat("0", 64)
	if _, err := FetchCA(ctx, srv.URL, wrong); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong CA: %v", err)
	}
	// The old join endpoint is gone: it reaches the wrapped handler.
	for _, path := range []string{"/api", "/skiff/v1/join"} {
		r, err := insecureClient().Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil || r.StatusCode != http.StatusTeapot {
			t.Fatalf("%s: %v %v", path, r, err)
		}
		r.Body.Close()
	}
}

func insecureClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test
}

// TestFetchCARetries: a server that is not answering yet is retried; a CA
// that does not match the token is not.
func TestFetchCARetries(t *testing.T) {
	b := testBundle(t)
	tok, err := LoadOrCreateToken(t.TempDir(), b.CAPEM(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		CACertsHandler(b.CAPEM(), nil).ServeHTTP(w, r)
	}))
	srv.TLS = b.ServerTLSConfig()
	srv.StartTLS()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, err := fetchCARetrying(ctx, srv.URL, tok, slog.New(slog.DiscardHandler))
	if err != nil || !bytes.Equal(ca, b.CAPEM()) || calls.Load() != 2 {
		t.Fatalf("FetchCA after a failure = %q, %v (%d calls)", ca, err, calls.Load())
	}
	wrong := tok
	wrong.CAHash = strings.Repeat("0", 64)
	before := calls.Load()
	if _, err := fetchCARetrying(ctx, srv.URL, wrong, slog.New(slog.DiscardHandler)); err == nil || calls.Load() != before+1 {
		t.Fatalf("wrong CA: %v after %d calls, want one call and an error", err, calls.Load()-before)
	}
}
