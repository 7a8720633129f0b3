package streamproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/exec"
)

func TestSessionStatus(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus string
		wantReason metav1.StatusReason
		wantCode   int32
		wantExit   string
		wantMsg    string
	}{
		{name: "success", wantStatus: metav1.StatusSuccess},
		{name: "exit code", err: exec.CodeExitError{Err: errors.New("command terminated with exit code 7"), Code: 7},
			wantStatus: metav1.StatusFailure, wantReason: "NonZeroExitCode", wantExit: "7",
			wantMsg: "command terminated with non-zero exit code: command terminated with exit code 7"},
		{name: "wrapped exit code", err: fmt.Errorf("stream: %w", exec.CodeExitError{Err: errors.New("x"), Code: 2}), wantStatus: metav1.StatusFailure, wantReason: "NonZeroExitCode", wantExit: "2"},
		{name: "api error", err: apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "web"), wantStatus: metav1.StatusFailure, wantReason: metav1.StatusReasonNotFound, wantCode: 404, wantMsg: `pods "web" not found`},
		{name: "other", err: errors.New("dial failed"), wantStatus: metav1.StatusFailure, wantReason: metav1.StatusReasonInternalError, wantCode: 500, wantMsg: "Internal error occurred: dial failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := SessionStatus(tt.err)
			if st.Status != tt.wantStatus || st.Reason != tt.wantReason || st.Code != tt.wantCode {
				t.Errorf("status = %+v", st)
			}
			if tt.wantMsg != "" && st.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", st.Message, tt.wantMsg)
			}
			if tt.wantExit != "" {
				if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "ExitCode" || st.Details.Causes[0].Message != tt.wantExit {
					t.Errorf("details = %+v", st.Details)
				}
			}
		})
	}
}

