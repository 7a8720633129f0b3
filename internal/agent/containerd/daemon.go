package containerd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Config configures an agent-owned containerd.
type Config struct {
	// Dir is <data-dir>/agent/containerd.
	Dir string
	// ImagesDir holds *.tar image archives imported at start.
	ImagesDir    string
	SandboxImage string
	// CNIBinDir holds the CNI plugins (Debian: /usr/lib/cni).
	CNIBinDir string
	// Binary is the containerd executable; "containerd" from PATH if empty.
	Binary string
	// Ctr is the ctr executable used to import archives; "ctr" if empty.
	Ctr    string
	Logger *slog.Logger
}

// Daemon supervises one containerd process.
type Daemon struct {
	cfg    Config
	layout Layout
	ready  chan struct{}
}

// New checks the configuration and the binaries.
func New(cfg Config) (*Daemon, error) {
	if cfg.Dir == "" {
		return nil, errors.New("containerd: Dir is required")
	}
	if cfg.Binary == "" {
		cfg.Binary = "containerd"
	}
	if cfg.Ctr == "" {
		cfg.Ctr = "ctr"
	}
	if cfg.CNIBinDir == "" {
		cfg.CNIBinDir = "/usr/lib/cni"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for _, bin := range []string{cfg.Binary, "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("containerd: %s not found (Debian: apt-get install containerd runc containernetworking-plugins): %w", bin, err)
		}
	}
	return &Daemon{cfg: cfg, layout: Layout{Dir: cfg.Dir}, ready: make(chan struct{})}, nil
}

// Endpoint is the CRI endpoint ("unix://…").
func (d *Daemon) Endpoint() string { return "unix://" + d.layout.Socket() }

// Layout reports where the daemon keeps its files.
func (d *Daemon) Layout() Layout { return d.layout }

// Ready is closed once containerd answers and the image archives are
// imported.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Run writes the configuration, starts containerd and restarts it if it
// exits, until ctx ends; then it stops containerd with SIGTERM. Containers
// survive: their shims are separate processes, so a restarted containerd
// (or agent) finds them again.
func (d *Daemon) Run(ctx context.Context) error {
	l := d.layout
	for _, dir := range []string{l.Dir, l.Root(), l.State(), l.CNIConfDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("containerd: %w", err)
		}
	}
	cfg := RenderConfig(l, ConfigOptions{SandboxImage: d.cfg.SandboxImage, CNIBinDir: d.cfg.CNIBinDir})
	if err := os.WriteFile(l.Config(), cfg, 0o600); err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	backoff := time.Second
	first := true
	for {
		started := time.Now()
		err := d.runOnce(ctx, first)
		first = false
		if ctx.Err() != nil {
			return nil
		}
		d.cfg.Logger.Error("containerd exited; restarting", "err", err, "log", l.Log())
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (d *Daemon) runOnce(ctx context.Context, first bool) error {
	l := d.layout
	logf, err := os.OpenFile(l.Log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	_ = os.Remove(l.Socket())
	cmd := exec.Command(d.cfg.Binary, "--config", l.Config())
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: a terminal's ^C reaches skiff, which then stops
	// containerd in order instead of both dying at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitForSocket(ctx, l.Socket(), exited); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	d.cfg.Logger.Info("containerd running", "pid", cmd.Process.Pid, "socket", l.Socket())
	if first {
		if err := d.importImages(ctx); err != nil {
			d.cfg.Logger.Error("importing image archives", "err", err)
		}
		close(d.ready)
	}
	select {
	case err := <-exited:
		return fmt.Errorf("containerd exited: %w", err)
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return nil
	}
}

func waitForSocket(ctx context.Context, path string, exited <-chan error) error {
	deadline := time.After(30 * time.Second)
	for {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("containerd exited during start: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("containerd did not open its socket within 30s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// importImages loads every archive of ImagesDir into the k8s.io namespace,
// where the CRI plugin looks for images.
func (d *Daemon) importImages(ctx context.Context) error {
	if d.cfg.ImagesDir == "" {
		return nil
	}
	archives, err := filepath.Glob(filepath.Join(d.cfg.ImagesDir, "*.tar"))
	if err != nil {
		return err
	}
	sort.Strings(archives)
	var errs []error
	for _, a := range archives {
		out, err := exec.CommandContext(ctx, d.cfg.Ctr, "--address", d.layout.Socket(), "--namespace", "k8s.io",
			"images", "import", a).CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Errorf("import %s: %w: %s", a, err, strings.TrimSpace(string(out))))
			continue
		}
		d.cfg.Logger.Debug("imported image archive", "file", a)
	}
	return errors.Join(errs...)
}
