package prober

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// runTCP performs a tcpSocket probe: success when a connection can be opened
// within the timeout, failure with the dial error otherwise.
func runTCP(ctx context.Context, a *corev1.TCPSocketAction, t Target, timeout time.Duration) (Result, string, error) {
	port, err := resolvePort(a.Port, t.Ports)
	if err != nil {
		return Unknown, "", fmt.Errorf("tcp probe: %w", err)
	}
	host := a.Host
	if host == "" {
		host = t.PodIP
	}
	if host == "" {
		return Unknown, "", errors.New("tcp probe: pod has no IP")
	}
	dialCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := probeDialer(timeout).DialContext(dialCtx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if ctx.Err() != nil {
			return Unknown, "", fmt.Errorf("tcp probe: %w", ctx.Err())
		}
		return Failure, err.Error(), nil
	}
	_ = conn.Close()
	return Success, "", nil
}
