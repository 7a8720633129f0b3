package agentserver

import (
	"net/http"

	"github.com/skiff-io/skiff/internal/agent/agentserver/agentapi"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// serveContainerLogs serves GET /containerLogs/{namespace}/{pod}/{container}.
func (s *server) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Logs == nil {
		notFound(w, "container logs are not served by this agent")
		return
	}
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	q := r.URL.Query()
	// The kubelet still accepts the old "tail" parameter; "all" means no limit.
	if tail := q.Get("tail"); tail != "" {
		q.Del("tail")
		if tail != "all" {
			q.Set("tailLines", tail)
		}
	}
	opts, err := agentapi.DecodeLogOptions(q)
	if err != nil {
		badRequest(w, err)
		return
	}
	opts.Container = container
	if errs := agentapi.ValidateLogOptions(opts); len(errs) > 0 {
		writeError(w, apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, pod, errs))
		return
	}
	lw := &logWriter{w: w, rc: http.NewResponseController(w), flush: opts.Follow}
	err = s.cfg.Logs(r.Context(), LogRequest{Namespace: ns, Pod: pod, Container: container, Opts: *opts}, lw)
	switch {
	case err == nil:
		lw.start()
	case !lw.started:
		writeError(w, err)
	case r.Context().Err() == nil:
		// The status line is out; all that is left is to end the stream.
		s.log.Warn("container log stream failed", "namespace", ns, "pod", pod, "container", container, "err", err)
	}
}

// logWriter sends a log as it is written: the 200 status goes out with the
// first byte (so an error found before any output can still become the
// status), and, when following, every write is flushed to the client.
type logWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController // made once, not at every flush
	flush   bool
	started bool
}

func (l *logWriter) start() {
	if l.started {
		return
	}
	l.started = true
	l.w.Header().Set("Content-Type", "text/plain")
	l.w.WriteHeader(http.StatusOK)
	if l.flush {
		_ = l.rc.Flush()
	}
}

// Write sends p to the client.
func (l *logWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.start()
	n, err := l.w.Write(p)
	if err == nil && l.flush {
		err = l.rc.Flush()
	}
	return n, err
}
