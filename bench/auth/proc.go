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
)

// skiffProc is one `skiff server` process on free 127.0.0.1 ports with its
// own data dir; its output goes to <dataDir>.log.
type skiffProc struct {
	dataDir string
	port    int
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startSkiff starts `skiff server` with extra flags and waits until
// /readyz answers "ok" or timeout passes. On error nothing is left running.
func startSkiff(ctx context.Context, bin, dataDir string, extra []string, timeout time.Duration) (*skiffProc, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	p := &skiffProc{dataDir: dataDir, port: ports[0], logPath: dataDir + ".log", exited: make(chan struct{})}
	args := append([]string{"server",
		"--data-dir", dataDir,
		"--bind-address", "127.0.0.1",
		"--https-listen-port", strconv.Itoa(ports[0]),
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
	}, extra...)
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	// The server dies with the benchmark, whatever happens to it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(ctx, timeout); err != nil {
		p.stop(10 * time.Second)
		return nil, err
	}
	return p, nil
}

func (p *skiffProc) URL() string        { return fmt.Sprintf("https://127.0.0.1:%d", p.port) }
func (p *skiffProc) Kubeconfig() string { return filepath.Join(p.dataDir, "admin.kubeconfig") }
func (p *skiffProc) Pid() int           { return p.cmd.Process.Pid }

// waitReady polls /readyz (anonymous, certificate not checked: loopback
// only) until it answers 200 "ok".
func (p *skiffProc) waitReady(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
	}}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if readyz(ctx, client, p.URL()+"/readyz") {
			return nil
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return fmt.Errorf("skiff server exited before it was ready (%v); log %s:\n%s", p.waitErr, p.logPath, tail(p.logPath, 2000))
		case <-deadline.C:
			return fmt.Errorf("skiff server not ready after %v; log %s:\n%s", timeout, p.logPath, tail(p.logPath, 2000))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func readyz(ctx context.Context, c *http.Client, url string) bool {
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

// stop sends SIGTERM and waits, killing the process group after grace.
// Safe to call more than once.
func (p *skiffProc) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return fmt.Errorf("skiff server did not stop within %v of SIGTERM; killed", grace)
	}
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b[max(int64(len(b))-n, 0):])
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
