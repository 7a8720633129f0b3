package apiserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/skiff-io/skiff/internal/agent/agentserver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
)

func noLogs(context.Context, agentserver.LogRequest, io.Writer) error { return nil }

// executors builds the two ways kubectl runs a session: WebSocket
// (v5.channel.k8s.io, translated by the API server) and SPDY (proxied).
func (e *streamEnv) executors(t *testing.T, pod, sub, query string) map[string]remotecommand.Executor {
	t.Helper()
	raw := e.podURL(pod, sub, query)
	u, _ := url.Parse(raw)
	ws, err := remotecommand.NewWebSocketExecutor(e.config, http.MethodGet, raw)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := remotecommand.NewSPDYExecutor(e.config, http.MethodPost, u)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]remotecommand.Executor{"websocket": ws, "spdy": sp}
}

func streamCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestExecEcho(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	payload := bytes.Repeat([]byte("stdin data "), 50000) // larger than any single frame
	for name, ex := range env.executors(t, "web", "exec", "command=echo&stdin=true&stdout=true&stderr=true") {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := ex.StreamWithContext(streamCtx(t), remotecommand.StreamOptions{Stdin: bytes.NewReader(payload), Stdout: &stdout, Stderr: &stderr})
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if !bytes.Equal(stdout.Bytes(), payload) {
				t.Errorf("stdout: got %d bytes, want %d", stdout.Len(), len(payload))
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q", stderr.String())
			}
		})
	}
}

func TestExecExitCode(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	for name, ex := range env.executors(t, "web", "exec", "command=fail&command=3&stdout=true&stderr=true") {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := ex.StreamWithContext(streamCtx(t), remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
			var exitErr exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 {
				t.Fatalf("err = %v (%T), want exit code 3", err, err)
			}
			if stderr.String() != "oops" {
				t.Errorf("stderr = %q", stderr.String())
			}
		})
	}
}

