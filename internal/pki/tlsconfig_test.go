package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// syncBuffer collects the server's error log across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// serve runs an HTTPS server with b.ServerTLSConfig() that answers with
// the protocol and the verified client's common name. Handshake errors the
// server sees are collected in the returned buffer.
func serve(t *testing.T, b *Bundle) (string, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errLog := &syncBuffer{}
	srv := &http.Server{
		ErrorLog:  log.New(errLog, "", 0),
		TLSConfig: b.ServerTLSConfig(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user := "anonymous"
			if len(r.TLS.VerifiedChains) > 0 {
				user = r.TLS.VerifiedChains[0][0].Subject.CommonName
			}
			fmt.Fprintf(w, "%s %s", r.Proto, user)
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("server: %v", err)
		}
	})
	return "https://" + ln.Addr().String(), errLog
}

func TestServerTLSConfig(t *testing.T) {
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(time.Now()))
	other := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(time.Now()))
	url, serverLog := serve(t, b)

	cfg := b.ServerTLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Errorf("MinVersion %x, ClientAuth %v", cfg.MinVersion, cfg.ClientAuth)
	}
	cfg.NextProtos[0] = "mutated"
	if b.ServerTLSConfig().NextProtos[0] != "h2" {
		t.Error("ServerTLSConfig shares state between calls")
	}

	tests := []struct {
		name    string
		client  func(t *testing.T) *rest.Config
		want    string
		wantErr string
		// serverRejects: the server must refuse the client's certificate.
		// Under TLS 1.3 the client may only see a broken connection, so
		// the refusal is checked in the server's log.
		serverRejects bool
	}{
		{
			name: "admin kubeconfig",
			client: func(t *testing.T) *rest.Config {
				path := filepath.Join(t.TempDir(), "kubeconfig")
				if err := WriteKubeconfig(path, url, b.CAPEM(), b.AdminCertPEM, b.AdminKeyPEM); err != nil {
					t.Fatal(err)
				}
				rc, err := clientcmd.BuildConfigFromFlags("", path)
				if err != nil {
					t.Fatal(err)
				}
				return rc
			},
			want: "HTTP/2.0 system:admin",
		},
		{
			name: "issued client cert",
			client: func(t *testing.T) *rest.Config {
				certPEM, keyPEM, err := b.IssueClientCert("system:node:n1", []string{"system:nodes"}, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				return &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: b.CAPEM(), CertData: certPEM, KeyData: keyPEM}}
			},
			want: "HTTP/2.0 system:node:n1",
		},
		{
			name: "no client cert",
			client: func(*testing.T) *rest.Config {
				return &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: b.CAPEM()}}
			},
			want: "HTTP/2.0 anonymous",
		},
		{
			name: "via kubernetes.default.svc name",
			client: func(*testing.T) *rest.Config {
				return &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: b.CAPEM(), ServerName: "kubernetes.default.svc"}}
			},
			want: "HTTP/2.0 anonymous",
		},
		{
			name: "client cert from another CA",
			client: func(*testing.T) *rest.Config {
				return &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: b.CAPEM(), CertData: other.AdminCertPEM, KeyData: other.AdminKeyPEM}}
			},
			serverRejects: true,
		},
		{
			name: "client trusting another CA",
			client: func(*testing.T) *rest.Config {
				return &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: other.CAPEM()}}
			},
			wantErr: "certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := rest.HTTPClientFor(tt.client(t))
			if err != nil {
				t.Fatal(err)
			}
			defer hc.CloseIdleConnections()
			resp, err := hc.Get(url + "/")
			if tt.serverRejects {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("request succeeded with status %s, want the connection refused", resp.Status)
				}
				deadline := time.Now().Add(5 * time.Second)
				for !strings.Contains(serverLog.String(), "certificate signed by unknown authority") {
					if time.Now().After(deadline) {
						t.Fatalf("server did not log a rejected certificate; log: %q", serverLog.String())
					}
					time.Sleep(10 * time.Millisecond)
				}
				return
			}
			if tt.wantErr != "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("request succeeded with status %s, want error", resp.Status)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.want {
				t.Errorf("response %q, want %q", body, tt.want)
			}
		})
	}
}
