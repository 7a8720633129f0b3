package ingress

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// proxyMode is the way a test proxy serves: httputil.ReverseProxy for
// everything, the lean forwarder behind net/http's server, or the Front.
type proxyMode int

const (
	modeReverseProxy proxyMode = iota
	modeLean
	modeFront
)

func (m proxyMode) String() string { return [...]string{"ReverseProxy", "lean", "Front"}[m] }

// leanModes are the modes taking the lean forwarder.
func leanModes() []proxyMode { return []proxyMode{modeLean, modeFront} }

// front serves a proxy in mode with one endpoint.
func front(t testing.TB, mode proxyMode, endpoint string) (string, *Proxy) {
	t.Helper()
	p := NewProxy(nil)
	p.leanOff = mode == modeReverseProxy
	p.SetTable(&Table{defaultBackend: &Backend{Name: "b", Endpoints: []string{endpoint}}})
	t.Cleanup(p.CloseIdleConnections)
	if mode == modeFront {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f := NewFront(p, &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute})
		served := make(chan error, 1)
		go func() { served <- f.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := f.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
			if err := <-served; err != http.ErrServerClosed {
				t.Errorf("Serve: %v", err)
			}
		})
		return "http://" + ln.Addr().String(), p
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL, p
}

// rawBackend answers each request on a connection with respond's bytes
// and closes the connection when respond says so; conns counts accepted
// connections.
type rawBackend struct {
	addr   string
	conns  atomic.Int32
	closed atomic.Int32 // connections closed by the endpoint
}