func TestExecRuntimeFailure(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	for name, ex := range env.executors(t, "web", "exec", "command=broken&stdout=true") {
		t.Run(name, func(t *testing.T) {
			err := ex.StreamWithContext(streamCtx(t), remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard})
			if err == nil || !strings.Contains(err.Error(), "runtime exploded") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestExecTTYResize(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	for name, ex := range env.executors(t, "web", "exec", "command=size&stdin=true&stdout=true&tty=true") {
		t.Run(name, func(t *testing.T) {
			sizes := make(chan remotecommand.TerminalSize, 1)
			sizes <- remotecommand.TerminalSize{Width: 120, Height: 40}
			var stdout bytes.Buffer
			stdinR, stdinW := io.Pipe()
			defer stdinW.Close()
			err := ex.StreamWithContext(streamCtx(t), remotecommand.StreamOptions{
				Stdin: stdinR, Stdout: &stdout, Tty: true, TerminalSizeQueue: chanSizes(sizes),
			})
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if stdout.String() != "120x40" {
				t.Errorf("stdout = %q", stdout.String())
			}
		})
	}
}

type chanSizes chan remotecommand.TerminalSize

func (c chanSizes) Next() *remotecommand.TerminalSize {
	s, ok := <-c
	if !ok {
		return nil
	}
	return &s
}

func TestAttach(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	for name, ex := range env.executors(t, "multi", "attach", "container=b&stdin=true&stdout=true") {
		t.Run(name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := ex.StreamWithContext(streamCtx(t), remotecommand.StreamOptions{Stdin: strings.NewReader("attached"), Stdout: &stdout, Stderr: io.Discard})
			if err != nil || stdout.String() != "attached" {
				t.Fatalf("stdout = %q, err = %v", stdout.String(), err)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	tests := []struct {
		name, pod, query string
		wantCode         int32
		wantMsg          string
	}{
		{name: "unscheduled", pod: "pending", query: "command=echo&stdout=true", wantCode: 400, wantMsg: "pod pending does not have a host assigned"},
		{name: "container must be named", pod: "multi", query: "command=echo&stdout=true", wantCode: 400, wantMsg: "a container name must be specified for pod multi, choose one of: [setup a b]"},
		{name: "unknown container", pod: "web", query: "command=echo&stdout=true&container=x", wantCode: 400, wantMsg: "container x is not valid for pod web"},
		{name: "no such pod", pod: "nope", query: "command=echo&stdout=true", wantCode: 404, wantMsg: `pods "nope" not found`},
		{name: "agent: container not running", pod: "stopped", query: "command=echo&stdout=true", wantCode: 404, wantMsg: `container "app" in pod "stopped" is not running`},
	}
	for _, tt := range tests {
		for name, ex := range env.executors(t, tt.pod, "exec", tt.query) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				err := ex.StreamWithContext(streamCtx(t), remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard})
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v, want %q", err, tt.wantMsg)
				}
				// Both the proxied SPDY answer and the translated error
				// channel carry the Status through.
				var st apierrors.APIStatus
				if errors.As(err, &st) && st.Status().Code != tt.wantCode && st.Status().Code != 0 {
					t.Errorf("code = %d, want %d", st.Status().Code, tt.wantCode)
				}
			})
		}
	}
}

func TestExecNeedsUpgrade(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	resp, err := http.Post(env.podURL("web", "exec", "command=ls&stdout=true"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Upgrade request required") {
		t.Errorf("plain POST exec = %d %s", resp.StatusCode, body)
	}
}

// forward runs a port-forward through the API server with dialer and
// returns what a connection to the local port reads back after sending
// msg.
func forward(t *testing.T, d httpstream.Dialer, msg string) string {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	defer close(stop)
	var out, errOut bytes.Buffer
	pf, err := portforward.NewOnAddresses(d, []string{"127.0.0.1"}, []string{"0:8080"}, stop, ready, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("port-forward ended before it was ready: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("port-forward not ready after 20s")
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) != 1 {
		t.Fatalf("ports = %v, %v", ports, err)
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, msg); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading forwarded connection: %v (errOut %q)", err, errOut.String())
	}
	return string(got)
}

func TestPortForward(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	u, _ := url.Parse(env.podURL("web", "portforward", ""))
	transport, upgrader, err := spdy.RoundTripperFor(env.config)
	if err != nil {
		t.Fatal(err)
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	tunnelDialer, err := portforward.NewSPDYOverWebsocketDialer(u, env.config)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]httpstream.Dialer{"spdy": spdyDialer, "websocket tunnel": tunnelDialer} {
		t.Run(name, func(t *testing.T) {
			if got := forward(t, d, "ping"); got != "port 8080: ping" {
				t.Errorf("forwarded connection read %q", got)
			}
		})
	}
}

func TestPortForwardErrors(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	for pod, want := range map[string]string{"pending": "pod pending does not have a host assigned", "nope": `pods "nope" not found`} {
		u, _ := url.Parse(env.podURL(pod, "portforward", ""))
		d, err := portforward.NewSPDYOverWebsocketDialer(u, env.config)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.Dial(portforward.PortForwardProtocolV1Name); err == nil || !strings.Contains(err.Error(), "unable to upgrade") && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: dial err = %v", pod, err)
		}
	}
	resp, err := http.Get(env.podURL("web", "portforward", "ports=http"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("named port: %d, want 400", resp.StatusCode)
	}
}

// TestLegacyWebSocketPassesThrough: WebSocket clients of the older
// channel protocols are proxied to the runtime, which speaks them.
func TestLegacyWebSocketPassesThrough(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	dialer := websocket.Dialer{Subprotocols: []string{"v4.channel.k8s.io"}, HandshakeTimeout: 10 * time.Second}
	wsURL := "ws" + strings.TrimPrefix(env.podURL("web", "exec", "command=ls&command=-l&stdout=true"), "http")
	ws, _, err := dialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ws.Subprotocol() != "v4.channel.k8s.io" {
		t.Errorf("subprotocol = %q", ws.Subprotocol())
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := ws.ReadMessage()
	if err != nil || string(msg) != "\x01legacy websocket: ls -l" {
		t.Errorf("message = %q, %v", msg, err)
	}
}
