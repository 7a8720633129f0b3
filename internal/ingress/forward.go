package ingress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"
)

// The lean forwarder: plain HTTP/1.1 requests (no Upgrade, no Expect,
// no request trailers) go to the endpoints over pooled connections
// written and read directly, without net/http's Transport and
// ReverseProxy; everything else takes the ReverseProxy path. Both set
// the same headers: hop-by-hop ones (RFC 9110 section 7.6.1) removed,
// X-Forwarded-For/-Host/-Proto replaced, Host kept.

// maxResponseHeader caps an endpoint's response head.
const maxResponseHeader = 1 << 20

// errStale marks a pooled connection that the endpoint had closed
// before it sent any byte of a response.
var errStale = errors.New("ingress: pooled connection closed by the endpoint")

// leanEligible reports whether r can take the lean forwarder.
func leanEligible(r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Method == http.MethodConnect || r.Trailer != nil {
		return false
	}
	if r.RequestURI == "" || r.RequestURI[0] != '/' {
		return false
	}
	if r.Header["Upgrade"] != nil || r.Header["Expect"] != nil {
		return false
	}
	if r.ContentLength < 0 {
		return len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked"
	}
	return true
}

// forward sends r to b's endpoints in round-robin order, moving on when
// connecting fails and redialling once when a pooled connection turns
// out to be closed, and streams the response to w.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, b *Backend) {
	ctx := r.Context()
	var err error
	start, n := b.start(), len(b.Endpoints)
	for i := range n {
		addr := b.Endpoints[(start+i)%n]
		uc := p.pool.get(addr, !replayable(r))
		if uc != nil {
			if err = p.exchange(w, r, uc); !errors.Is(err, errStale) {
				break
			}
		}
		if uc, err = p.pool.dial(ctx, addr); err != nil {
			if ctx.Err() != nil {
				break
			}
			continue
		}
		err = p.exchange(w, r, uc)
		break
	}
	if err == nil {
		return
	}
	if !errors.Is(err, context.Canceled) {
		p.log.Debug("ingress: backend error", "host", r.Host, "path", r.URL.Path, "err", err)
	}
	var sent *responseStarted
	if errors.As(err, &sent) {
		abortResponse(w)
		return
	}
	w.WriteHeader(http.StatusBadGateway)
}

// responseStarted wraps an error after the response head went out.
type responseStarted struct{ err error }

func (e *responseStarted) Error() string { return e.err.Error() }
func (e *responseStarted) Unwrap() error { return e.err }

// abortResponse cuts the client connection so that the client sees a
// truncated response as an error rather than as complete.
func abortResponse(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		c.Close()
		return
	}
	// net/http's documented way to abort a response it cannot hijack
	// (what httputil.ReverseProxy does as well).
	panic(http.ErrAbortHandler)
}

// replayable reports whether r may be sent again after a pooled
// connection failed without a response: it has no body and is
// idempotent (RFC 9110 section 9.2.2), as net/http's Transport decides.
func replayable(r *http.Request) bool {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return r.Header["Idempotency-Key"] != nil || r.Header["X-Idempotency-Key"] != nil
}

