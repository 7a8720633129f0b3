package main

import (
	"context"
	"crypto/tls"
	"errors"
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
)

// skiffProc is one `skiff server` process on its own ports and data dir,
// listening on 127.0.0.1 only.
type skiffProc struct {
	bin     string
	dataDir string
	args    []string
	port    int
	etcd    int
	logPath string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// newSkiffProc picks free ports for a server on dataDir; extra flags
// are appended to the command line.
func newSkiffProc(bin, dataDir string, extra []string) (*skiffProc, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	p := &skiffProc{bin: bin, dataDir: dataDir, port: ports[0], etcd: ports[1],
		logPath: filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+".log")}
	p.args = append([]string{"server",
		"--data-dir", dataDir,
		"--bind-address", "127.0.0.1",
		"--https-listen-port", strconv.Itoa(ports[0]),
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
	}, extra...)
	return p, nil
}

func (p *skiffProc) URL() string        { return fmt.Sprintf("https://127.0.0.1:%d", p.port) }
func (p *skiffProc) Kubeconfig() string { return filepath.Join(p.dataDir, "admin.kubeconfig") }
func (p *skiffProc) Pid() int           { return p.cmd.Process.Pid }

// startAndWaitReady starts the process and polls /readyz until it answers
// 200 "ok", returning the time from just before the process was started.
func (p *skiffProc) startAndWaitReady(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// Die with the benchmark, whatever happens to it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	p.exited = make(chan struct{})
	client := readyzClient()
	defer client.CloseIdleConnections()

	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", p.bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready(ctx, client, p.URL()+"/readyz") {
			return time.Since(start), nil
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return 0, fmt.Errorf("skiff server exited before it was ready (%v); log: %s\n%s", p.waitErr, p.logPath, tail(p.logPath, 2000))
		case <-deadline.C:
			return 0, fmt.Errorf("skiff server not ready after %v; log: %s\n%s", timeout, p.logPath, tail(p.logPath, 2000))
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// readyzClient is an HTTPS client for the health endpoint, which needs no
// credentials; the server certificate is not checked (127.0.0.1 only).
func readyzClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true,
			DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
		},
	}
}

func ready(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	return resp.StatusCode == http.StatusOK && string(body) == "ok"
}

// stop sends SIGTERM and waits for the process to exit, killing it after
// grace. It returns how long the graceful shutdown took. Safe to call on a
// process that already exited or never started.
func (p *skiffProc) stop(grace time.Duration) (time.Duration, error) {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0, nil
	}
	select {
	case <-p.exited:
		return 0, p.exitError()
	default:
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return time.Since(start), p.exitError()
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return time.Since(start), fmt.Errorf("skiff server did not stop within %v of SIGTERM; killed", grace)
	}
}

func (p *skiffProc) exitError() error {
	if p.waitErr == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return fmt.Errorf("skiff server exited: %v; log: %s\n%s", ee, p.logPath, tail(p.logPath, 2000))
	}
	return p.waitErr
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}

// freePorts returns n distinct 127.0.0.1 ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
