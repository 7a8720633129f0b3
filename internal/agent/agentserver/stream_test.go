package agentserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

func resolver(calls *[]string) func(ctx context.Context, ns, pod, container string) (string, string, error) {
	return func(_ context.Context, ns, pod, container string) (string, string, error) {
		*calls = append(*calls, ns+"/"+pod+"/"+container)
		if pod == "missing" {
			return "", "", fmt.Errorf("pod %s/%s: %w", ns, pod, ErrNotFound)
		}
		if container == "waiting" {
			return "", "", fmt.Errorf("container %q in pod %q is waiting to start: %w", container, pod, ErrBadRequest)
		}
		return "ctr-" + container, "sandbox-" + pod, nil
	}
}

func TestExecProxiesUpgrade(t *testing.T) {
	echo, upstream := newUpgradeEcho(t)
	rt := &fakeRuntime{url: upstream.URL}
	var calls []string
	agent := httptest.NewServer(New(Config{Runtime: rt, Resolve: resolver(&calls)}))
	defer agent.Close()

	resp, conn, br := upgrade(t, agent.Listener.Addr().String(), "POST", "/exec/ns1/web/app?command=sh&command=-c&command=echo+hi&input=1&output=1&error=1")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Stream-Protocol-Version"); got != "v4.channel.k8s.io" {
		t.Errorf("negotiated protocol header = %q", got)
	}
	if _, err := io.WriteString(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v", buf, err)
	}

	up := <-echo.got
	if up.URL.Path != "/exec/tok" || !strings.EqualFold(up.Header.Get("Upgrade"), "SPDY/3.1") || up.Header.Get("X-Stream-Protocol-Version") != "v4.channel.k8s.io" {
		t.Errorf("upstream saw %s %s %v", up.Method, up.URL, up.Header)
	}
	if !slices.Equal(calls, []string{"ns1/web/app"}) {
		t.Errorf("Resolve calls = %v", calls)
	}
	req, _, _ := rt.requests()
	if req.ContainerId != "ctr-app" || !slices.Equal(req.Cmd, []string{"sh", "-c", "echo hi"}) || !req.Stdin || !req.Stdout || !req.Stderr || req.Tty {
		t.Errorf("CRI exec request = %+v", req)
	}
}

func TestAttachAndPortForward(t *testing.T) {
	echo, upstream := newUpgradeEcho(t)
	rt := &fakeRuntime{url: upstream.URL}
	var calls []string
	agent := httptest.NewServer(New(Config{Runtime: rt, Resolve: resolver(&calls)}))
	defer agent.Close()

	resp, _, _ := upgrade(t, agent.Listener.Addr().String(), "GET", "/attach/ns1/web/app?input=1&output=1&error=1&tty=1")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("attach status %d", resp.StatusCode)
	}
	if up := <-echo.got; up.URL.Path != "/attach/tok" {
		t.Errorf("attach upstream path %q", up.URL.Path)
	}
	if _, a, _ := rt.requests(); a.ContainerId != "ctr-app" || !a.Tty || !a.Stdin || !a.Stdout || a.Stderr {
		t.Errorf("CRI attach request = %+v (a TTY merges stderr)", a)
	}

	resp, _, _ = upgrade(t, agent.Listener.Addr().String(), "POST", "/portForward/ns1/web?port=8080,9090")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("port-forward status %d", resp.StatusCode)
	}
	if up := <-echo.got; up.URL.Path != "/portforward/tok" {
		t.Errorf("port-forward upstream path %q", up.URL.Path)
	}
	if _, _, pf := rt.requests(); pf.PodSandboxId != "sandbox-web" || !slices.Equal(pf.Port, []int32{8080, 9090}) {
		t.Errorf("CRI port-forward request = %+v", pf)
	}
	if !slices.Equal(calls, []string{"ns1/web/app", "ns1/web/"}) {
		t.Errorf("Resolve calls = %v", calls)
	}
}

func TestStreamErrors(t *testing.T) {
	_, upstream := newUpgradeEcho(t)
	tests := []struct {
		name       string
		runtimeErr error
		method     string
		path       string
		noUpgrade  bool
		wantCode   int
		wantReason string
		wantMsg    string
	}{
		{name: "no streams", path: "/exec/ns/web/app?command=ls", wantCode: 400, wantMsg: "you must specify at least 1 of stdin, stdout, stderr"},
		{name: "pod missing", path: "/exec/ns/missing/app?command=ls&output=1", wantCode: 404, wantReason: "NotFound", wantMsg: "pod ns/missing: not found"},
		{name: "container waiting", path: "/attach/ns/web/waiting?output=1", wantCode: 400, wantReason: "BadRequest"},
		{name: "runtime not found", runtimeErr: grpcstatus.Error(codes.NotFound, "container gone"), path: "/exec/ns/web/app?command=ls&output=1", wantCode: 404, wantMsg: "container gone"},
		{name: "runtime failure", runtimeErr: fmt.Errorf("boom"), path: "/exec/ns/web/app?command=ls&output=1", wantCode: 500, wantMsg: "boom"},
		{name: "bad port", path: "/portForward/ns/web?port=0", wantCode: 400, wantMsg: `port "0" must be > 0`},
		{name: "not an upgrade", path: "/exec/ns/web/app?command=ls&output=1", noUpgrade: true, wantCode: 400, wantMsg: "Upgrade request required"},
		{name: "method", method: "PUT", path: "/exec/ns/web/app?command=ls&output=1", noUpgrade: true, wantCode: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			agent := httptest.NewServer(New(Config{Runtime: &fakeRuntime{url: upstream.URL, err: tt.runtimeErr}, Resolve: resolver(&calls)}))
			defer agent.Close()
			method := tt.method
			if method == "" {
				method = "POST"
			}
			var resp *http.Response
			if tt.noUpgrade {
				req, _ := http.NewRequest(method, agent.URL+tt.path, nil)
				var err error
				if resp, err = http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
			} else {
				resp, _, _ = upgrade(t, agent.Listener.Addr().String(), method, tt.path)
			}
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if tt.wantCode == http.StatusMethodNotAllowed {
				return
			}
			st := decodeStatus(t, resp.Body)
			if int(st.Code) != tt.wantCode || (tt.wantReason != "" && string(st.Reason) != tt.wantReason) || !strings.Contains(st.Message, tt.wantMsg) {
				t.Errorf("Status = %+v", st)
			}
		})
	}
}

func TestSessionURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:3456/exec/abc": true,
		"https://[::1]:1/x":              true,
		"/exec/abc":                      false,
		"unix:///run/x.sock":             false,
		"http://%zz":                     false,
	} {
		if _, err := sessionURL(raw); (err == nil) != ok {
			t.Errorf("sessionURL(%q) err = %v, want ok=%v", raw, err, ok)
		}
	}
}
