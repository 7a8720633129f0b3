package audit

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/skiff-io/skiff/internal/apiserver/request"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Sink receives audit events. It is called on the request's goroutine, so
// it must not wait on I/O for long, and it must not keep ev or anything ev
// points to after returning (the filter reuses the event for the next
// stage). Implementations must be safe for concurrent use.
type Sink interface {
	Process(ev *Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ev *Event)

// Process calls f(ev).
func (f SinkFunc) Process(ev *Event) { f(ev) }

// FilterConfig configures Filter.
type FilterConfig struct {
	// Policy decides what is recorded; nil means DefaultPolicy(). It must
	// not be modified once the filter runs.
	Policy *Policy
	// Sink receives the events; nil records nothing (the Audit-ID header
	// is still set), for --audit-log-path=none.
	Sink Sink
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	now func() time.Time // tests
}

// Bodies larger than this are not recorded (the event is, without them).
const (
	maxBodyBytes = 1 << 20
	// maxStatusBytes bounds the body read, at Metadata level, to find a
	// failed request's Status.
	maxStatusBytes = 64 << 10
)

// Filter audits the requests next serves. It must run after
// authentication (it reads user.From) and before impersonation,
// authorization and admission, so that their annotations are recorded and
// their refusals audited. Every response gets an Audit-ID header; requests
// the policy gives a level above None produce events on cfg.Sink.
func Filter(cfg FilterConfig, next http.Handler) http.Handler {
	policy := cfg.Policy
	if policy == nil {
		policy = DefaultPolicy()
	}
	now := cfg.now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := now()
		id := auditID(r)
		w.Header().Set(HeaderAuditID, id)
		if cfg.Sink == nil {
			next.ServeHTTP(w, r)
			return
		}
		attrs := requestAttributes(r)
		rc := policy.Evaluate(attrs)
		if !rc.Level.AtLeast(LevelMetadata) {
			next.ServeHTTP(w, r)
			return
		}
		rec := &record{cfg: rc, sink: cfg.Sink, ev: newEvent(r, id, rc.Level, attrs, received)}
		r = r.WithContext(withRecord(r.Context(), rec))
		longRunning := isLongRunning(r, attrs)
		var reqBody *capture
		if !longRunning && wantsRequestBody(r, rc.Level, attrs) {
			reqBody = &capture{limit: maxBodyBytes}
			r.Body = teeBody{ReadCloser: r.Body, c: reqBody}
		}
		fillRequest := func(ev *Event) { setRequestObject(ev, reqBody, rc) }
		rec.emit(StageRequestReceived, metav1.NewMicroTime(received), nil)

		aw := &auditWriter{ResponseWriter: w, rec: rec, level: rc.Level, longRunning: longRunning, now: now, fillRequest: fillRequest}
		defer func() {
			if v := recover(); v != nil {
				log.Error("audit: handler panicked", "auditID", id, "panic", v)
				rec.emit(StagePanic, metav1.NewMicroTime(now()), func(ev *Event) {
					fillRequest(ev)
					ev.ResponseStatus = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
						Message: fmt.Sprintf("APIServer panic'd: %v", v)}
				})
				// Re-raise: net/http then logs it and drops the connection
				// exactly as it would without auditing.
				panic(v)
			}
		}()
		next.ServeHTTP(wrapWriter(aw), r)
		rec.emit(StageResponseComplete, metav1.NewMicroTime(now()), func(ev *Event) {
			fillRequest(ev)
			setResponse(ev, aw, rc)
		})
	})
}

// auditID is the client's Audit-ID when it sent a sane one (an aggregating
// API server forwards its own), else a new UUID.
func auditID(r *http.Request) string {
	if id := r.Header.Get(HeaderAuditID); id != "" && len(id) <= 64 && !strings.ContainsFunc(id, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return id
	}
	return uuid.NewString()
}

// requestAttributes describes r as the authorizer sees it, the form
// policies match against.
func requestAttributes(r *http.Request) authorizer.Attributes {
	u, _ := user.From(r.Context())
	a := authorizer.Attributes{User: u, Path: r.URL.Path}
	if info, ok := request.Parse(r); ok {
		a.ResourceRequest = true
		a.Verb = info.Verb
		a.APIGroup, a.APIVersion = info.Group, info.Version
		a.Namespace, a.Resource, a.Name = info.Namespace, info.Resource, info.Name
		// pods/x/proxy/some/path is the subresource "proxy"; the rest is
		// the proxied path, as in Kubernetes' request info.
		a.Subresource, _, _ = strings.Cut(info.Subresource, "/")
	}
	if a.Verb == "" {
		a.Verb = strings.ToLower(r.Method)
	}
	return a
}

func newEvent(r *http.Request, id string, level Level, a authorizer.Attributes, received time.Time) Event {
	ev := Event{
		Kind: "Event", APIVersion: APIVersion, Level: level, AuditID: id,
		RequestURI: r.URL.RequestURI(), Verb: a.Verb,
		SourceIPs: sourceIPs(r), UserAgent: r.UserAgent(),
		RequestReceivedTimestamp: metav1.NewMicroTime(received),
	}
	if a.User != nil {
		ev.User = userInfo(a.User)
	}
	if a.ResourceRequest {
		ev.ObjectRef = &ObjectReference{Resource: a.Resource, Namespace: a.Namespace, Name: a.Name,
			APIGroup: a.APIGroup, APIVersion: a.APIVersion, Subresource: a.Subresource}
	}
	return ev
}

// isLongRunning reports requests whose response is a stream that can last
// hours: they get a ResponseStarted event when the stream starts. Logs
// count only when followed; a plain log read is an ordinary request.
func isLongRunning(r *http.Request, a authorizer.Attributes) bool {
	if !a.ResourceRequest {
		return false
	}
	if a.Verb == "watch" {
		return true
	}
	switch a.Subresource {
	case "exec", "attach", "portforward", "proxy":
		return true
	case "log":
		return request.BoolParam(r.URL.Query().Get("follow"))
	}
	return false
}
