package ingress

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

// rawExchange writes raw to a fresh connection to url's host and reads
// n responses (for the request methods in methods, HEAD having no body).
func rawExchange(t *testing.T, url, raw string, methods ...string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("response %d: %v", len(out)+1, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", len(out)+1, err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// TestFrontConnection sends requests on one connection, some the Front
// answers itself, some that make it hand the connection to net/http,
// and wants every answer right and in order.
func TestFrontConnection(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Proto+" "+string(b)+" xff="+r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(echo.Close)
	addr := strings.TrimPrefix(echo.URL, "http://")
	tests := []struct {
		name    string
		raw     string
		methods []string
		want    []string
	}{
		{"pipelined", "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyzHEAD /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n",
			[]string{"GET", "POST", "HEAD", "GET"},
			[]string{"GET /a HTTP/1.1  xff=127.0.0.1", "POST /b HTTP/1.1 xyz xff=127.0.0.1", "", "GET /d HTTP/1.1  xff=127.0.0.1"}},
		{"then HTTP/1.0", "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n",
			[]string{"GET", "GET", "GET"},
			[]string{"GET /a HTTP/1.1  xff=127.0.0.1", "GET /b HTTP/1.1  xff=127.0.0.1", "GET /c HTTP/1.1  xff=127.0.0.1"}},
		{"percent-encoded path", "GET /a%20b HTTP/1.1\r\nHost: h\r\n\r\n", []string{"GET"}, []string{"GET /a b HTTP/1.1  xff=127.0.0.1"}},
		{"chunked request body", "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /q HTTP/1.1\r\nHost: h\r\n\r\n",
			[]string{"POST", "GET"}, []string{"POST /p HTTP/1.1 abc xff=127.0.0.1", "GET /q HTTP/1.1  xff=127.0.0.1"}},
		{"bare LF", "GET /lf HTTP/1.1\nHost: h\n\n", []string{"GET"}, []string{"GET /lf HTTP/1.1  xff=127.0.0.1"}},
		{"large body", "PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 200000\r\n\r\n" + strings.Repeat("z", 200000), []string{"PUT"},
			[]string{"PUT /big HTTP/1.1 " + strings.Repeat("z", 200000) + " xff=127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := front(t, modeFront, addr)
			resps := rawExchange(t, url, tt.raw, tt.methods...)
			for i, r := range resps {
				if r.StatusCode != 200 || bodyOf(r) != tt.want[i] {
					t.Errorf("response %d: %d %q, want %q", i+1, r.StatusCode, bodyOf(r), tt.want[i])
				}
			}
		})
	}
}

// TestFrontOwnResponses compares the Front's 404, 503 and 400 answers
// with net/http's.
func TestFrontOwnResponses(t *testing.T) {
	raw := "GET /x HTTP/1.1\r\nHost: nowhere\r\n\r\nGET /y HTTP/1.1\r\nHost: down\r\n\r\nGET /z HTTP/1.1\r\n\r\n"
	methods := []string{"GET", "GET", "GET"}
	var got [2][]string
	for i, mode := range []proxyMode{modeLean, modeFront} {
		url, p := front(t, mode, "127.0.0.1:1")
		tbl, _ := Build(Snapshot{Ingresses: []*networkingv1.Ingress{ing("down", 0, "down",
			path{networkingv1.PathTypePrefix, "/", "nosvc"})}})
		p.SetTable(tbl)
		for _, r := range rawExchange(t, url, raw, methods...) {
			got[i] = append(got[i], r.Status+" "+r.Header.Get("Content-Type")+" "+bodyOf(r))
		}
	}
	if strings.Join(got[0], "|") != strings.Join(got[1], "|") {
		t.Errorf("net/http: %q\nFront:    %q", got[0], got[1])
	}
	if !strings.HasPrefix(got[1][0], "404") || !strings.HasPrefix(got[1][1], "503") || !strings.HasPrefix(got[1][2], "400") {
		t.Errorf("statuses %q", got[1])
	}
}

// TestFrontShutdownFinishesRequests: a request in flight completes, the
// idle connection is closed.
func TestFrontShutdownFinishesRequests(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		io.WriteString(w, "done")
	}))
	t.Cleanup(slow.Close)
	p := NewProxy(nil)
	p.SetTable(&Table{defaultBackend: &Backend{Name: "b", Endpoints: []string{strings.TrimPrefix(slow.URL, "http://")}}})
	t.Cleanup(p.CloseIdleConnections)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFront(p, &http.Server{Handler: p})
	served := make(chan error, 1)
	go func() { served <- f.Serve(ln) }()
	client := newClient(t)
	if o := fetch(t, client, "GET", "http://"+ln.Addr().String()+"/fast", nil, nil); o.body != "done" {
		t.Fatalf("%+v", o)
	}
	result := make(chan outcome, 1)
	go func() { result <- fetch(t, newClient(t), "GET", "http://"+ln.Addr().String()+"/slow", nil, nil) }()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("slow request never arrived")
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shut <- f.Shutdown(ctx)
	}()
	close(release)
	if o := <-result; o.err || o.body != "done" {
		t.Errorf("in-flight request: %+v", o)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestFrontReqParse(t *testing.T) {
	tests := []struct {
		name string
		head string
		ok   bool
		want string // method uri host path length close kept-lines
	}{
		{"plain", "GET /a/b?x=%2F HTTP/1.1\r\nHost: Demo.example.com\r\nUser-Agent: u\r\n\r\n", true,
			"GET /a/b?x=%2F Demo.example.com /a/b 0 false [User-Agent: u]"},
		{"body and close", "POST /p HTTP/1.1\r\nhost: h:8080\r\ncontent-length: 12\r\nConnection: close\r\nX-A: 1\r\n\r\n", true,
			"POST /p h:8080 /p 12 true [X-A: 1]"},
		{"hop-by-hop and forwarding dropped", "GET / HTTP/1.1\r\nHost: h\r\nKeep-Alive: 5\r\nProxy-Authorization: x\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=x\r\nConnection: keep-alive\r\n\r\n", true,
			"GET / h / 0 false []"},
		{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\n\r\n", false, ""},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", false, ""},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false, ""},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", false, ""},
		{"two lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", false, ""},
		{"signed length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", false, ""},
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", false, ""},
		{"upgrade", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false, ""},
		{"connection names a header", "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Foo\r\n\r\n", false, ""},
		{"expect", "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", false, ""},
		{"percent in path", "GET /a%20b HTTP/1.1\r\nHost: h\r\n\r\n", false, ""},
		{"absolute form", "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", false, ""},
		{"CONNECT", "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", false, ""},
		{"control byte in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n", false, ""},
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", false, ""},
		{"folded line", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", false, ""},
	}
	for _, tt := range tests {
		var rq frontReq
		rq.head = []byte(tt.head)
		ok := rq.parse()
		if ok != tt.ok {
			t.Errorf("%s: ok %v, want %v", tt.name, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		var kept []string
		for _, s := range rq.keep {
			kept = append(kept, strings.TrimSuffix(string(rq.head[s.from:s.to]), "\r\n"))
		}
		got := fmt.Sprintf("%s %s %s %s %d %v %v", rq.method, rq.uri, rq.host, rq.path, rq.length, rq.close, kept)
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestFrontIdleTimeout: an idle client connection is closed after the
// server's IdleTimeout.
func TestFrontIdleTimeout(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(echo.Close)
	p := NewProxy(nil)
	p.SetTable(&Table{defaultBackend: &Backend{Name: "b", Endpoints: []string{strings.TrimPrefix(echo.URL, "http://")}}})
	t.Cleanup(p.CloseIdleConnections)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFront(p, &http.Server{Handler: p, IdleTimeout: 300 * time.Millisecond})
	go f.Serve(ln)
	t.Cleanup(func() { f.Shutdown(context.Background()) })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || bodyOf(resp) != "ok" {
		t.Fatalf("%v %v", resp, err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang fails the test
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
}