// exchange performs one request/response on uc, which it either returns
// to the pool or closes. errStale means nothing reached the client and r
// may be sent again.
func (p *Proxy) exchange(w http.ResponseWriter, r *http.Request, uc *upConn) error {
	keep := false
	defer func() {
		if keep {
			p.pool.put(uc)
		} else {
			uc.c.Close()
		}
	}()
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	writeRequestHead(uc.bw, r, hasBody)
	// A client that goes away cancels the exchange.
	stop := context.AfterFunc(r.Context(), func() { uc.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var bodyDone chan error
	if hasBody {
		bodyDone = make(chan error, 1)
		go func() { bodyDone <- p.writeRequestBody(uc, r) }()
	} else if err := uc.bw.Flush(); err != nil {
		if uc.reuse {
			return errStale
		}
		return fmt.Errorf("ingress: sending request: %w", err)
	}
	// bodyErr waits for the request body to be sent (cutting it short
	// when the response is complete already).
	bodyErr := func(finished bool) error {
		if bodyDone == nil {
			return nil
		}
		if !finished {
			uc.c.Close()
		}
		return <-bodyDone
	}
	if _, err := uc.br.Peek(1); err != nil {
		bodyErr(false)
		if uc.reuse && r.Context().Err() == nil && replayable(r) {
			return errStale
		}
		return fmt.Errorf("ingress: reading response: %w", err)
	}
	res, err := p.readResponseHead(w, r, uc.br)
	if err != nil {
		bodyErr(false)
		return err
	}
	if err := copyResponseBody(w, uc.br, res, p.bufs); err != nil {
		bodyErr(false)
		return &responseStarted{err}
	}
	if bodyDone != nil {
		select {
		case err := <-bodyDone:
			bodyDone = nil
			if err != nil {
				return nil // the client got its response; the connection is done
			}
		default:
			bodyErr(false)
			return nil
		}
	}
	keep = res.keepAlive && r.Context().Err() == nil && stop()
	return nil
}

// writeRequestHead writes the request line and headers for r.
func writeRequestHead(bw *bufio.Writer, r *http.Request, hasBody bool) {
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(r.RequestURI)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	conn := r.Header["Connection"]
	for k, vv := range r.Header {
		if dropRequestHeader(k) || (conn != nil && connectionListed(conn, k)) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if te := r.Header["Te"]; te != nil && connectionListed(te, "trailers") {
		bw.WriteString("Te: trailers\r\n")
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		bw.WriteString("X-Forwarded-For: ")
		bw.WriteString(ip)
		bw.WriteString("\r\n")
	}
	bw.WriteString("X-Forwarded-Host: ")
	bw.WriteString(r.Host)
	if r.TLS != nil {
		bw.WriteString("\r\nX-Forwarded-Proto: https\r\n")
	} else {
		bw.WriteString("\r\nX-Forwarded-Proto: http\r\n")
	}
	switch {
	case hasBody && r.ContentLength > 0:
		var num [20]byte
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(num[:0], r.ContentLength, 10))
		bw.WriteString("\r\n")
	case hasBody:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch:
		bw.WriteString("Content-Length: 0\r\n")
	}
	bw.WriteString("\r\n")
}

// dropRequestHeader reports the request headers the forwarder does not
// pass on: hop-by-hop ones, the framing it sets itself and the
// forwarding headers it replaces.
func dropRequestHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
		"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}

// hopByHop reports the response headers that are not passed on.
func hopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// connectionListed reports whether the comma-separated values list
// token (case-insensitively).
func connectionListed(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// writeRequestBody sends r's body (by its Content-Length or chunked)
// and flushes.
func (p *Proxy) writeRequestBody(uc *upConn, r *http.Request) error {
	buf := p.bufs.Get()
	defer p.bufs.Put(buf)
	if r.ContentLength > 0 {
		n, err := io.CopyBuffer(uc.bw, io.LimitReader(r.Body, r.ContentLength), buf)
		if err == nil && n < r.ContentLength {
			err = io.ErrUnexpectedEOF
		}
		if err == nil {
			err = uc.bw.Flush()
		}
		if err != nil {
			uc.c.Close()
			return fmt.Errorf("ingress: sending request body: %w", err)
		}
		return nil
	}
	cw := httputil.NewChunkedWriter(uc.bw)
	for {
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			if _, err := cw.Write(buf[:n]); err != nil {
				uc.c.Close()
				return fmt.Errorf("ingress: sending request body: %w", err)
			}
			if err := uc.bw.Flush(); err != nil { // stream as the client sends
				uc.c.Close()
				return fmt.Errorf("ingress: sending request body: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			uc.c.Close()
			return fmt.Errorf("ingress: reading request body: %w", rerr)
		}
	}
	cw.Close()
	uc.bw.WriteString("\r\n")
	if err := uc.bw.Flush(); err != nil {
		uc.c.Close()
		return fmt.Errorf("ingress: sending request body: %w", err)
	}
	return nil
}
