package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
)

// testServer returns a server with a fixed environment whose exit records
// the requested codes.
func testServer(env map[string]string, exits *[]int) *server {
	return &server{
		hostname: "pod-a",
		getenv:   func(k string) string { return env[k] },
		environ: func() []string {
			var out []string
			for k, v := range env {
				out = append(out, k+"="+v)
			}
			return out
		},
		exit: func(code int) { *exits = append(*exits, code) },
		log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func TestHandler(t *testing.T) {
	type step struct {
		method, target string
		wantStatus     int
		wantBody       string
	}
	tests := []struct {
		name      string
		env       map[string]string
		steps     []step
		wantExits []int
	}{
		{
			name: "echo with version and message",
			env:  map[string]string{"VERSION": "2.0", "MESSAGE": "hello"},
			steps: []step{{
				method: "POST", target: "/some/path?q=1", wantStatus: 200,
				wantBody: "hostname=pod-a\nmethod=POST\npath=/some/path\nversion=2.0\nclient=192.0.2.1:1234\nmessage=hello\n",
			}},
		},
		{
			name: "echo without message",
			env:  map[string]string{"VERSION": "1.0"},
			steps: []step{{
				method: "GET", target: "/", wantStatus: 200,
				wantBody: "hostname=pod-a\nmethod=GET\npath=/\nversion=1.0\nclient=192.0.2.1:1234\n",
			}},
		},
		{
			name: "healthz fails after /fail",
			steps: []step{
				{method: "GET", target: "/healthz", wantStatus: 200, wantBody: "ok\n"},
				{method: "GET", target: "/fail", wantStatus: 200, wantBody: "healthz will now fail\n"},
				{method: "GET", target: "/healthz", wantStatus: 500, wantBody: "failing\n"},
				{method: "GET", target: "/healthz", wantStatus: 500, wantBody: "failing\n"},
			},
		},
		{
			name:  "env sorted",
			env:   map[string]string{"B": "2", "A": "1", "C": "x=y"},
			steps: []step{{method: "GET", target: "/env", wantStatus: 200, wantBody: "A=1\nB=2\nC=x=y\n"}},
		},
		{
			name:      "exit with code",
			steps:     []step{{method: "GET", target: "/exit?code=3", wantStatus: 200, wantBody: "exiting with code 3\n"}},
			wantExits: []int{3},
		},
		{
			name:      "exit without code",
			steps:     []step{{method: "GET", target: "/exit", wantStatus: 200, wantBody: "exiting with code 0\n"}},
			wantExits: []int{0},
		},
		{
			name: "exit with a bad code does not exit",
			steps: []step{{
				method: "GET", target: "/exit?code=256", wantStatus: 400,
				wantBody: "code must be an integer from 0 to 255, got \"256\"\n",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var exits []int
			h := testServer(tt.env, &exits).handler()
			for _, st := range tt.steps {
				req := httptest.NewRequest(st.method, st.target, nil)
				req.RemoteAddr = "192.0.2.1:1234"
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != st.wantStatus || rec.Body.String() != st.wantBody {
					t.Errorf("%s %s = %d %q, want %d %q", st.method, st.target, rec.Code, rec.Body.String(), st.wantStatus, st.wantBody)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("%s %s: Content-Type %q", st.method, st.target, ct)
				}
			}
			if len(exits) != len(tt.wantExits) || (len(exits) > 0 && exits[0] != tt.wantExits[0]) {
				t.Errorf("exit calls %v, want %v", exits, tt.wantExits)
			}
		})
	}
}

func TestParseExitCode(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "", want: 0},
		{in: "0", want: 0},
		{in: "42", want: 42},
		{in: "255", want: 255},
		{in: "256", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseExitCode(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseExitCode(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
