package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// server holds the echo server's state; its dependencies on the process
// (environment, exit) are fields so tests can replace them.
type server struct {
	hostname string
	getenv   func(string) string
	environ  func() []string
	exit     func(code int)
	log      *slog.Logger

	// failing is set by /fail and makes /healthz answer 500.
	failing atomic.Bool
}

// handler routes the server's endpoints; "/" catches every other path.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.echo)
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/fail", s.fail)
	mux.HandleFunc("/env", s.env)
	mux.HandleFunc("/exit", s.exitHandler)
	return s.logged(mux)
}

// logged logs every request.
func (s *server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "client", r.RemoteAddr)
		h.ServeHTTP(w, r)
	})
}

func (s *server) echo(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, echoBody(s.hostname, r.Method, r.URL.Path, r.RemoteAddr, s.getenv))
}

// echoBody is the "/" response: one key=value per line, message only when
// MESSAGE is set.
func echoBody(hostname, method, path, client string, getenv func(string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hostname=%s\nmethod=%s\npath=%s\nversion=%s\nclient=%s\n",
		hostname, method, path, getenv("VERSION"), client)
	if msg := getenv("MESSAGE"); msg != "" {
		fmt.Fprintf(&b, "message=%s\n", msg)
	}
	return b.String()
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	if s.failing.Load() {
		writeText(w, http.StatusInternalServerError, "failing\n")
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

func (s *server) fail(w http.ResponseWriter, _ *http.Request) {
	s.failing.Store(true)
	s.log.Info("healthz will fail from now on")
	writeText(w, http.StatusOK, "healthz will now fail\n")
}

func (s *server) env(w http.ResponseWriter, _ *http.Request) {
	env := slices.Sorted(slices.Values(s.environ()))
	writeText(w, http.StatusOK, strings.Join(env, "\n")+"\n")
}

// exitHandler answers and flushes the response, then exits with the code
// given by the "code" query parameter.
func (s *server) exitHandler(w http.ResponseWriter, r *http.Request) {
	code, err := parseExitCode(r.URL.Query().Get("code"))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error()+"\n")
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("exiting with code %d\n", code))
	if err := http.NewResponseController(w).Flush(); err != nil {
		s.log.Warn("flushing the exit response", "err", err)
	}
	s.log.Info("exiting on request", "code", code)
	s.exit(code)
}

// parseExitCode reads an exit status 0-255; empty means 0.
func parseExitCode(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	code, err := strconv.Atoi(v)
	if err != nil || code < 0 || code > 255 {
		return 0, fmt.Errorf("code must be an integer from 0 to 255, got %q", v)
	}
	return code, nil
}

// writeText writes a plain-text response with an explicit length.
func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