func startRaw(t *testing.T, respond func(r *http.Request) (raw string, closeAfter bool)) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rb := &rawBackend{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rb.conns.Add(1)
			go func() {
				defer func() { c.Close(); rb.closed.Add(1) }()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					raw, closeAfter := respond(req)
					if _, err := io.WriteString(c, raw); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return rb
}

// outcome is what a client sees of one request.
type outcome struct {
	status  int
	body    string
	header  http.Header
	trailer http.Header
	err     bool
}

func fetch(t *testing.T, client *http.Client, method, url string, body io.Reader, hdr http.Header) outcome {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return outcome{err: true}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode, body: string(b), header: resp.Header, trailer: resp.Trailer, err: err != nil}
	delete(o.header, "Date")
	return o
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func TestLeanEligible(t *testing.T) {
	mk := func(mod func(r *http.Request)) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://x/a?b", nil)
		r.RequestURI = r.URL.RequestURI()
		mod(r)
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"plain GET", mk(func(*http.Request) {}), true},
		{"POST with length", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")), true},
		{"chunked body", mk(func(r *http.Request) { r.ContentLength, r.TransferEncoding = -1, []string{"chunked"} }), true},
		{"HTTP/1.0", mk(func(r *http.Request) { r.ProtoMinor = 0 }), false},
		{"HTTP/2", mk(func(r *http.Request) { r.ProtoMajor, r.ProtoMinor = 2, 0 }), false},
		{"upgrade", mk(func(r *http.Request) { r.Header.Set("Upgrade", "websocket") }), false},
		{"100-continue", mk(func(r *http.Request) { r.Header.Set("Expect", "100-continue") }), false},
		{"trailers", mk(func(r *http.Request) { r.Trailer = http.Header{"X": nil} }), false},
		{"absolute form", mk(func(r *http.Request) { r.RequestURI = "http://x/a" }), false},
		{"CONNECT", mk(func(r *http.Request) { r.Method = http.MethodConnect }), false},
	}
	for _, tt := range tests {
		if got := leanEligible(tt.r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestLeanMatchesReverseProxy sends the same requests through the lean
// forwarder (behind net/http's server and in the Front) and through
// httputil.ReverseProxy to an endpoint answering with fixed bytes, and
// wants the same outcome from all. (The responses carry a Content-Type:
// net/http's server sniffs one for bodies without, the Front does not.)
func TestLeanMatchesReverseProxy(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		raw        string
		closeAfter bool
		want       outcome
		absent     []string // response headers that must not reach the client
		reuse      bool     // a second request reuses the endpoint connection
	}{
		{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			want: outcome{status: 200, body: "hello"}, reuse: true},
		{name: "chunked with trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nContent-Type: text/plain\r\n\r\n" +
			"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n",
			want: outcome{status: 200, body: "hello world", trailer: http.Header{"X-Sum": {"abc"}}}, reuse: true},
		{name: "HEAD", method: http.MethodHead, raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
			want: outcome{status: 200, header: http.Header{"Content-Length": {"5"}}}, reuse: true},
		{name: "204", raw: "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", want: outcome{status: 204, header: http.Header{"X-A": {"1"}}}, reuse: true},
		{name: "304", raw: "HTTP/1.1 304 Not Modified\r\nEtag: \"x\"\r\n\r\n", want: outcome{status: 304}, reuse: true},
		{name: "endpoint says close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok", closeAfter: true,
			want: outcome{status: 200, body: "ok"}, absent: []string{"Connection"}},
		{name: "HTTP/1.0 body until close", raw: "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", closeAfter: true,
			want: outcome{status: 200, body: "until the end"}},
		{name: "closes mid content-length body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", closeAfter: true,
			want: outcome{err: true}},
		{name: "closes mid chunked body", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", closeAfter: true,
			want: outcome{err: true}},
		{name: "closes before responding", raw: "", closeAfter: true, want: outcome{status: 502}},
		{name: "garbage", raw: "NOT HTTP\r\n\r\n", closeAfter: true, want: outcome{status: 502}},
		{name: "hop-by-hop removed", raw: "HTTP/1.1 200 OK\r\nConnection: X-Private, keep-alive\r\nX-Private: secret\r\nKeep-Alive: timeout=5\r\n" +
			"Proxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: yes\r\nContent-Length: 0\r\n\r\n",
			want:   outcome{status: 200, header: http.Header{"X-Kept": {"yes"}}},
			absent: []string{"Connection", "X-Private", "Keep-Alive", "Proxy-Authenticate", "Upgrade"}, reuse: true},
		{name: "103 then 200", raw: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx",
			want: outcome{status: 200, body: "x"}, absent: []string{"Link"}, reuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [3]outcome
			for i, lean := range []proxyMode{modeReverseProxy, modeLean, modeFront} {
				rb := startRaw(t, func(*http.Request) (string, bool) { return tt.raw, tt.closeAfter })
				url, _ := front(t, lean, rb.addr)
				client := newClient(t)
				method := tt.method
				if method == "" {
					method = http.MethodGet
				}
				got[i] = fetch(t, client, method, url+"/p", nil, nil)
				o := got[i]
				if o.err != tt.want.err || (!o.err && (o.status != tt.want.status || o.body != tt.want.body)) {
					t.Fatalf("lean=%v: got %+v, want %+v", lean, o, tt.want)
				}
				for k, v := range tt.want.header {
					if fmt.Sprint(o.header[k]) != fmt.Sprint(v) {
						t.Errorf("lean=%v: header %s = %q, want %q", lean, k, o.header[k], v)
					}
				}
				for k, v := range tt.want.trailer {
					if fmt.Sprint(o.trailer[k]) != fmt.Sprint(v) {
						t.Errorf("lean=%v: trailer %s = %q, want %q", lean, k, o.trailer[k], v)
					}
				}
				for _, k := range tt.absent {
					if _, ok := o.header[k]; ok {
						t.Errorf("lean=%v: header %s passed on: %q", lean, k, o.header[k])
					}
				}
				if tt.want.err || tt.want.status == 502 {
					continue
				}
				// A second request: the same answer, over the pooled
				// connection unless the endpoint closed it.
				again := fetch(t, client, method, url+"/p", nil, nil)
				if again.err || again.status != o.status || again.body != o.body {
					t.Errorf("lean=%v: second request %+v", lean, again)
				}
				wantConns := int32(2)
				if tt.reuse {
					wantConns = 1
				}
				if lean != modeReverseProxy && rb.conns.Load() != wantConns {
					t.Errorf("endpoint connections %d, want %d", rb.conns.Load(), wantConns)
				}
			}
			for i := 1; i < len(got); i++ {
				if !got[0].err && !got[i].err && fmt.Sprint(got[0].header) != fmt.Sprint(got[i].header) {
					t.Errorf("headers differ:\nReverseProxy %v\n%-12v %v", got[0].header, proxyMode(i), got[i].header)
				}
			}
		})
	}
}

// echoHeaders is an endpoint answering with the request line and the
// headers it received, one per line, sorted by Go's Header.Write.
func echoHeaders(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s host=%s len=%d te=%v\n", r.Method, r.RequestURI, r.Host, r.ContentLength, r.TransferEncoding)
		r.Header.Write(w)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestLeanRequestHeaders(t *testing.T) {
	hdr := http.Header{
		"Connection":          {"X-Hop, keep-alive"},
		"X-Hop":               {"dropped"},
		"Keep-Alive":          {"timeout=5"},
		"Proxy-Authorization": {"Basic eA=="},
		"Te":                  {"trailers, deflate"},
		"X-Forwarded-For":     {"10.0.0.1"},
		"X-Forwarded-Host":    {"spoofed"},
		"X-Forwarded-Proto":   {"https"},
		"Forwarded":           {"for=10.0.0.1"},
		"X-Custom":            {"a", "b"},
		"User-Agent":          {"test-agent"},
	}
	var got [3]string
	for i, lean := range []proxyMode{modeReverseProxy, modeLean, modeFront} {
		url, _ := front(t, lean, echoHeaders(t))
		o := fetch(t, newClient(t), http.MethodGet, url+"/path?q=1&r=%2F", nil, hdr)
		if o.err || o.status != 200 {
			t.Fatalf("lean=%v: %+v", lean, o)
		}
		got[i] = strings.ReplaceAll(o.body, strings.TrimPrefix(url, "http://"), "FRONT")
	}
	for i := 1; i < len(got); i++ {
		if got[0] != got[i] {
			t.Errorf("the endpoint saw different requests:\nReverseProxy:\n%s\n%v:\n%s", got[0], proxyMode(i), got[i])
		}
	}
	for _, want := range []string{"GET /path?q=1&r=%2F host=FRONT", "X-Forwarded-For: 127.0.0.1\r\n",
		"X-Forwarded-Proto: http\r\n", "X-Forwarded-Host: FRONT\r\n", "Te: trailers\r\n", "X-Custom: a\r\nX-Custom: b\r\n",
		"User-Agent: test-agent\r\n"} {
		if !strings.Contains(got[1], want) {
			t.Errorf("lean: %q missing from\n%s", want, got[1])
		}
	}
	for _, bad := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", "10.0.0.1", "spoofed", "Forwarded:", "deflate"} {
		if strings.Contains(got[1], bad) {
			t.Errorf("lean: %q passed on:\n%s", bad, got[1])
		}
	}
}

// digestEndpoint answers with the length and SHA-256 of the request body
// and how it was framed.
func digestEndpoint(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %x cl=%d te=%v expect=%q", n, h.Sum(nil), r.ContentLength, r.TransferEncoding, r.Header.Get("Expect"))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// onlyReader hides a reader's length so the client sends it chunked.
type onlyReader struct{ io.Reader }

func TestLeanRequestBodies(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	sum := fmt.Sprintf("%x", sha256.Sum256(big))
	tests := []struct {
		name   string
		body   func() io.Reader
		hdr    http.Header
		want   string
		method string
	}{
		{"content-length", func() io.Reader { return bytes.NewReader(big) }, nil, fmt.Sprintf("%d %s cl=%d te=[] expect=\"\"", len(big), sum, len(big)), "POST"},
		{"chunked", func() io.Reader { return onlyReader{bytes.NewReader(big)} }, nil, fmt.Sprintf("%d %s cl=-1 te=[chunked] expect=\"\"", len(big), sum), "POST"},
		{"100-continue", func() io.Reader { return bytes.NewReader(big) }, http.Header{"Expect": {"100-continue"}},
			fmt.Sprintf("%d %s cl=%d te=[] expect=\"100-continue\"", len(big), sum, len(big)), "PUT"}, // ReverseProxy path
		{"empty POST", func() io.Reader { return nil }, nil,
			fmt.Sprintf("0 %x cl=0 te=[] expect=\"\"", sha256.Sum256(nil)), "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lean := range []proxyMode{modeReverseProxy, modeLean, modeFront} {
				url, _ := front(t, lean, digestEndpoint(t))
				client := newClient(t)
				for range 2 {
					o := fetch(t, client, tt.method, url+"/", tt.body(), tt.hdr)
					if o.err || o.status != 200 || o.body != tt.want {
						t.Fatalf("lean=%v: %+v, want body %q", lean, o, tt.want)
					}
				}
			}
		})
	}
}

