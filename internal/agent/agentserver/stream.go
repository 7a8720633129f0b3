package agentserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/skiff-io/skiff/internal/agent/agentserver/agentapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/proxy"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// serveExec serves /exec/{namespace}/{pod}/{container}?command=...
func (s *server) serveExec(w http.ResponseWriter, r *http.Request) {
	s.serveSession(w, r, func(ctx context.Context, containerID string, o agentapi.StreamOptions, cmd []string) (string, error) {
		resp, err := s.cfg.Runtime.Exec(ctx, &runtimeapi.ExecRequest{
			ContainerId: containerID, Cmd: cmd, Tty: o.TTY, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		})
		if err != nil {
			return "", fmt.Errorf("exec in container %s: %w", containerID, err)
		}
		return resp.GetUrl(), nil
	})
}

// serveAttach serves /attach/{namespace}/{pod}/{container}.
func (s *server) serveAttach(w http.ResponseWriter, r *http.Request) {
	s.serveSession(w, r, func(ctx context.Context, containerID string, o agentapi.StreamOptions, _ []string) (string, error) {
		resp, err := s.cfg.Runtime.Attach(ctx, &runtimeapi.AttachRequest{
			ContainerId: containerID, Tty: o.TTY, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		})
		if err != nil {
			return "", fmt.Errorf("attach to container %s: %w", containerID, err)
		}
		return resp.GetUrl(), nil
	})
}

// serveSession is exec and attach: decode the streams, find the container,
// get a session URL from the runtime and proxy the connection to it.
func (s *server) serveSession(w http.ResponseWriter, r *http.Request,
	open func(ctx context.Context, containerID string, o agentapi.StreamOptions, cmd []string) (string, error)) {
	if s.cfg.Resolve == nil || s.cfg.Runtime == nil {
		notFound(w, "streaming is not served by this agent")
		return
	}
	opts, cmd, err := agentapi.DecodeStreamQuery(r.URL.Query())
	if err != nil {
		badRequest(w, err)
		return
	}
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	containerID, _, err := s.cfg.Resolve(r.Context(), ns, pod, container)
	if err != nil {
		writeError(w, err)
		return
	}
	raw, err := open(r.Context(), containerID, opts, cmd)
	if err != nil {
		writeError(w, err)
		return
	}
	s.proxySession(w, r, raw)
}

// servePortForward serves /portForward/{namespace}/{pod}[?port=...].
func (s *server) servePortForward(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Resolve == nil || s.cfg.Runtime == nil {
		notFound(w, "streaming is not served by this agent")
		return
	}
	ports, err := agentapi.DecodePorts(r.URL.Query())
	if err != nil {
		badRequest(w, err)
		return
	}
	ns, pod := r.PathValue("namespace"), r.PathValue("pod")
	_, sandboxID, err := s.cfg.Resolve(r.Context(), ns, pod, "")
	if err != nil {
		writeError(w, err)
		return
	}
	resp, err := s.cfg.Runtime.PortForward(r.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: sandboxID, Port: ports})
	if err != nil {
		writeError(w, fmt.Errorf("port-forward to pod sandbox %s: %w", sandboxID, err))
		return
	}
	s.proxySession(w, r, resp.GetUrl())
}

// proxySession hands the (upgrading) request to the runtime's streaming
// server at raw, the URL the runtime returned for this session.
func (s *server) proxySession(w http.ResponseWriter, r *http.Request, raw string) {
	loc, err := sessionURL(raw)
	if err != nil {
		writeError(w, err)
		return
	}
	h := proxy.NewUpgradeAwareHandler(loc, nil, false, true, proxyResponder{log: s.log})
	h.ServeHTTP(w, r)
}

// sessionURL parses a streaming URL from the runtime. Only absolute http
// and https URLs are accepted: the agent dials nothing else.
func sessionURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("runtime returned an unusable streaming URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("runtime returned an unusable streaming URL %q: %w", raw, errNotAbsoluteHTTP)
	}
	return u, nil
}

var errNotAbsoluteHTTP = errors.New("not an absolute http(s) URL")

// proxyResponder answers errors of the streaming proxy: a non-upgrade
// request (400, "Upgrade request required") keeps its status, anything
// else is the runtime's streaming server failing (500).
type proxyResponder struct {
	log *slog.Logger
}

// Error writes err as a Status.
func (p proxyResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	st := errorStatus(err)
	if st.Code >= http.StatusInternalServerError {
		p.log.Warn("proxying to the runtime's streaming server failed", "path", r.URL.Path, "err", err)
		st = &metav1.Status{Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: err.Error()}
	}
	writeStatus(w, st)
}