func TestTunneledProtocols(t *testing.T) {
	got := TunneledProtocols([]string{"v4.channel.k8s.io", "SPDY/3.1+portforward.k8s.io", "SPDY/3.1+evil.example", "SPDY/3.1+v2.portforward.k8s.io"})
	if want := []string{"portforward.k8s.io", "v2.portforward.k8s.io"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if TunneledProtocols(nil) != nil {
		t.Error("no protocols must give none")
	}
}

// wsPair returns the server and client ends of a WebSocket.
func wsPair(t *testing.T) (server, client *websocket.Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		got <- c
	}))
	t.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	select {
	case server = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no server side")
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

func TestWSConnStream(t *testing.T) {
	server, client := wsPair(t)
	conn := newWSConn(server)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Write([]byte("reply")); err != nil || n != 5 {
		t.Fatalf("write = %d, %v", n, err)
	}
	typ, data, err := client.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage || string(data) != "reply" {
		t.Errorf("client read %d %q %v", typ, data, err)
	}
	for _, m := range []string{"hel", "", "lo ", "world"} {
		if err := client.WriteMessage(websocket.BinaryMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	_ = client.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "hello world" {
		t.Fatalf("read %q, %v (a normal close must be EOF)", got, err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, _, err := client.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("client did not see the normal close answering its own: %v", err)
	}
}

func TestWSConnRejectsText(t *testing.T) {
	server, client := wsPair(t)
	conn := newWSConn(server)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_ = client.WriteMessage(websocket.TextMessage, []byte("hi"))
	if _, err := conn.Read(make([]byte, 8)); !errors.Is(err, errTextMessage) {
		t.Errorf("text message read: %v", err)
	}
}

// TestTunnelRelaysRefusal: a backend that will not upgrade answers the
// client over plain HTTP, before any WebSocket exists.
func TestTunnelRelaysRefusal(t *testing.T) {
	var sawUpgrade, sawProtocols string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawUpgrade, sawProtocols = r.Header.Get("Upgrade"), strings.Join(r.Header.Values("X-Stream-Protocol-Version"), ",")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"kind":"Status","message":"pod does not exist"}`)
	}))
	defer backend.Close()
	loc, _ := url.Parse(backend.URL + "/portForward/ns/p")
	front := httptest.NewServer(&Tunnel{Location: loc, Error: func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}})
	defer front.Close()

	dialer := websocket.Dialer{Subprotocols: []string{"SPDY/3.1+portforward.k8s.io"}}
	_, resp, err := dialer.Dial("ws"+strings.TrimPrefix(front.URL, "http"), nil)
	if err == nil {
		t.Fatal("websocket accepted although the backend refused")
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "pod does not exist") {
		t.Errorf("client got %d %s", resp.StatusCode, body)
	}
	if sawUpgrade != "SPDY/3.1" || sawProtocols != "portforward.k8s.io" {
		t.Errorf("backend saw Upgrade %q protocols %q", sawUpgrade, sawProtocols)
	}

	// No tunnelling protocol at all: 400 without touching the backend.
	sawUpgrade = ""
	_, resp, err = (&websocket.Dialer{Subprotocols: []string{"v4.channel.k8s.io"}}).Dial("ws"+strings.TrimPrefix(front.URL, "http"), nil)
	if err == nil || resp.StatusCode != http.StatusBadRequest || sawUpgrade != "" {
		t.Errorf("no tunnelling protocol: err %v, status %v, backend saw %q", err, resp, sawUpgrade)
	}
}

// TestTunnelSplices runs a tunnel against a backend that upgrades and
// echoes, checking the bytes the backend sent right after its 101 arrive.
func TestTunnelSplices(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\nhello:")
		_ = brw.Flush()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(conn, brw)
	}))
	defer backend.Close()
	loc, _ := url.Parse(backend.URL + "/portForward/ns/p")
	front := httptest.NewServer(&Tunnel{Location: loc, Error: func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}})
	defer front.Close()

	dialer := websocket.Dialer{Subprotocols: []string{"SPDY/3.1+portforward.k8s.io"}}
	ws, _, err := dialer.Dial("ws"+strings.TrimPrefix(front.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ws.Subprotocol() != "SPDY/3.1+portforward.k8s.io" {
		t.Errorf("subprotocol = %q", ws.Subprotocol())
	}
	conn := newWSConn(ws)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("hello:ping"))
	if _, err := io.ReadFull(bufio.NewReader(conn), got); err != nil || string(got) != "hello:ping" {
		t.Fatalf("read %q, %v", got, err)
	}
}

func TestSplicePropagatesClose(t *testing.T) {
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- splice(a2, b1, b1) }()
	_ = a1.Close() // the client goes away
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("splice = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("splice did not end when the client closed")
	}
	if _, err := b2.Write([]byte("x")); err == nil {
		t.Error("backend still open after the client closed")
	}
}

// TestTunnelHandshakeEndsWithContext checks that a backend accepting the
// connection but never answering the upgrade does not hold the handshake
// once the request's context ends.
func TestTunnelHandshakeEndsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		// Read the upgrade request (so the client is waiting for the
		// answer), then hold the connection open without answering.
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			c.Close()
			return
		}
		accepted <- c
	}()
	tun := &Tunnel{Location: &url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/portForward/ns/p"}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		conn, _, _, err := tun.dialSPDY(ctx, []string{"portforward.k8s.io"})
		if conn != nil {
			conn.Close()
		}
		errc <- err
	}()
	// Cancel only once the backend has the request, so that the wait for
	// the answer, not the dial, is what the context must end.
	select {
	case c := <-accepted:
		t.Cleanup(func() { c.Close() })
	case <-time.After(30 * time.Second):
		t.Fatal("the backend never received the upgrade request")
	}
	cancel()
	select {
	case err := <-errc:
		t.Logf("dialSPDY: %v", err)
		if err == nil {
			t.Fatal("dialSPDY succeeded against a silent backend")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dialSPDY still blocked 30s after its context ended")
	}
}

// TestTunnelWithoutErrorFunc checks that a Tunnel without an Error
// function answers an unreachable backend with 503 instead of panicking.
func TestTunnelWithoutErrorFunc(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	front := httptest.NewServer(&Tunnel{Location: &url.URL{Scheme: "http", Host: addr, Path: "/portForward/ns/p"}})
	t.Cleanup(front.Close)
	req, _ := http.NewRequest(http.MethodGet, front.URL, nil)
	req.Header.Set("Sec-WebSocket-Protocol", "SPDY/3.1+portforward.k8s.io")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", resp.StatusCode)
	}
}