func TestLeanLargeResponse(t *testing.T) {
	for _, mode := range leanModes() {
		t.Run(mode.String(), func(t *testing.T) {
			big := bytes.Repeat([]byte("abcdefghijklmnop"), 1<<18) // 4 MiB
			for _, chunked := range []bool{false, true} {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !chunked {
						w.Header().Set("Content-Length", fmt.Sprint(len(big)))
					}
					w.Write(big)
				}))
				t.Cleanup(srv.Close)
				url, _ := front(t, mode, strings.TrimPrefix(srv.URL, "http://"))
				o := fetch(t, newClient(t), http.MethodGet, url+"/", nil, nil)
				if o.err || o.status != 200 || o.body != string(big) {
					t.Fatalf("chunked=%v: status %d, %d bytes, err %v", chunked, o.status, len(o.body), o.err)
				}
			}
		})
	}
}

// TestLeanStreamsSlowEndpoint wants what a slow endpoint has flushed to
// reach the client before the endpoint finishes.
func TestLeanStreamsSlowEndpoint(t *testing.T) {
	for _, mode := range leanModes() {
		t.Run(mode.String(), func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "first\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, "second\n")
			}))
			t.Cleanup(srv.Close)
			defer close(release)
			url, _ := front(t, mode, strings.TrimPrefix(srv.URL, "http://"))
			resp, err := newClient(t).Get(url + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if err != nil || line != "first\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
		})
	}
}

