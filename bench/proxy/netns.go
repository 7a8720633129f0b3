package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/iptables"
)

// netns is a network namespace the benchmark created; the host's own
// namespace is never written to.
type netns struct {
	Name string
}

// newNetns creates an empty network namespace named after the benchmark,
// the process and what for.
func newNetns(what string) (*netns, error) {
	name := fmt.Sprintf("skfbench-proxy-%d-%s", os.Getpid(), what)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %w: %s", name, err, bytes.TrimSpace(out))
	}
	return &netns{Name: name}, nil
}

// Delete removes the namespace and, with it, every rule loaded into it.
func (n *netns) Delete() error {
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %w: %s", n.Name, err, bytes.TrimSpace(out))
	}
	return nil
}

// Run runs fn on an OS thread switched into the namespace; processes fn
// starts inherit it. The thread is thrown away afterwards (it stays
// locked when the goroutine ends).
func (n *netns) Run(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + n.Name)
		if err != nil {
			errc <- fmt.Errorf("opening netns: %w", err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// timed runs name with stdin inside the namespace and returns how long it
// took (the reference loads: no Skiff code involved).
func (n *netns) timed(ctx context.Context, stdin []byte, name string, args ...string) (time.Duration, error) {
	var took time.Duration
	err := n.Run(func() error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdin = bytes.NewReader(stdin)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took = time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, firstLines(out, 5))
		}
		return nil
	})
	return took, err
}

func firstLines(b []byte, n int) string {
	lines := bytes.SplitN(bytes.TrimSpace(b), []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// recordingExecutor is iptables.Executor running the tools in the
// namespace (setns, so that no `ip netns exec` is counted) and keeping
// the last input written to iptables-restore.
type recordingExecutor struct {
	ns *netns
	// legacy runs the iptables-legacy tools instead of the default ones.
	legacy      bool
	lastRestore []byte
	restoreTime time.Duration
}

func (r *recordingExecutor) text() []byte            { return r.lastRestore }
func (r *recordingExecutor) toolTime() time.Duration { return r.restoreTime }

// Exec implements iptables.Executor.
func (r *recordingExecutor) Exec(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	var out []byte
	tool := name
	if r.legacy {
		tool = legacyTool(name)
	}
	start := time.Now()
	err := r.ns.Run(func() (err error) {
		out, err = iptables.HostExecutor{}.Exec(ctx, stdin, tool, args...)
		return err
	})
	if name == "iptables-restore" {
		r.lastRestore, r.restoreTime = stdin, time.Since(start)
	}
	return out, err
}

// legacyTool is the iptables-legacy counterpart of an iptables tool.
func legacyTool(name string) string {
	switch name {
	case "iptables":
		return "iptables-legacy"
	case "iptables-restore", "iptables-save":
		return "iptables-legacy-" + name[len("iptables-"):]
	}
	return name
}

// recordingNFT is knftables running in the namespace and keeping the
// text of the last transaction it ran.
type recordingNFT struct {
	knftables.Interface
	ns      *netns
	lastTx  string
	lastRun time.Duration
}

func (r *recordingNFT) text() []byte            { return []byte(r.lastTx) }
func (r *recordingNFT) toolTime() time.Duration { return r.lastRun }

func newRecordingNFT(ns *netns, table string) (*recordingNFT, error) {
	r := &recordingNFT{ns: ns}
	err := ns.Run(func() (err error) {
		r.Interface, err = knftables.New(knftables.IPv4Family, table)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("knftables: %w", err)
	}
	return r, nil
}

// Run implements knftables.Interface.
func (r *recordingNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	r.lastTx = tx.String()
	start := time.Now()
	err := r.ns.Run(func() error { return r.Interface.Run(ctx, tx) })
	r.lastRun = time.Since(start)
	return err
}

// List implements knftables.Interface.
func (r *recordingNFT) List(ctx context.Context, objectType string) (out []string, err error) {
	err = r.ns.Run(func() error { out, err = r.Interface.List(ctx, objectType); return err })
	return out, err
}
