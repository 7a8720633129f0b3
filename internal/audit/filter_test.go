package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/skiff-io/skiff/internal/auth/user"
)

// recordingSink keeps a JSON round trip of each event, which both copies
// it (the filter reuses the event) and checks the wire form.
type recordingSink struct {
	mu     sync.Mutex
	events []Event
	raw    []string
}

func (s *recordingSink) Process(ev *Event) {
	data, err := encodeEvent(ev)
	if err != nil {
		panic(err)
	}
	var cp Event
	if err := json.Unmarshal(data, &cp); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, cp)
	s.raw = append(s.raw, strings.TrimSuffix(string(data), "\n"))
}

func (s *recordingSink) snapshot() ([]Event, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events), slices.Clone(s.raw)
}

func (s *recordingSink) stages() []Stage {
	evs, _ := s.snapshot()
	var out []Stage
	for _, ev := range evs {
		out = append(out, ev.Stage)
	}
	return out
}

// waitStages polls until the sink has seen want (in order) or fails.
func (s *recordingSink) waitStages(t *testing.T, want ...Stage) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(s.stages(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stages %v, want %v", s.stages(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func policyAt(level Level, omit ...Stage) *Policy {
	return &Policy{OmitStages: omit, Rules: []PolicyRule{{Level: level}}}
}

var alice = &user.Info{Name: "alice", UID: "u-1", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"scope": {"a"}}}

func serve(t *testing.T, cfg FilterConfig, r *http.Request, h http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	rr := httptest.NewRecorder()
	Filter(cfg, h).ServeHTTP(rr, r.WithContext(user.WithUser(r.Context(), alice)))
	return rr
}

func TestFilterResourceRequest(t *testing.T) {
	sink := &recordingSink{}
	r := httptest.NewRequest(http.MethodGet, "/apis/apps/v1/namespaces/ns1/deployments/web?timeout=5s", nil)
	r.RemoteAddr = "10.0.0.9:4242"
	r.Header.Set("X-Forwarded-For", "192.0.2.1, 198.51.100.2")
	r.Header.Set("User-Agent", "kubectl/v1.37")
	rr := serve(t, FilterConfig{Policy: policyAt(LevelMetadata), Sink: sink}, r, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"Deployment"}`)
	})
	evs, raw := sink.snapshot()
	if len(evs) != 2 || evs[0].Stage != StageRequestReceived || evs[1].Stage != StageResponseComplete {
		t.Fatalf("events %v", raw)
	}
	ev := evs[1]
	id := rr.Header().Get(HeaderAuditID)
	if id == "" || ev.AuditID != id || evs[0].AuditID != id {
		t.Errorf("audit ID header %q, events %q %q", id, evs[0].AuditID, ev.AuditID)
	}
	if ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" || ev.Level != LevelMetadata || ev.Verb != "get" ||
		ev.RequestURI != "/apis/apps/v1/namespaces/ns1/deployments/web?timeout=5s" || ev.UserAgent != "kubectl/v1.37" {
		t.Errorf("event %s", raw[1])
	}
	if ev.User.Username != "alice" || ev.User.UID != "u-1" || !slices.Equal(ev.User.Groups, alice.Groups) || !slices.Equal([]string(ev.User.Extra["scope"]), []string{"a"}) {
		t.Errorf("user %+v", ev.User)
	}
	if !slices.Equal(ev.SourceIPs, []string{"192.0.2.1", "198.51.100.2", "10.0.0.9"}) {
		t.Errorf("sourceIPs %v", ev.SourceIPs)
	}
	want := ObjectReference{Resource: "deployments", Namespace: "ns1", Name: "web", APIGroup: "apps", APIVersion: "v1"}
	if ev.ObjectRef == nil || *ev.ObjectRef != want {
		t.Errorf("objectRef %+v", ev.ObjectRef)
	}
	if ev.ResponseStatus == nil || ev.ResponseStatus.Code != 200 || ev.RequestObject != nil || ev.ResponseObject != nil {
		t.Errorf("status/bodies %s", raw[1])
	}
	// Kubernetes' wire form: a Status always has metadata, timestamps are
	// RFC 3339 with microseconds.
	if !strings.Contains(raw[1], `"responseStatus":{"metadata":{},"code":200}`) {
		t.Errorf("responseStatus form: %s", raw[1])
	}
	var stamps struct{ RequestReceivedTimestamp, StageTimestamp string }
	if err := json.Unmarshal([]byte(raw[1]), &stamps); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{stamps.RequestReceivedTimestamp, stamps.StageTimestamp} {
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", s); err != nil || len(s) != len("2006-01-02T15:04:05.000000Z") {
			t.Errorf("timestamp %q not RFC 3339 micro UTC", s)
		}
	}
}

func TestFilterFailureStatusAndNonResource(t *testing.T) {
	sink := &recordingSink{}
	cfg := FilterConfig{Policy: policyAt(LevelMetadata, StageRequestReceived), Sink: sink}
	r := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/ns1/pods/missing", nil)
	serve(t, cfg, r, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"missing\" not found","reason":"NotFound","details":{"name":"missing","kind":"pods"},"code":404}`)
	})
	r = httptest.NewRequest(http.MethodPost, "/some/path", strings.NewReader("x"))
	serve(t, cfg, r, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })

	evs, raw := sink.snapshot()
	if len(evs) != 2 {
		t.Fatalf("events %v", raw)
	}
	st := evs[0].ResponseStatus
	if st == nil || st.Code != 404 || st.Status != "Failure" || st.Reason != "NotFound" || st.Message != `pods "missing" not found` || st.Details == nil || st.Details.Name != "missing" {
		t.Errorf("failure status %s", raw[0])
	}
	if evs[0].ResponseObject != nil {
		t.Errorf("Metadata level recorded the response body: %s", raw[0])
	}
	if evs[1].Verb != "post" || evs[1].ObjectRef != nil || evs[1].ResponseStatus.Code != 403 || evs[1].ResponseStatus.Reason != "" {
		t.Errorf("non-resource event %s", raw[1])
	}
}

