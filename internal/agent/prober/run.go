package prober

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Execer runs a command synchronously inside a running container, as CRI
// ExecSync does. A command that ran returns its exit code and a nil error;
// err is reserved for failures to run it. When the runtime gives up because
// timeout elapsed, err must satisfy errors.Is(err, context.DeadlineExceeded)
// or carry the gRPC code DeadlineExceeded.
type Execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout, stderr []byte, exitCode int32, err error)
}

// Target is what a probe is aimed at.
type Target struct {
	// PodIP is the default host for httpGet and tcpSocket probes and the
	// only host for grpc probes.
	PodIP string
	// ContainerID identifies the container for exec probes.
	ContainerID string
	// Ports are the container's declared ports; named probe ports resolve
	// against them.
	Ports []corev1.ContainerPort
	// Env is the container's environment; exec probe commands expand
	// $(NAME) references to the static values found here.
	Env []corev1.EnvVar
	// Exec runs exec probes; it may be nil when no exec probe is used.
	Exec Execer
}

// Run performs one attempt of probe p against t and reports its result and
// the output or reason the kubelet would show for it. timeoutSeconds (1s when
// unset) bounds every handler. An error means the probe could not be
// performed at all (bad port, missing handler, runtime failure, ctx
// cancelled); the result is then Unknown and should be discarded, as the
// kubelet does.
func Run(ctx context.Context, p *corev1.Probe, t Target) (Result, string, error) {
	if p == nil {
		return Unknown, "", errors.New("no probe given")
	}
	timeout := timeoutOf(p)
	switch {
	case p.Exec != nil:
		return runExec(ctx, p.Exec, t, timeout)
	case p.HTTPGet != nil:
		return runHTTP(ctx, p.HTTPGet, t, timeout)
	case p.TCPSocket != nil:
		return runTCP(ctx, p.TCPSocket, t, timeout)
	case p.GRPC != nil:
		return runGRPC(ctx, p.GRPC, t, timeout)
	default:
		return Unknown, "", errors.New("missing probe handler")
	}
}
