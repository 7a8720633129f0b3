// Package testserver starts a real Skiff control plane inside a test: a
// temporary data directory, free ports and a real embedded etcd.
package testserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Server is a running in-process control plane.
type Server struct {
	t          testing.TB
	cfg        server.Config
	srv        *server.Server
	cancel     context.CancelFunc
	done       chan error
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
}

// Start runs a control plane for the rest of the test; it is stopped by
// t.Cleanup. Ports are chosen free; the data dir is t.TempDir().
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with a chance to change the configuration first, e.g.
// to set DisableControllers and run a controller under test by hand.
func StartWith(t testing.TB, mutate func(*server.Config)) *Server {
	t.Helper()
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatalf("finding free ports: %v", err)
	}
	s := &Server{t: t, cfg: server.Config{
		DataDir:        t.TempDir(),
		BindAddress:    "127.0.0.1",
		HTTPSPort:      ports[0],
		EtcdClientPort: ports[1],
		EtcdPeerPort:   ports[2],
		Logger:         testLogger(),
		// A node agent runs real containers as root; tests that want one
		// turn it on.
		DisableAgent: true,
		// The cluster DNS listens on a fixed port; tests that want it
		// turn it on with a port of their own.
		DisableDNS:     true,
		DisableIngress: true,
	}}
	if mutate != nil {
		mutate(&s.cfg)
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	srv, err := server.New(s.cfg)
	if err != nil {
		s.t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.srv, s.cancel, s.done = srv, cancel, make(chan error, 1)
	go func() { s.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-s.done:
		s.t.Fatalf("server stopped before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server not ready after 60s")
	}
	s.Kubeconfig = srv.AdminKubeconfig()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		s.t.Fatalf("loading kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	s.Config = cfg
	if s.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		s.t.Fatalf("client: %v", err)
	}
}

// Stop shuts the server down and waits for it; calling it twice is safe.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("server exited with error: %v", err)
		}
	case <-time.After(30 * time.Second):
		s.t.Errorf("server did not stop within 30s")
	}
}

// Restart stops the server and starts it again on the same data dir and
// ports, as a process restart would.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// URL is the API server's URL.
func (s *Server) URL() string { return s.srv.URL() }

// FreePorts returns n distinct ports that were free a moment ago.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// EtcdEndpoint is the client URL of the server's embedded etcd member, for
// tests that need to act on etcd directly (e.g. to compact its history).
func (s *Server) EtcdEndpoint() string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.cfg.EtcdClientPort)
}

// testLogger discards the server's logs unless SKIFF_TEST_LOG is set (to a
// level such as "debug"), which sends them to stderr.
func testLogger() *slog.Logger {
	lvl := os.Getenv("SKIFF_TEST_LOG")
	if lvl == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(lvl))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
