package prober

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
)

// runGRPC performs a grpc probe: a grpc.health.v1.Health/Check call on the
// pod IP and port, over plaintext, for the optional service name. SERVING is
// success; every other outcome is failure with the kubelet's message.
func runGRPC(ctx context.Context, a *corev1.GRPCAction, t Target, timeout time.Duration) (Result, string, error) {
	if a.Port < 1 || a.Port > 65535 {
		return Unknown, "", fmt.Errorf("grpc probe: invalid port number: %d", a.Port)
	}
	if t.PodIP == "" {
		return Unknown, "", errors.New("grpc probe: pod has no IP")
	}
	service := ""
	if a.Service != nil {
		service = *a.Service
	}
	addr := net.JoinHostPort(t.PodIP, strconv.Itoa(int(a.Port)))
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dialer := probeDialer(timeout)
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent(userAgent()),
		grpc.WithContextDialer(func(ctx context.Context, target string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", target)
		}),
	)
	if err != nil {
		return Failure, fmt.Sprintf("error: failed to connect service at %q: %+v", addr, err), nil
	}
	defer func() { _ = conn.Close() }()

	if err := waitConnected(callCtx, conn); err != nil {
		if ctx.Err() != nil {
			return Unknown, "", fmt.Errorf("grpc probe: %w", ctx.Err())
		}
		return Failure, fmt.Sprintf("timeout: failed to connect service %q within %v: %+v", addr, timeout, err), nil
	}

	resp, err := healthpb.NewHealthClient(conn).Check(callCtx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		if ctx.Err() != nil {
			return Unknown, "", fmt.Errorf("grpc probe: %w", ctx.Err())
		}
		return Failure, grpcFailure(err, timeout), nil
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return Failure, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String()), nil
	}
	return Success, "service healthy", nil
}

// waitConnected blocks until conn is ready or ctx ends, retrying failed
// connection attempts meanwhile (what a blocking dial does).
func waitConnected(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			return ctx.Err()
		}
	}
}

// grpcFailure is the kubelet's message for a failed health RPC.
func grpcFailure(err error, timeout time.Duration) string {
	st, ok := status.FromError(err)
	if ok {
		switch st.Code() {
		case codes.Unimplemented:
			return "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " + st.Message()
		case codes.DeadlineExceeded:
			return fmt.Sprintf("timeout: health rpc did not complete within %v", timeout)
		}
	}
	return fmt.Sprintf("error: health rpc probe failed: %+v", err)
}
