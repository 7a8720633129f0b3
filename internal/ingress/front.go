package ingress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Front serves a plain-HTTP listener. Connections start in its own
// HTTP/1.1 loop, which parses requests the lean forwarder can take and
// answers them on the connection directly, without net/http's server
// (no per-request header maps, contexts or background reads). At the
// first request needing anything else (HTTP/1.0, upgrades, Expect,
// chunked or trailing request bodies, percent-encoded paths, odd or
// oversized heads) the connection, with that request still unread, goes
// to the http.Server for the rest of its life.
type Front struct {
	p    *Proxy
	srv  *http.Server
	hand *handoffListener

	mu      sync.Mutex
	ln      net.Listener
	conns   map[*frontConn]struct{}
	closing atomic.Bool
	active  atomic.Int64 // requests in flight
}

// NewFront returns a Front for p; srv (whose Handler should be p) serves
// the connections handed over, and its IdleTimeout and ReadHeaderTimeout
// apply to the Front's own connections too.
func NewFront(p *Proxy, srv *http.Server) *Front {
	return &Front{p: p, srv: srv, conns: map[*frontConn]struct{}{}}
}

// Serve accepts connections on ln until Shutdown; it then returns
// http.ErrServerClosed.
func (f *Front) Serve(ln net.Listener) error {
	f.mu.Lock()
	if f.closing.Load() || f.ln != nil {
		f.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed // shut down already (or serving elsewhere)
	}
	f.ln = ln
	f.hand = &handoffListener{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	f.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- f.srv.Serve(f.hand) }()
	stopSweep := make(chan struct{})
	defer close(stopSweep)
	go f.sweep(stopSweep)
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if f.closing.Load() {
				<-errc
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay) // accept backoff, as net/http does
				continue
			}
			f.closing.Store(true)
			f.hand.Close()
			<-errc
			return err
		}
		delay = 0
		fc := newFrontConn(c)
		if !f.track(fc, true) {
			c.Close()
			continue
		}
		go f.serveConn(fc)
	}
}

// Shutdown stops accepting, closes idle connections, waits (up to ctx)
// for requests in flight and shuts the http.Server down.
func (f *Front) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.closing.Store(true)
	if f.ln != nil {
		f.ln.Close()
	}
	for fc := range f.conns {
		if fc.state.CompareAndSwap(stateIdle, stateClosed) {
			fc.c.Close()
		}
	}
	f.mu.Unlock()
	// Poll for the requests in flight to finish, as http.Server does.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for f.active.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			f.srv.Shutdown(ctx)
			return fmt.Errorf("ingress: shutdown: %w", ctx.Err())
		}
	}
	return f.srv.Shutdown(ctx)
}

// track adds or removes a connection; false once shutting down.
func (f *Front) track(fc *frontConn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !add {
		delete(f.conns, fc)
		return true
	}
	if f.closing.Load() {
		return false
	}
	f.conns[fc] = struct{}{}
	return true
}

// Connection states: waiting for a request (Shutdown may close it),
// serving one, or closed by Shutdown.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// frontConn is one client connection in the Front's loop.
type frontConn struct {
	c        net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	clientIP string
	state    atomic.Int32
	scratch  []byte // response head being filtered, reused

	// Timing the sweeper reads (Unix nanoseconds, 0 when not waiting).
	idleSince  atomic.Int64 // waiting for the client's next request
	awaitSince atomic.Int64 // waiting for the endpoint's response
	awaitUC    atomic.Pointer[upConn]
	// The client watch during a slow response: watch goes from
	// watchNone to watchRunning (the sweeper starts one) or watchSkipped
	// (the response came first).
	watch        atomic.Int32
	watchStopped atomic.Bool
	clientGone   atomic.Bool
	watchDone    chan struct{} // one token per finished watch
}

// Client watch states.
const (
	watchNone int32 = iota
	watchRunning
	watchSkipped
)

func newFrontConn(c net.Conn) *frontConn {
	fc := &frontConn{c: c, br: bufio.NewReaderSize(c, 16<<10), bw: bufio.NewWriterSize(c, 8<<10),
		watchDone: make(chan struct{}, 1)}
	if ip, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
		fc.clientIP = ip
	}
	return fc
}

