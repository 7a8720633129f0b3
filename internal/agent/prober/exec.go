package prober

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-io/skiff/internal/agent/envvars"
)

// maxOutput bounds the exec output and HTTP body a probe keeps (10 KiB, the
// kubelet's limit).
const maxOutput = 10 << 10

// execGrace is extra time the runtime call gets beyond the probe timeout so
// the runtime, which enforces the timeout itself, can report it.
const execGrace = 5 * time.Second

// runExec runs an exec probe: exit code 0 is success, any other exit code is
// failure with the command's combined output, and running out of time is
// failure with the kubelet's "command ... timed out" message.
func runExec(ctx context.Context, a *corev1.ExecAction, t Target, timeout time.Duration) (Result, string, error) {
	if t.Exec == nil {
		return Unknown, "", errors.New("exec probe: no container runtime to run it")
	}
	if t.ContainerID == "" {
		return Unknown, "", errors.New("exec probe: container has no ID")
	}
	cmd := expandCommand(a.Command, t.Env)
	callCtx, cancel := context.WithTimeout(ctx, timeout+execGrace)
	defer cancel()
	stdout, stderr, code, err := t.Exec.ExecSync(callCtx, t.ContainerID, cmd, timeout)
	if err != nil {
		if ctx.Err() != nil {
			return Unknown, "", fmt.Errorf("exec probe: %w", ctx.Err())
		}
		if isTimeout(err) {
			return Failure, fmt.Sprintf("command %q timed out", strings.Join(cmd, " ")), nil
		}
		return Unknown, "", fmt.Errorf("exec probe in container %s: %w", t.ContainerID, err)
	}
	out := combinedOutput(stdout, stderr)
	if code == 0 {
		return Success, out, nil
	}
	return Failure, out, nil
}

// isTimeout reports whether a runtime error means the command ran out of time.
func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded
}

// combinedOutput joins stdout and stderr, in that order, keeping at most
// maxOutput bytes.
func combinedOutput(stdout, stderr []byte) string {
	out := make([]byte, 0, min(len(stdout)+len(stderr), maxOutput))
	out = append(out, stdout[:min(len(stdout), maxOutput)]...)
	out = append(out, stderr[:min(len(stderr), maxOutput-len(out))]...)
	return string(out)
}

// expandCommand replaces $(NAME) references in each argument with the
// container's statically declared environment values, as the kubelet does for
// exec probes (values from valueFrom sources are not resolved and expand to
// the empty string). "$$" escapes a dollar; unknown references are kept.
func expandCommand(cmd []string, env []corev1.EnvVar) []string {
	if len(cmd) == 0 {
		return cmd
	}
	values := make(map[string]string, len(env))
	for _, e := range env {
		values[e.Name] = e.Value
	}
	mapping := envvars.MappingFor(values)
	out := make([]string, len(cmd))
	for i, arg := range cmd {
		out[i] = envvars.ExpandString(arg, mapping)
	}
	return out
}