func TestFilterAnnotationsAndImpersonation(t *testing.T) {
	sink := &recordingSink{}
	r := httptest.NewRequest(http.MethodDelete, "/api/v1/namespaces/ns1/secrets/s", nil)
	serve(t, FilterConfig{Policy: policyAt(LevelMetadata, StageRequestReceived), Sink: sink}, r, func(w http.ResponseWriter, r *http.Request) {
		AddAnnotation(r.Context(), AnnotationDecision, DecisionAllow)
		AddAnnotation(r.Context(), AnnotationReason, `RBAC: allowed by ClusterRoleBinding "admin"`)
		AddAnnotation(r.Context(), AnnotationDecision, DecisionForbid) // first value wins
		SetImpersonatedUser(r.Context(), &user.Info{Name: "bob", Groups: []string{"ops"}})
	})
	evs, raw := sink.snapshot()
	if len(evs) != 1 {
		t.Fatalf("events %v", raw)
	}
	ev := evs[0]
	if ev.Verb != "delete" || ev.Annotations[AnnotationDecision] != DecisionAllow || ev.Annotations[AnnotationReason] == "" || len(ev.Annotations) != 2 {
		t.Errorf("annotations %s", raw[0])
	}
	if ev.ImpersonatedUser == nil || ev.ImpersonatedUser.Username != "bob" || ev.User.Username != "alice" {
		t.Errorf("impersonation %s", raw[0])
	}
}

func TestFilterLevelNoneAndNoSink(t *testing.T) {
	sink := &recordingSink{}
	inner := func(w http.ResponseWriter, r *http.Request) {
		AddAnnotation(r.Context(), "k", "v") // must be a no-op
		SetImpersonatedUser(r.Context(), alice)
		if _, ok := w.(http.Flusher); !ok {
			t.Error("writer lost http.Flusher")
		}
	}
	// The default policy leaves health checks out.
	rr := serve(t, FilterConfig{Sink: sink}, httptest.NewRequest(http.MethodGet, "/readyz", nil), inner)
	if rr.Header().Get(HeaderAuditID) == "" {
		t.Error("no Audit-ID for an unaudited request")
	}
	rr = serve(t, FilterConfig{}, httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil), inner)
	if rr.Header().Get(HeaderAuditID) == "" {
		t.Error("no Audit-ID without a sink")
	}
	if _, raw := sink.snapshot(); len(raw) != 0 {
		t.Errorf("events %v", raw)
	}
}

