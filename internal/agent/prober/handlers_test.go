package prober

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// scriptedExec answers every ExecSync with fixed values and records the call.
type scriptedExec struct {
	stdout, stderr string
	exit           int32
	err            error
	gotID          string
	gotCmd         []string
	gotTimeout     time.Duration
}

func (s *scriptedExec) ExecSync(_ context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int32, error) {
	s.gotID, s.gotCmd, s.gotTimeout = id, cmd, timeout
	return []byte(s.stdout), []byte(s.stderr), s.exit, s.err
}

func execProbe(cmd ...string) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}}
}

func TestRunExec(t *testing.T) {
	tests := []struct {
		name       string
		exec       *scriptedExec
		wantResult Result
		wantOutput string
		wantErr    bool
	}{
		{"exit 0", &scriptedExec{stdout: "ok"}, Success, "ok", false},
		{"exit 1 keeps output", &scriptedExec{stdout: "out ", stderr: "bad", exit: 1}, Failure, "out bad", false},
		{"runtime timeout", &scriptedExec{err: status.Error(codes.DeadlineExceeded, "timeout 1s exceeded")}, Failure, `command "check --port=80" timed out`, false},
		{"context timeout", &scriptedExec{err: fmt.Errorf("exec: %w", context.DeadlineExceeded)}, Failure, `command "check --port=80" timed out`, false},
		{"runtime error", &scriptedExec{err: errors.New("container not running")}, Unknown, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := execProbe("check", "--port=$(PORT)")
			p.TimeoutSeconds = 3
			target := Target{ContainerID: "c1", Exec: tc.exec, Env: []corev1.EnvVar{{Name: "PORT", Value: "80"}}}
			r, out, err := Run(context.Background(), p, target)
			if r != tc.wantResult || out != tc.wantOutput || (err != nil) != tc.wantErr {
				t.Fatalf("got %v %q %v, want %v %q err=%v", r, out, err, tc.wantResult, tc.wantOutput, tc.wantErr)
			}
			if tc.exec.gotID != "c1" || strings.Join(tc.exec.gotCmd, " ") != "check --port=80" || tc.exec.gotTimeout != 3*time.Second {
				t.Fatalf("exec called with %q %q %v", tc.exec.gotID, tc.exec.gotCmd, tc.exec.gotTimeout)
			}
		})
	}
}

func TestRunWithoutHandlerOrRuntime(t *testing.T) {
	if r, _, err := Run(context.Background(), &corev1.Probe{}, Target{}); err == nil || r != Unknown {
		t.Fatalf("no handler: %v %v", r, err)
	}
	if r, _, err := Run(context.Background(), execProbe("true"), Target{ContainerID: "c"}); err == nil || r != Unknown {
		t.Fatalf("no execer: %v %v", r, err)
	}
}

// hostPort splits a test server URL into host and port.
func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), port
}

func httpProbe(path string, port intstr.IntOrString) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}}
}

func TestRunHTTP(t *testing.T) {
	var got *http.Request
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = w.Write([]byte("healthy"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "secret detail", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/local-redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("b", maxOutput*2)))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host, port := hostPort(t, srv.URL)
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://localhost:%d/ok", port), http.StatusFound)
	})
	target := Target{PodIP: host, Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: int32(port)}}}

	tests := []struct {
		name       string
		probe      *corev1.Probe
		wantResult Result
		wantOutput string
	}{
		{"ok by number", httpProbe("/ok", intstr.FromInt32(int32(port))), Success, "healthy"},
		{"ok by name", httpProbe("/ok", intstr.FromString("web")), Success, "healthy"},
		{"failure hides body", httpProbe("/fail", intstr.FromString("web")), Failure, "HTTP probe failed with statuscode: 503"},
		{"same host redirect followed", httpProbe("/local-redirect", intstr.FromString("web")), Success, "healthy"},
		{"other host redirect not followed", httpProbe("/away", intstr.FromString("web")), Warning,
			fmt.Sprintf("Probe terminated redirects, Response body: <a href=\"http://localhost:%d/ok\">Found</a>.\n\n", port)},
		{"body limited", httpProbe("/big", intstr.FromString("web")), Success, strings.Repeat("b", maxOutput)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, out, err := Run(context.Background(), tc.probe, target)
			if err != nil || r != tc.wantResult || out != tc.wantOutput {
				t.Fatalf("got %v %q %v, want %v %q", r, out, err, tc.wantResult, tc.wantOutput)
			}
		})
	}

	t.Run("headers", func(t *testing.T) {
		p := httpProbe("/ok?x=1", intstr.FromString("web"))
		p.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "Host", Value: "example.test"}, {Name: "x-custom", Value: "v"}}
		if r, _, err := Run(context.Background(), p, target); err != nil || r != Success {
			t.Fatalf("probe: %v %v", r, err)
		}
		if got.Host != "example.test" || got.Header.Get("X-Custom") != "v" || got.URL.RawQuery != "x=1" {
			t.Fatalf("request host %q headers %v query %q", got.Host, got.Header, got.URL.RawQuery)
		}
		if ua := got.Header.Get("User-Agent"); ua != "kube-probe/1.37" {
			t.Fatalf("User-Agent = %q", ua)
		}
		if a := got.Header.Get("Accept"); a != "*/*" {
			t.Fatalf("Accept = %q", a)
		}
	})
	t.Run("header overrides", func(t *testing.T) {
		p := httpProbe("/ok", intstr.FromString("web"))
		p.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "User-Agent", Value: "mine"}, {Name: "Accept", Value: ""}}
		if r, _, err := Run(context.Background(), p, target); err != nil || r != Success {
			t.Fatalf("probe: %v %v", r, err)
		}
		if got.Header.Get("User-Agent") != "mine" || len(got.Header.Values("Accept")) != 0 {
			t.Fatalf("headers %v", got.Header)
		}
	})
	t.Run("unknown port name", func(t *testing.T) {
		r, _, err := Run(context.Background(), httpProbe("/ok", intstr.FromString("nope")), target)
		if err == nil || r != Unknown {
			t.Fatalf("got %v %v", r, err)
		}
	})
}