// TestLeanClientGoneCancelsEndpoint wants a client hanging up to end the
// request at a slow endpoint.
func TestLeanClientGoneCancelsEndpoint(t *testing.T) {
	for _, mode := range leanModes() {
		t.Run(mode.String(), func(t *testing.T) {
			arrived, canceled := make(chan struct{}), make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(arrived)
				<-r.Context().Done()
				close(canceled)
			}))
			t.Cleanup(srv.Close)
			url, _ := front(t, mode, strings.TrimPrefix(srv.URL, "http://"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
			errc := make(chan error, 1)
			go func() {
				_, err := newClient(t).Do(req)
				errc <- err
			}()
			deadline := time.After(20 * time.Second)
			select {
			case <-arrived:
			case <-deadline:
				t.Fatal("the request never reached the endpoint")
			}
			cancel()
			select {
			case <-canceled:
			case <-deadline:
				t.Fatal("the endpoint's request was not canceled")
			}
			if err := <-errc; err == nil {
				t.Error("canceled request succeeded")
			}
		})
	}
}

// TestLeanStalePooledConnection: an endpoint that closes idle
// connections without saying so; the next requests still succeed.
func TestLeanStalePooledConnection(t *testing.T) {
	for _, mode := range leanModes() {
		t.Run(mode.String(), func(t *testing.T) {
			rb := startRaw(t, func(*http.Request) (string, bool) { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true })
			url, _ := front(t, mode, rb.addr)
			client := newClient(t)
			for i, method := range []string{"GET", "GET", "POST", "DELETE", "GET"} {
				o := fetch(t, client, method, url+"/", nil, nil)
				if o.err || o.status != 200 || o.body != "ok" {
					t.Fatalf("request %d (%s): %+v", i, method, o)
				}
				// The pooled connection is stale once the endpoint closed it.
				for deadline := time.Now().Add(10 * time.Second); rb.closed.Load() < int32(i+1); {
					if time.Now().After(deadline) {
						t.Fatal("the endpoint did not close")
					}
					time.Sleep(time.Millisecond)
				}
			}
			if n := rb.conns.Load(); n != 5 {
				t.Errorf("%d endpoint connections, want 5", n)
			}
		})
	}
}

