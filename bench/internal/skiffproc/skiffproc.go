// Package skiffproc runs `skiff server` processes for the benchmarks: on
// free 127.0.0.1 ports, with their own data dir, output in
// <data-dir>.log, killed with the benchmark whatever happens to it.
package skiffproc

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

// Proc is one `skiff server` process.
type Proc struct {
	DataDir  string
	LogPath  string
	Port     int // the API server's
	EtcdPort int // the embedded etcd's client port

	bin     string
	args    []string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// New picks free ports for a server on dataDir: the API server's, etcd's
// client and peer ports, and one for each flag in portFlags (such as
// "--agent-port"). extra flags are appended to the command line. Nothing
// runs until Start.
func New(bin, dataDir string, extra []string, portFlags ...string) (*Proc, error) {
	ports, err := FreePorts(3 + len(portFlags))
	if err != nil {
		return nil, err
	}
	p := &Proc{bin: bin, DataDir: dataDir, LogPath: dataDir + ".log", Port: ports[0], EtcdPort: ports[1]}
	p.args = []string{"server",
		"--data-dir", dataDir,
		"--bind-address", "127.0.0.1",
		"--https-listen-port", strconv.Itoa(ports[0]),
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
	}
	for i, f := range portFlags {
		p.args = append(p.args, f, strconv.Itoa(ports[3+i]))
	}
	p.args = append(p.args, extra...)
	return p, nil
}

// Start starts the process and polls /readyz until it answers 200 "ok",
// returning the time from just before the process started. On error the
// process is stopped.
func Start(ctx context.Context, bin, dataDir string, extra []string, timeout time.Duration, portFlags ...string) (*Proc, error) {
	p, err := New(bin, dataDir, extra, portFlags...)
	if err != nil {
		return nil, err
	}
	if _, err := p.Start(ctx, timeout); err != nil {
		return nil, err
	}
	return p, nil
}

// URL is the API server's address.
func (p *Proc) URL() string { return fmt.Sprintf("https://127.0.0.1:%d", p.Port) }

// Kubeconfig is the admin kubeconfig the server writes.
func (p *Proc) Kubeconfig() string { return filepath.Join(p.DataDir, "admin.kubeconfig") }

// Pid is the process id (Start must have succeeded).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Start starts the process and waits for /readyz; see the function Start.
func (p *Proc) Start(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	logFile, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	p.exited = make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		// /readyz needs no credentials; 127.0.0.1 only.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health check
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
	}}
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
			return 0, p.Failure("exited before it was ready")
		case <-deadline.C:
			_, _ = p.Stop(10 * time.Second)
			return 0, p.Failure(fmt.Sprintf("not ready after %v", timeout))
		case <-ctx.Done():
			_, _ = p.Stop(10 * time.Second)
			return 0, ctx.Err()
		}
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

// Alive reports whether the process is running.
func (p *Proc) Alive() bool {
	if p == nil || p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Failure describes what went wrong with the server, with its exit status
// and the end of its log.
func (p *Proc) Failure(what string) error {
	return fmt.Errorf("skiff server %s (%v); log %s:\n%s", what, p.waitErr, p.LogPath, Tail(p.LogPath, 3000))
}

// Stop sends SIGTERM and waits for the process to exit, killing its
// process group after grace. It returns how long the shutdown took and an
// error when the server did not exit cleanly. Safe on a nil, never started
// or already exited process.
func (p *Proc) Stop(grace time.Duration) (time.Duration, error) {
	if p == nil || p.cmd == nil || p.cmd.Process == nil || p.exited == nil {
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

func (p *Proc) exitError() error {
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return p.Failure("exited with an error")
	}
	return p.waitErr
}

// Tail returns the last n bytes of a file, for error messages.
func Tail(path string, n int64) string {
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

// FreePorts returns n distinct 127.0.0.1 ports that were free a moment ago.
func FreePorts(n int) ([]int, error) {
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