// serveConn runs a connection's request loop.
func (f *Front) serveConn(fc *frontConn) {
	handedOff := false
	defer func() {
		f.track(fc, false)
		if !handedOff {
			fc.c.Close()
		}
	}()
	var rq frontReq
	deadline := false // a read deadline is set on the connection
	for {
		if f.closing.Load() {
			return
		}
		if fc.br.Buffered() == 0 { // else a pipelined request is here
			if deadline {
				fc.c.SetReadDeadline(time.Time{})
				deadline = false
			}
			fc.idleSince.Store(time.Now().UnixNano()) // the sweeper enforces IdleTimeout
			_, err := fc.br.Peek(1)
			fc.idleSince.Store(0)
			if err != nil {
				return
			}
		}
		f.active.Add(1) // before leaving idle: Shutdown counts on it
		if !fc.state.CompareAndSwap(stateIdle, stateActive) {
			f.active.Add(-1)
			return // closed by Shutdown
		}
		keep, handoff := f.serveOne(fc, &rq, &deadline)
		if handoff {
			f.active.Add(-1)
			fc.state.Store(stateClosed)
			fc.c.SetReadDeadline(time.Time{})
			handedOff = f.hand.give(&handedConn{Conn: fc.c, r: fc.br})
			return
		}
		keep = fc.bw.Flush() == nil && keep
		fc.state.Store(stateIdle)
		f.active.Add(-1)
		if !keep {
			return
		}
	}
}

// serveOne reads and answers one request; handoff means the request is
// still unread and the connection goes to the http.Server. A header
// deadline is set when the head is not all there yet; deadline tracks
// whether one is set.
func (f *Front) serveOne(fc *frontConn, rq *frontReq, deadline *bool) (keep, handoff bool) {
	waited := false
	n, err := rq.read(fc.br, func() {
		if d := f.srv.ReadHeaderTimeout; d > 0 {
			fc.c.SetReadDeadline(time.Now().Add(d))
			*deadline, waited = true, true
		}
	})
	if err != nil {
		return false, false // timeout or the client went away mid-head
	}
	if n == 0 {
		return false, true
	}
	if *deadline && (waited || rq.length > 0) { // the body has no deadline (left from a handoff check)
		fc.c.SetReadDeadline(time.Time{})
		*deadline = false
	}
	fc.br.Discard(n)
	return f.p.serveFront(fc, rq), false
}

// handoffListener feeds handed-over connections to the http.Server.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// give passes c to the http.Server; false when it is shut down.
func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

// handedConn is a connection whose first bytes are already buffered.
type handedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *handedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// sweepEvery is how often the sweeper looks at the connections.
const sweepEvery = 250 * time.Millisecond

// sweep enforces the idle timeout and starts client watches for
// responses slower than slowResponse, so that the request path sets no
// timers of its own.
func (f *Front) sweep(stop <-chan struct{}) {
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		idle := int64(f.srv.IdleTimeout)
		f.mu.Lock()
		for fc := range f.conns {
			if since := fc.idleSince.Load(); idle > 0 && since != 0 && now-since > idle &&
				fc.state.CompareAndSwap(stateIdle, stateClosed) {
				fc.c.Close()
				continue
			}
			if since := fc.awaitSince.Load(); since != 0 && now-since > int64(slowResponse) {
				fc.startWatch()
			}
		}
		f.mu.Unlock()
	}
}

// startWatch starts watching the client for a hang-up while the
// endpoint is slow to answer, unless the answer came meanwhile.
func (fc *frontConn) startWatch() {
	if fc.watch.Load() != watchNone {
		return
	}
	fc.watchStopped.Store(false)
	fc.clientGone.Store(false)
	uc := fc.awaitUC.Load()
	if uc == nil || !fc.watch.CompareAndSwap(watchNone, watchRunning) {
		return
	}
	go func() {
		defer func() { fc.watchDone <- struct{}{} }()
		if _, err := fc.br.Peek(1); err != nil && !fc.watchStopped.Load() {
			fc.clientGone.Store(true)
			uc.c.SetReadDeadline(time.Unix(1, 0)) // the client left: stop waiting
		}
	}()
}
