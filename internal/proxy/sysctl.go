package proxy

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Sysctl reads and writes kernel parameters ("net.ipv4.ip_forward").
type Sysctl interface {
	// Get returns the parameter's value; an fs.ErrNotExist error means
	// the kernel lacks it.
	Get(name string) (string, error)
	Set(name, value string) error
}

// ProcSysctl uses /proc/sys, which shows the network namespace of the
// process opening it.
type ProcSysctl struct{}

func procPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// Get implements Sysctl.
func (ProcSysctl) Get(name string) (string, error) {
	b, err := os.ReadFile(procPath(name))
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set implements Sysctl.
func (ProcSysctl) Set(name, value string) error {
	if err := os.WriteFile(procPath(name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", name, value, err)
	}
	return nil
}

// setSysctls turns on what the data path needs: forwarding, and bridged
// traffic passing through iptables when br_netfilter is loaded (without
// it, pod-to-Service traffic between pods on one bridge skips the DNAT).
func setSysctls(s Sysctl, log *slog.Logger) error {
	want := []struct {
		name, value string
		optional    bool
	}{
		{"net.ipv4.ip_forward", "1", false},
		{"net.bridge.bridge-nf-call-iptables", "1", true},
	}
	for _, w := range want {
		cur, err := s.Get(w.name)
		if err != nil {
			if w.optional && errors.Is(err, fs.ErrNotExist) {
				log.Info("kernel parameter absent; skipped", "name", w.name)
				continue
			}
			return fmt.Errorf("proxy: %w", err)
		}
		if cur == w.value {
			continue
		}
		if err := s.Set(w.name, w.value); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	return nil
}
