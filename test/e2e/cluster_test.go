package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testserver"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster is what a scenario needs from a running Skiff: where to point
// kubectl, and a way to restart the control plane on the same data.
type Cluster interface {
	Kubeconfig() string
	Restart()
}

const (
	readyDeadline = 60 * time.Second
	stopDeadline  = 30 * time.Second
)

// processCluster is `skiff server` running as a child process.
type processCluster struct {
	t       testing.TB
	dataDir string
	logPath string
	args    []string
	port    int
	// etcdPort is the embedded etcd's client port.
	etcdPort int

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	// readyAfter is how long the last start took to answer /readyz.
	readyAfter time.Duration
}

// startProcess starts `skiff server` with a fresh data dir and free ports
// and waits until /readyz answers ok. It is stopped (SIGTERM, which must
// end it with exit code 0) when the test ends. This suite checks the API
// server itself, as Kubernetes' apiserver tests do: nothing else may act on
// the objects it creates, so the other components are turned off.
func startProcess(t testing.TB) *processCluster {
	t.Helper()
	return startServer(t, "--disable-controllers", "--disable-scheduler", "--disable-agent", "--disable-dns", "--disable-ingress")
}

// startServer is startProcess with the component flags given by the
// caller (none: everything `skiff server` runs).
func startServer(t testing.TB, components ...string) *processCluster {
	t.Helper()
	requireBinary(t)
	ports, err := testserver.FreePorts(3)
	if err != nil {
		t.Fatalf("free ports: %v", err)
	}
	p := &processCluster{
		t:        t,
		dataDir:  t.TempDir(),
		logPath:  filepath.Join(t.TempDir(), "skiff.log"),
		port:     ports[0],
		etcdPort: ports[1],
	}
	p.args = []string{"server",
		"--data-dir", p.dataDir,
		"--bind-address", "127.0.0.1",
		"--https-listen-port", strconv.Itoa(ports[0]),
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
		"--log-level", "debug",
	}
	p.args = append(p.args, components...)
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("skiff server log (%s), last lines:\n%s", p.logPath, tail(p.logPath, 40))
		}
	})
	p.start()
	return p
}

func (p *processCluster) Kubeconfig() string { return filepath.Join(p.dataDir, "admin.kubeconfig") }

func (p *processCluster) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatalf("server log: %v", err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "=== %s %s\n", skiffBinary, strings.Join(p.args, " "))
	cmd := exec.Command(skiffBinary, p.args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "HOME="+p.dataDir)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("starting skiff server: %v", err)
	}
	p.cmd, p.exited, p.waitErr = cmd, make(chan struct{}), nil
	go func(exited chan struct{}) {
		p.waitErr = cmd.Wait()
		close(exited)
	}(p.exited)
	if err := p.waitReady(); err != nil {
		p.kill()
		p.t.Fatalf("skiff server did not become ready: %v\nlog:\n%s", err, tail(p.logPath, 40))
	}
	p.readyAfter = time.Since(began)
	p.t.Logf("skiff server ready after %v (pid %d, port %d)", p.readyAfter.Round(time.Millisecond), cmd.Process.Pid, p.port)
}

// waitReady polls /readyz with the admin credentials until it answers ok.
func (p *processCluster) waitReady() error {
	deadline := time.Now().Add(readyDeadline)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("process exited: %v", p.waitErr)
		default:
		}
		last = probeReadyz(p.Kubeconfig())
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no ok from /readyz within %v: %v", readyDeadline, last)
}

func probeReadyz(kubeconfig string) error {
	if _, err := os.Stat(kubeconfig); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	client.Timeout = 2 * time.Second
	resp, err := client.Get(strings.TrimSuffix(cfg.Host, "/") + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		return fmt.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
	return nil
}

// Stop sends SIGTERM and requires a clean exit (code 0) within the
// deadline; it is a no-op when the server is not running.
func (p *processCluster) Stop() {
	p.t.Helper()
	if p.cmd == nil {
		return
	}
	defer func() { p.cmd = nil }()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopDeadline):
		p.kill()
		p.t.Errorf("skiff server did not exit within %v of SIGTERM", stopDeadline)
		return
	}
	if p.waitErr != nil {
		p.t.Errorf("skiff server did not exit cleanly after SIGTERM: %v\nlog:\n%s", p.waitErr, tail(p.logPath, 20))
	}
}

func (p *processCluster) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// Restart stops the server gracefully and starts it again on the same
// data dir and ports.
func (p *processCluster) Restart() {
	p.t.Helper()
	p.Stop()
	p.start()
}

// inProcessCluster adapts the in-process test server to Cluster.
type inProcessCluster struct{ s *testserver.Server }

func startInProcess(t testing.TB) *inProcessCluster {
	t.Helper()
	return &inProcessCluster{s: testserver.Start(t)}
}

func (c *inProcessCluster) Kubeconfig() string { return c.s.Kubeconfig }
func (c *inProcessCluster) Restart()           { c.s.Restart() }

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// rawRequest sends one request with the admin credentials, for the few
// checks kubectl cannot express (a body with an explicit content type).
func rawRequest(t testing.TB, c Cluster, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig())
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatalf("http client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(cfg.Host, "/")+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp.StatusCode, data
}