func TestLeanClientConnectionClose(t *testing.T) {
	for _, mode := range leanModes() {
		t.Run(mode.String(), func(t *testing.T) {
			url, _ := front(t, mode, echoHeaders(t))
			o := fetch(t, newClient(t), http.MethodGet, url+"/", nil, http.Header{"Connection": {"close"}})
			if o.err || o.status != 200 || strings.Contains(o.body, "Connection") {
				t.Fatalf("%+v", o)
			}
		})
	}
}

func TestParseStatusLine(t *testing.T) {
	tests := []struct {
		line          string
		minor, status int
		ok            bool
	}{
		{"HTTP/1.1 200 OK", 1, 200, true},
		{"HTTP/1.0 404 Not Found", 0, 404, true},
		{"HTTP/1.1 204", 1, 204, true},
		{"HTTP/1.1 200OK", 0, 0, false},
		{"HTTP/2.0 200 OK", 0, 0, false},
		{"HTTP/1.1 2x0 OK", 0, 0, false},
		{"HTTP/1.1 099 x", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		minor, status, ok := parseStatusLine([]byte(tt.line))
		if ok != tt.ok || (ok && (minor != tt.minor || status != tt.status)) {
			t.Errorf("%q: %d %d %v", tt.line, minor, status, ok)
		}
	}
}

func TestReadLineLong(t *testing.T) {
	long := strings.Repeat("x", 20000)
	br := bufio.NewReaderSize(strings.NewReader(long+"\r\nnext\n"), 16)
	budget := maxResponseHeader
	line, err := readLine(br, &budget)
	if err != nil || string(line) != long {
		t.Fatalf("%d bytes, %v", len(line), err)
	}
	if line, err = readLine(br, &budget); err != nil || string(line) != "next" {
		t.Fatalf("%q, %v", line, err)
	}
	budget = 100
	br = bufio.NewReaderSize(strings.NewReader(long+"\r\n"), 16)
	if _, err := readLine(br, &budget); err == nil {
		t.Fatal("no error past the budget")
	}
	budget = 100
	if _, err := readLine(bufio.NewReader(strings.NewReader("no end")), &budget); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v", err)
	}
}

// BenchmarkProxy measures one keep-alive client through the proxy to a
// tiny endpoint, with the lean forwarder and with ReverseProxy.
func BenchmarkProxy(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from the backend\n")
	}))
	defer backend.Close()
	for _, mode := range []proxyMode{modeFront, modeLean, modeReverseProxy} {
		b.Run(mode.String(), func(b *testing.B) {
			url, _ := front(b, mode, strings.TrimPrefix(backend.URL, "http://"))
			c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte("GET /bench HTTP/1.1\r\nHost: bench.example.com\r\nUser-Agent: bench\r\n\r\n")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