func TestRunHTTPSInsecure(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("tls ok"))
	}))
	defer srv.Close()
	host, port := hostPort(t, srv.URL)
	p := httpProbe("/", intstr.FromInt32(int32(port)))
	p.HTTPGet.Scheme = corev1.URISchemeHTTPS
	r, out, err := Run(context.Background(), p, Target{PodIP: host})
	if err != nil || r != Success || out != "tls ok" {
		t.Fatalf("got %v %q %v", r, out, err)
	}
}

func TestRunHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	host, port := hostPort(t, srv.URL)
	r, out, err := Run(context.Background(), httpProbe("/", intstr.FromInt32(int32(port))), Target{PodIP: host})
	if err != nil || r != Failure || !strings.Contains(out, "Client.Timeout exceeded") {
		t.Fatalf("got %v %q %v", r, out, err)
	}
}

func TestRunHTTPCancelledIsError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	host, port := hostPort(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, _, err := Run(ctx, httpProbe("/", intstr.FromInt32(int32(port))), Target{PodIP: host})
	if err == nil || r != Unknown {
		t.Fatalf("got %v %v, want Unknown with error", r, err)
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

func TestRunTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	open := l.Addr().(*net.TCPAddr).Port
	tcp := func(port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}}
	}
	target := Target{PodIP: "127.0.0.1", Ports: []corev1.ContainerPort{{Name: "db", ContainerPort: int32(open)}}}

	if r, out, err := Run(context.Background(), tcp(intstr.FromString("db")), target); err != nil || r != Success || out != "" {
		t.Fatalf("open port: %v %q %v", r, out, err)
	}
	r, out, err := Run(context.Background(), tcp(intstr.FromInt32(int32(closedPort(t)))), target)
	if err != nil || r != Failure || !strings.Contains(out, "connection refused") {
		t.Fatalf("closed port: %v %q %v", r, out, err)
	}
}

func TestRunGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	port := int32(l.Addr().(*net.TCPAddr).Port)

	bare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bareSrv := grpc.NewServer()
	go func() { _ = bareSrv.Serve(bare) }()
	defer bareSrv.Stop()
	barePort := int32(bare.Addr().(*net.TCPAddr).Port)

	grpcProbe := func(port int32, service *string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: port, Service: service}}}
	}
	down, missing := "down", "missing"
	tests := []struct {
		name       string
		probe      *corev1.Probe
		wantResult Result
		wantOutput string
	}{
		{"serving", grpcProbe(port, nil), Success, "service healthy"},
		{"not serving", grpcProbe(port, &down), Failure, `service unhealthy (responded with "NOT_SERVING")`},
		{"unknown service", grpcProbe(port, &missing), Failure, "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"},
		{"no health service", grpcProbe(barePort, nil), Failure,
			"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health"},
		{"nothing listening", grpcProbe(int32(closedPort(t)), nil), Failure, "timeout: failed to connect service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, out, err := Run(context.Background(), tc.probe, Target{PodIP: "127.0.0.1"})
			if err != nil || r != tc.wantResult || !strings.HasPrefix(out, tc.wantOutput) {
				t.Fatalf("got %v %q %v, want %v %q", r, out, err, tc.wantResult, tc.wantOutput)
			}
		})
	}
}
