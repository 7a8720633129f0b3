package ingress

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is the layer-7 reverse proxy: an http.Handler routing each
// request with the current Table to one of its backend's endpoints.
type Proxy struct {
	table     atomic.Pointer[Table]
	transport *http.Transport
	rp        *httputil.ReverseProxy
	pool      *upstreamPool // the lean forwarder's connections
	bufs      *bufferPool
	leanOff   bool // tests: ReverseProxy for everything
	log       *slog.Logger
}

type backendKey struct{}

// NewProxy returns a Proxy with an empty table (404 for everything).
func NewProxy(log *slog.Logger) *Proxy {
	if log == nil {
		log = slog.Default()
	}
	p := &Proxy{log: log, pool: newUpstreamPool(), bufs: newBufferPool()}
	p.transport = &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4096,
		DisableCompression:    true, // pass Accept-Encoding and encoded bodies through untouched
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "backend.invalid" // set per attempt by retryTransport
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:  &retryTransport{next: p.transport},
		BufferPool: p.bufs,
		ErrorLog:   slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if !errors.Is(err, context.Canceled) {
				log.Debug("ingress: backend error", "host", r.Host, "path", r.URL.Path, "err", err)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.table.Store(&Table{})
	return p
}

// SetTable installs a new routing table; requests already being served
// finish with the backend they picked.
func (p *Proxy) SetTable(t *Table) { p.table.Store(t) }

// Table returns the current routing table.
func (p *Proxy) Table() *Table { return p.table.Load() }

// CloseIdleConnections drops pooled connections to endpoints.
func (p *Proxy) CloseIdleConnections() {
	p.transport.CloseIdleConnections()
	p.pool.closeIdle()
}

// ServeHTTP routes a request: 404 without a matching rule or default
// backend, 503 when the backend has no ready endpoints. Plain HTTP/1.1
// requests take the lean forwarder, the rest (upgrades, HTTP/2, HTTP/1.0,
// Expect: 100-continue, request trailers) httputil.ReverseProxy.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, ok := p.table.Load().Route(r.Host, r.URL.Path)
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if len(b.Endpoints) == 0 {
		http.Error(w, "503 service unavailable: "+b.Problem, http.StatusServiceUnavailable)
		return
	}
	if !p.leanOff && leanEligible(r) {
		p.forward(w, r, b)
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, b)))
}

// retryTransport sends a request to the backend's endpoints in
// round-robin order, moving on to the next endpoint when connecting
// fails (nothing has been sent then, so any request may be retried).
type retryTransport struct{ next http.RoundTripper }

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := req.Context().Value(backendKey{}).(*Backend)
	if b == nil {
		return nil, errors.New("ingress: request without backend")
	}
	var body *onceBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &onceBody{r: req.Body}
		defer req.Body.Close()
	}
	var err error
	start, n := b.start(), len(b.Endpoints)
	for i := range n {
		// ReverseProxy hands over a request of its own: a shallow copy
		// with its own URL is enough (the transport never changes headers).
		out := *req
		u := *req.URL
		u.Host = b.Endpoints[(start+i)%n]
		out.URL = &u
		if body != nil {
			out.Body = body
		}
		var resp *http.Response
		resp, err = t.next.RoundTrip(&out)
		if err == nil {
			return resp, nil
		}
		if !isDialError(err) || (body != nil && body.read) || req.Context().Err() != nil {
			return nil, err
		}
	}
	return nil, err
}

// isDialError reports whether err comes from failing to connect.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// onceBody shares one request body between attempts: closing it is left
// to the caller, and read records whether any attempt consumed it.
type onceBody struct {
	r    io.Reader
	read bool
}

func (b *onceBody) Read(p []byte) (int, error) {
	b.read = true
	return b.r.Read(p)
}

func (b *onceBody) Close() error { return nil }

// bufferPool recycles ReverseProxy's copy buffers.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *bufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }
