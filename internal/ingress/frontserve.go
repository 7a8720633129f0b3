package ingress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// slowResponse is how long the Front waits for an endpoint's response
// before it starts watching the client for a hang-up.
const slowResponse = time.Second

// serveFront answers a request parsed by the Front; keep says whether
// the client connection can serve another request.
func (p *Proxy) serveFront(fc *frontConn, rq *frontReq) bool {
	b, ok := p.table.Load().Route(rq.host, rq.path)
	if !ok {
		return fc.simple(rq, http.StatusNotFound, "404 page not found\n")
	}
	if len(b.Endpoints) == 0 {
		return fc.simple(rq, http.StatusServiceUnavailable, "503 service unavailable: "+b.Problem+"\n")
	}
	var err error
	start, n := b.start(), len(b.Endpoints)
	for i := range n {
		addr := b.Endpoints[(start+i)%n]
		uc := p.pool.get(addr, !rq.replayable())
		if uc != nil {
			if err = p.exchangeFront(fc, rq, uc); !errors.Is(err, errStale) {
				break
			}
		}
		if uc, err = p.pool.dial(context.Background(), addr); err != nil {
			continue
		}
		err = p.exchangeFront(fc, rq, uc)
		break
	}
	if err == nil {
		return !rq.close
	}
	p.log.Debug("ingress: backend error", "host", rq.host, "path", rq.path, "err", err)
	var sent *responseStarted
	if errors.As(err, &sent) {
		return false
	}
	return fc.simple(rq, http.StatusBadGateway, "")
}

// replayable mirrors replayable(*http.Request) for a parsed request.
func (rq *frontReq) replayable() bool {
	if rq.length != 0 {
		return false
	}
	switch rq.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	for _, s := range rq.keep {
		line := rq.head[s.from:s.to]
		if colon := bytes.IndexByte(line, ':'); foldIs(line[:colon], "Idempotency-Key") || foldIs(line[:colon], "X-Idempotency-Key") {
			return true
		}
	}
	return false
}

// simple writes a response of the proxy's own (as http.Error would),
// skipping the request body; keep as for serveFront.
func (fc *frontConn) simple(rq *frontReq, status int, body string) bool {
	if rq.length > 0 {
		if rq.length > 256<<10 {
			rq.close = true
		} else if _, err := fc.br.Discard(int(rq.length)); err != nil {
			return false
		}
	}
	bw := fc.bw
	var num [20]byte
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(num[:0], int64(status), 10))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(status))
	bw.WriteString("\r\n")
	if body != "" {
		bw.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n")
	}
	if rq.close {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("Content-Length: ")
	bw.Write(strconv.AppendInt(num[:0], int64(len(body)), 10))
	bw.WriteString("\r\n\r\n")
	if rq.method != http.MethodHead {
		bw.WriteString(body)
	}
	return !rq.close
}

// exchangeFront is exchange for a request parsed by the Front.
func (p *Proxy) exchangeFront(fc *frontConn, rq *frontReq, uc *upConn) error {
	keep := false
	defer func() {
		if keep {
			p.pool.put(uc)
		} else {
			uc.c.Close()
		}
	}()
	bw := uc.bw
	bw.WriteString(rq.method)
	bw.WriteByte(' ')
	bw.Write(rq.uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(rq.host)
	bw.WriteString("\r\n")
	for _, s := range rq.keep {
		bw.Write(rq.head[s.from:s.to])
	}
	if fc.clientIP != "" {
		bw.WriteString("X-Forwarded-For: ")
		bw.WriteString(fc.clientIP)
		bw.WriteString("\r\n")
	}
	bw.WriteString("X-Forwarded-Host: ")
	bw.WriteString(rq.host)
	bw.WriteString("\r\nX-Forwarded-Proto: http\r\n")
	switch {
	case rq.length > 0:
		var num [20]byte
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(num[:0], rq.length, 10))
		bw.WriteString("\r\n")
	case rq.method == http.MethodPost || rq.method == http.MethodPut || rq.method == http.MethodPatch:
		bw.WriteString("Content-Length: 0\r\n")
	}
	bw.WriteString("\r\n")
	var bodyDone chan error
	switch {
	case rq.length == 0:
	case rq.length <= int64(fc.br.Buffered()) && rq.length <= 64<<10: // all here already
		b, _ := fc.br.Peek(int(rq.length))
		bw.Write(b)
		fc.br.Discard(len(b))
	default:
		bodyDone = make(chan error, 1)
		go func() {
			_, err := io.CopyN(bw, fc.br, rq.length)
			if err == nil {
				err = bw.Flush()
			}
			if err != nil {
				uc.c.Close()
			}
			bodyDone <- err
		}()
	}
	if bodyDone == nil {
		if err := bw.Flush(); err != nil {
			if uc.reuse && rq.replayable() {
				return errStale
			}
			return fmt.Errorf("ingress: sending request: %w", err)
		}
	}
	// finishBody ends the request body copy; false when the client
	// connection is out of step (body not read to its end).
	finishBody := func() bool {
		if bodyDone == nil {
			return true
		}
		select {
		case err := <-bodyDone:
			bodyDone = nil
			return err == nil
		default:
		}
		uc.c.Close()
		fc.c.SetReadDeadline(time.Unix(1, 0))
		<-bodyDone
		bodyDone = nil
		fc.c.SetReadDeadline(time.Time{})
		return false
	}
	if err := p.awaitResponse(fc, uc, bodyDone == nil); err != nil {
		finishBody()
		if uc.reuse && rq.replayable() && !errors.Is(err, errClientGone) {
			return errStale
		}
		return fmt.Errorf("ingress: reading response: %w", err)
	}
	res, err := relayHead(fc, rq, uc.br)
	if err != nil {
		finishBody()
		return err
	}
	if err := relayBody(fc, uc.br, res); err != nil {
		finishBody()
		return &responseStarted{err}
	}
	if !finishBody() {
		rq.close = true
		return nil
	}
	keep = res.keepAlive
	if !res.clientKeep {
		rq.close = true
	}
	return nil
}

// errClientGone: the client hung up while waiting for a response.
var errClientGone = errors.New("ingress: client went away")

// awaitResponse waits for the first byte of the endpoint's response.
// When that takes long, the sweeper has the client connection watched
// meanwhile (as net/http's server does for every request), and the wait
// ends when the client hangs up. watch is false while a request body is
// being copied (that reads the client connection itself).
func (p *Proxy) awaitResponse(fc *frontConn, uc *upConn, watch bool) error {
	if !watch || uc.br.Buffered() > 0 {
		_, err := uc.br.Peek(1)
		return err
	}
	fc.awaitUC.Store(uc)
	fc.watch.Store(watchNone)
	fc.awaitSince.Store(time.Now().UnixNano())
	_, err := uc.br.Peek(1)
	fc.awaitSince.Store(0)
	if fc.watch.CompareAndSwap(watchNone, watchSkipped) {
		fc.awaitUC.Store(nil)
		return err
	}
	// A watch runs: end it.
	fc.watchStopped.Store(true)
	fc.c.SetReadDeadline(time.Unix(1, 0))
	<-fc.watchDone
	fc.c.SetReadDeadline(time.Time{})
	fc.awaitUC.Store(nil)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && fc.clientGone.Load() {
		return errClientGone
	}
	uc.c.SetReadDeadline(time.Time{}) // in case the client left just as the response came
	return err
}
