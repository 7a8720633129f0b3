package audit

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// auditWriter notes the response's status code (emitting ResponseStarted
// for long-running requests) and keeps the body when it is needed: at
// RequestResponse, or to read the Status of a failure. Its methods run on
// the handler's goroutine, as http.ResponseWriter's do.
type auditWriter struct {
	http.ResponseWriter
	rec         *record
	level       Level
	longRunning bool
	now         func() time.Time
	fillRequest func(*Event)

	code int // 0 until the response headers are sent
	body *capture
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// full duplex).
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteHeader implements http.ResponseWriter.
func (w *auditWriter) WriteHeader(code int) {
	w.noteCode(code)
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *auditWriter) Write(p []byte) (int, error) {
	w.noteCode(http.StatusOK)
	if w.body != nil {
		w.body.write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *auditWriter) noteCode(code int) {
	// 1xx other than 101 are interim headers, not the response.
	if w.code != 0 || (code < 200 && code != http.StatusSwitchingProtocols) {
		return
	}
	w.code = code
	if !w.longRunning && isJSON(w.Header().Get("Content-Type")) {
		switch {
		case w.level.AtLeast(LevelRequestResponse):
			w.body = &capture{limit: maxBodyBytes}
		case code >= 400:
			w.body = &capture{limit: maxStatusBytes}
		}
	}
	if w.longRunning {
		w.rec.emit(StageResponseStarted, metav1.NewMicroTime(w.now()), func(ev *Event) {
			w.fillRequest(ev)
			ev.ResponseStatus = &metav1.Status{Code: int32(code)}
		})
	}
}

func (w *auditWriter) flush() {
	// Flushing sends the headers: 200 unless WriteHeader said otherwise.
	w.noteCode(http.StatusOK)
	w.ResponseWriter.(http.Flusher).Flush()
}

func (w *auditWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err == nil {
		// The upgrade handler writes "101 Switching Protocols" on the raw
		// connection itself.
		w.noteCode(http.StatusSwitchingProtocols)
	}
	return conn, rw, err
}

// The wrappers offer http.Flusher and http.Hijacker exactly when the
// underlying writer does, so handlers that type-assert (watch, the
// upgrade-aware proxy, websocket upgrades) behave as without auditing.
type (
	flushWriter       struct{ *auditWriter }
	hijackWriter      struct{ *auditWriter }
	flushHijackWriter struct{ *auditWriter }
)

// Flush implements http.Flusher.
func (w flushWriter) Flush() { w.flush() }

// Hijack implements http.Hijacker.
func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

// Flush implements http.Flusher.
func (w flushHijackWriter) Flush() { w.flush() }

// Hijack implements http.Hijacker.
func (w flushHijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

func wrapWriter(w *auditWriter) http.ResponseWriter {
	_, flusher := w.ResponseWriter.(http.Flusher)
	_, hijacker := w.ResponseWriter.(http.Hijacker)
	switch {
	case flusher && hijacker:
		return flushHijackWriter{w}
	case flusher:
		return flushWriter{w}
	case hijacker:
		return hijackWriter{w}
	}
	return w
}

// sourceIPs lists X-Forwarded-For, then X-Real-Ip, then the remote
// address, skipping unparsable entries and repeats of the previous one.
func sourceIPs(r *http.Request) []string {
	var ips []string
	add := func(s string) {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return
		}
		if v := ip.String(); len(ips) == 0 || ips[len(ips)-1] != v {
			ips = append(ips, v)
		}
	}
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(h, ",") {
			add(part)
		}
	}
	add(r.Header.Get("X-Real-Ip"))
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	add(host)
	return ips
}
