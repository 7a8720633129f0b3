package iptables

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
)

// Executor runs the iptables tools. The real one runs them directly; tests
// use a fake, or NetnsExecutor to reach a network namespace.
type Executor interface {
	// Exec runs name with args and stdin, returning combined output.
	Exec(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// HostExecutor runs commands in the proxy's own network namespace.
type HostExecutor struct{}

// Exec implements Executor.
func (HostExecutor) Exec(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(out))
	}
	return out, nil
}

// NetnsExecutor runs commands inside the named network namespace with
// `ip netns exec`.
type NetnsExecutor struct {
	Netns string
}

// Exec implements Executor.
func (n NetnsExecutor) Exec(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	return HostExecutor{}.Exec(ctx, stdin, "ip", append([]string{"netns", "exec", n.Netns, name}, args...)...)
}
