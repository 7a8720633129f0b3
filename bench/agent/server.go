package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// server is one `skiff server` process on its own data dir and free
// ports, listening on 127.0.0.1 only. It dies with the benchmark.
type server struct {
	dataDir string
	logPath string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startServer starts `skiff server` with the given extra flags and waits
// until /readyz answers "ok".
func startServer(ctx context.Context, bin, dataDir string, extra []string) (*server, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--data-dir", dataDir, "--bind-address", "127.0.0.1",
		"--https-listen-port", strconv.Itoa(ports[0]), "--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]), "--agent-port", strconv.Itoa(ports[3])}, extra...)
	s := &server{dataDir: dataDir, logPath: dataDir + ".log", port: ports[0], exited: make(chan struct{})}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting skiff server: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, time.Minute); err != nil {
		s.stop(10 * time.Second)
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	url := fmt.Sprintf("https://127.0.0.1:%d/readyz", s.port)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil); err == nil {
			if resp, err := client.Do(req); err == nil {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 16))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && string(body) == "ok" {
					return nil
				}
			}
		}
		select {
		case <-s.exited:
			return s.failure("exited before it was ready")
		case <-deadline.C:
			return s.failure(fmt.Sprintf("not ready after %v", timeout))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kubeconfig is the admin kubeconfig the server wrote.
func (s *server) kubeconfig() string { return filepath.Join(s.dataDir, "admin.kubeconfig") }

func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) failure(what string) error {
	return fmt.Errorf("skiff server %s (%v); log %s:\n%s", what, s.waitErr, s.logPath, tail(s.logPath, 3000))
}

// stop sends SIGTERM and waits, then kills the process group after
// grace. It reports whether the server stopped by itself. Safe on nil.
func (s *server) stop(grace time.Duration) error {
	if s == nil || !s.alive() {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		return fmt.Errorf("skiff server did not stop within %v of SIGTERM; killed", grace)
	}
}

// freePorts returns n distinct 127.0.0.1 ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// newClient is an unthrottled protobuf client for the kubeconfig.
func newClient(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = cfg.ContentType + ",application/json"
	cfg.UserAgent = "skiff-agent-bench"
	return kubernetes.NewForConfig(cfg)
}

// nodeReady returns the node's pod CIDR once its Ready condition is True
// and it has one; "" otherwise.
func nodeReady(n *corev1.Node) string {
	if n.Spec.PodCIDR == "" {
		return ""
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return n.Spec.PodCIDR
		}
	}
	return ""
}

// waitNodeReady polls the node until it is Ready with a pod CIDR.
func waitNodeReady(ctx context.Context, cs kubernetes.Interface, name string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	last := "not registered"
	for time.Now().Before(deadline) {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			if cidr := nodeReady(n); cidr != "" {
				return cidr, nil
			}
			last = fmt.Sprintf("podCIDR %q, conditions %v", n.Spec.PodCIDR, n.Status.Conditions)
		case !apierrors.IsNotFound(err):
			last = err.Error()
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("node %s not Ready after %v: %s", name, timeout, last)
}
