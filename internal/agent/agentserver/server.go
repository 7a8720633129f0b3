// Package agentserver is the node agent's HTTPS API, compatible with the
// kubelet's paths: container logs, exec, attach and port-forward for the
// API server, the agent's pods, health, and the stats and metrics
// endpoints (served by handlers supplied in Config).
//
// Exec, attach and port-forward ask the CRI runtime for a streaming URL on
// the runtime's loopback streaming server and proxy the upgraded (SPDY or
// WebSocket) connection to it, as the kubelet does. The listener, its TLS
// (see TLSConfig) and the runtime connection belong to the caller.
package agentserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamingRuntime is the part of the CRI runtime service the streaming
// endpoints use: each call returns a URL on the runtime's streaming server
// that serves exactly one session. k8s.io/cri-api's RuntimeServiceClient
// satisfies it.
type StreamingRuntime interface {
	Exec(ctx context.Context, req *runtimeapi.ExecRequest, opts ...grpc.CallOption) (*runtimeapi.ExecResponse, error)
	Attach(ctx context.Context, req *runtimeapi.AttachRequest, opts ...grpc.CallOption) (*runtimeapi.AttachResponse, error)
	PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest, opts ...grpc.CallOption) (*runtimeapi.PortForwardResponse, error)
}

// LogRequest names the container whose log is asked for and how. Opts has
// been validated; Opts.Container equals Container.
type LogRequest struct {
	Namespace, Pod, Container string
	Opts                      corev1.PodLogOptions
}

// Config carries what the API needs from the rest of the agent. Errors
// returned by the callbacks and the runtime are answered with a
// Kubernetes Status carrying the error's text: an API error
// (k8s.io/apimachinery/pkg/api/errors) keeps its own status; otherwise
// 404 for errors wrapping ErrNotFound or carrying gRPC code NotFound, 400
// for ErrBadRequest or InvalidArgument, 429 for ResourceExhausted, 500 for
// the rest.
type Config struct {
	// Logs writes the log of a container of one of the agent's pods to w
	// and returns when done; with Opts.Follow it keeps writing until the
	// container stops or ctx ends. Everything written is sent to the
	// client (flushed after each write when following). An error
	// returned before the first write becomes the response's status.
	Logs func(ctx context.Context, req LogRequest, w io.Writer) error
	// Resolve returns the runtime ids of a pod's container and of the
	// pod's sandbox. container is empty for port-forward, which needs only
	// the sandbox.
	Resolve func(ctx context.Context, namespace, pod, container string) (containerID, sandboxID string, err error)
	// Runtime serves exec, attach and port-forward.
	Runtime StreamingRuntime
	// Pods lists the pods the agent runs, for GET /pods.
	Pods func() []*corev1.Pod
	// StatsSummary serves GET /stats/summary and MetricsResource GET
	// /metrics/resource; nil answers 404.
	StatsSummary    http.Handler
	MetricsResource http.Handler
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
}

// server routes the agent's API.
type server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the agent's API handler. Callbacks left nil answer their
// endpoints with 404 (Logs, Resolve, Runtime, Pods, StatsSummary,
// MetricsResource).
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.routes()
	return s.mux
}

func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", serveHealthz)
	s.mux.HandleFunc("GET /pods", s.servePods)
	s.mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveContainerLogs)
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		s.mux.HandleFunc(m+" /exec/{namespace}/{pod}/{container}", s.serveExec)
		s.mux.HandleFunc(m+" /attach/{namespace}/{pod}/{container}", s.serveAttach)
		s.mux.HandleFunc(m+" /portForward/{namespace}/{pod}", s.servePortForward)
	}
	s.mux.Handle("GET /stats/summary", orNotFound(s.cfg.StatsSummary))
	s.mux.Handle("GET /metrics/resource", orNotFound(s.cfg.MetricsResource))
}

func orNotFound(h http.Handler) http.Handler {
	if h == nil {
		return http.NotFoundHandler()
	}
	return h
}

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}