func TestFilterClientAuditID(t *testing.T) {
	tests := []struct {
		sent string
		kept bool
	}{
		{"9f1c2b3a-trace-1", true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"bad id\n", false},
	}
	for _, tt := range tests {
		sink := &recordingSink{}
		r := httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil)
		if tt.sent != "" {
			r.Header.Set(HeaderAuditID, tt.sent)
		}
		rr := serve(t, FilterConfig{Policy: policyAt(LevelMetadata, StageRequestReceived), Sink: sink}, r, func(http.ResponseWriter, *http.Request) {})
		got := rr.Header().Get(HeaderAuditID)
		if (got == tt.sent) != tt.kept || got == "" {
			t.Errorf("sent %q: header %q", tt.sent, got)
		}
		if evs, _ := sink.snapshot(); len(evs) != 1 || evs[0].AuditID != got {
			t.Errorf("sent %q: events %+v", tt.sent, evs)
		}
	}
}

func TestFilterBodies(t *testing.T) {
	const created = `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","managedFields":[{"manager":"kubectl"}]},"data":{"k":"<v>"}}`
	handler := func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, created)
	}
	post := func(body, contentType string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/ns1/configmaps", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		return r
	}
	omit := true
	tests := []struct {
		name         string
		policy       *Policy
		req          *http.Request
		wantName     string
		wantRequest  string
		wantResponse string
	}{
		{"metadata: name only", policyAt(LevelMetadata, StageRequestReceived), post(created, "application/json"), "cm", "", ""},
		{"request", policyAt(LevelRequest, StageRequestReceived), post(created, "application/json"), "cm", created, ""},
		{"request response", policyAt(LevelRequestResponse, StageRequestReceived), post(created, "application/json; charset=utf-8"), "cm", created, created},
		{"yaml body not recorded", policyAt(LevelRequestResponse, StageRequestReceived), post("kind: ConfigMap\n", "application/yaml"), "", "", created},
		{"too big", policyAt(LevelRequest, StageRequestReceived), post(`{"data":"`+strings.Repeat("x", maxBodyBytes)+`"}`, "application/json"), "", "", ""},
		{"managed fields omitted",
			&Policy{OmitStages: []Stage{StageRequestReceived}, Rules: []PolicyRule{{Level: LevelRequestResponse, OmitManagedFields: &omit}}},
			post(created, "application/json"), "cm",
			`{"apiVersion":"v1","data":{"k":"<v>"},"kind":"ConfigMap","metadata":{"name":"cm"}}`,
			`{"apiVersion":"v1","data":{"k":"<v>"},"kind":"ConfigMap","metadata":{"name":"cm"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			serve(t, FilterConfig{Policy: tt.policy, Sink: sink}, tt.req, handler)
			evs, raw := sink.snapshot()
			if len(evs) != 1 {
				t.Fatalf("events %v", raw)
			}
			ev := evs[0]
			if ev.Verb != "create" || ev.ObjectRef.Name != tt.wantName || ev.ResponseStatus.Code != 201 {
				t.Errorf("event %s", raw[0])
			}
			if string(ev.RequestObject) != tt.wantRequest {
				t.Errorf("requestObject %s, want %s", ev.RequestObject, tt.wantRequest)
			}
			if string(ev.ResponseObject) != tt.wantResponse {
				t.Errorf("responseObject %s, want %s", ev.ResponseObject, tt.wantResponse)
			}
		})
	}
}

func TestFilterPanic(t *testing.T) {
	sink := &recordingSink{}
	cfg := FilterConfig{Policy: policyAt(LevelMetadata, StageRequestReceived), Sink: sink, Logger: slog.New(slog.DiscardHandler)}
	h := Filter(cfg, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the handler's panic re-raised", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil))
	}()
	evs, raw := sink.snapshot()
	if len(evs) != 1 || evs[0].Stage != StagePanic || evs[0].ResponseStatus.Code != 500 || !strings.Contains(evs[0].ResponseStatus.Message, "boom") {
		t.Errorf("events %v", raw)
	}
}

// TestFilterWatchStages runs a watch through a real server: ResponseStarted
// when the stream starts, ResponseComplete when it ends.
func TestFilterWatchStages(t *testing.T) {
	sink := &recordingSink{}
	release := make(chan struct{})
	h := Filter(FilterConfig{Policy: policyAt(LevelRequestResponse, StageRequestReceived), Sink: sink}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, `{"type":"ADDED","object":{}}`)
	}))
	srv := httptest.NewServer(withUser(h))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/namespaces/ns1/pods?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sink.waitStages(t, StageResponseStarted)
	close(release)
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	sink.waitStages(t, StageResponseStarted, StageResponseComplete)
	evs, raw := sink.snapshot()
	if evs[0].ResponseStatus.Code != 200 || evs[1].ResponseStatus.Code != 200 || evs[1].Verb != "watch" || evs[1].ResponseObject != nil {
		t.Errorf("events %v", raw)
	}
	if resp.Header.Get(HeaderAuditID) != evs[0].AuditID {
		t.Errorf("Audit-ID %q, event %q", resp.Header.Get(HeaderAuditID), evs[0].AuditID)
	}
}

func TestFilterLogStages(t *testing.T) {
	tests := []struct {
		query string
		want  []Stage
	}{
		{"", []Stage{StageResponseComplete}},
		{"?follow=true", []Stage{StageResponseStarted, StageResponseComplete}},
	}
	for _, tt := range tests {
		sink := &recordingSink{}
		r := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/ns1/pods/p/log"+tt.query, nil)
		serve(t, FilterConfig{Policy: policyAt(LevelMetadata, StageRequestReceived), Sink: sink}, r, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "line\n")
		})
		if got := sink.stages(); !slices.Equal(got, tt.want) {
			t.Errorf("log%s: stages %v, want %v", tt.query, got, tt.want)
		}
	}
}

// TestFilterHijack upgrades an exec request to a websocket through the
// filter, as the API server's exec/attach/port-forward do.
func TestFilterHijack(t *testing.T) {
	sink := &recordingSink{}
	h := Filter(FilterConfig{Policy: policyAt(LevelMetadata, StageRequestReceived), Sink: sink}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("writer lost http.Hijacker")
		}
		up := websocket.Upgrader{}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.Close()
		AddAnnotation(r.Context(), "test/after-upgrade", "yes")
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		_ = conn.WriteMessage(typ, append([]byte("echo:"), msg...))
	}))
	srv := httptest.NewServer(withUser(h))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/namespaces/ns1/pods/p/exec?command=sh"
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	// The websocket upgrader writes its own 101 headers, without those set
	// on w: no Audit-ID to check on resp here.
	_ = resp
	if err := conn.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := conn.ReadMessage()
	if err != nil || string(msg) != "echo:hi" {
		t.Fatalf("read %q, %v", msg, err)
	}
	sink.waitStages(t, StageResponseStarted, StageResponseComplete)
	evs, raw := sink.snapshot()
	for _, ev := range evs {
		if ev.ResponseStatus.Code != http.StatusSwitchingProtocols || ev.ObjectRef.Subresource != "exec" || ev.Verb != "get" {
			t.Errorf("event %v", raw)
		}
	}
	if evs[1].Annotations["test/after-upgrade"] != "yes" {
		t.Errorf("annotation missing: %s", raw[1])
	}
}

func withUser(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(user.WithUser(r.Context(), alice)))
	})
}

func TestSourceIPs(t *testing.T) {
	tests := []struct {
		xff, realIP, remote string
		want                []string
	}{
		{"", "", "10.0.0.1:1234", []string{"10.0.0.1"}},
		{"1.1.1.1, bogus, 2.2.2.2", "", "10.0.0.1:1", []string{"1.1.1.1", "2.2.2.2", "10.0.0.1"}},
		{"1.1.1.1", "3.3.3.3", "[::1]:80", []string{"1.1.1.1", "3.3.3.3", "::1"}},
		{"10.0.0.1", "10.0.0.1", "10.0.0.1:9", []string{"10.0.0.1"}},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.realIP != "" {
			r.Header.Set("X-Real-Ip", tt.realIP)
		}
		if got := sourceIPs(r); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v", tt, got)
		}
	}
}

func TestWithoutManagedFields(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"metadata":{"name":"a","managedFields":[{}]},"n":12345678901234567890}`, `{"metadata":{"name":"a"},"n":12345678901234567890}`},
		{`{"kind":"PodList","items":[{"metadata":{"managedFields":[]}},{"metadata":{"name":"b"}}]}`, `{"items":[{"metadata":{}},{"metadata":{"name":"b"}}],"kind":"PodList"}`},
		{`{"metadata":{"name":"untouched"},  "b":1}`, `{"metadata":{"name":"untouched"},  "b":1}`},
		{`[1,2]`, `[1,2]`},
	}
	for _, tt := range tests {
		if got := string(withoutManagedFields([]byte(tt.in))); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.in, got, tt.want)
		}
	}
}
