package ingress

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// Limits of the upstream connection pool, the same as the fallback
// http.Transport's.
const (
	maxIdlePerEndpoint = 256
	upstreamIdleTime   = 90 * time.Second
	// checkIdleAfter is how long a pooled connection may have been idle
	// before it is checked for a close by the endpoint (a cheap peek)
	// before being used again: endpoints close idle connections after
	// seconds at the earliest, so busy connections skip the check.
	checkIdleAfter = time.Second
)

// upConn is one persistent HTTP/1.1 connection to an endpoint.
type upConn struct {
	c     net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	addr  string
	idle  time.Time // when it was put back into the pool
	reuse bool      // it served a request before
}

// upstreamPool keeps idle connections per endpoint ("ip:port"), most
// recently used first out.
type upstreamPool struct {
	dialer net.Dialer
	mu     sync.Mutex
	idle   map[string][]*upConn
}

func newUpstreamPool() *upstreamPool {
	return &upstreamPool{dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		idle: map[string][]*upConn{}}
}

// get returns a pooled connection to addr that still looks usable, or
// nil when there is none. check asks for a peek at the connection
// however briefly it was idle (for requests that cannot be retried).
func (p *upstreamPool) get(addr string, check bool) *upConn {
	now := time.Now()
	for {
		p.mu.Lock()
		list := p.idle[addr]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		uc := list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[addr] = list[:len(list)-1]
		p.mu.Unlock()
		idleFor := now.Sub(uc.idle)
		switch {
		case idleFor > upstreamIdleTime:
			uc.c.Close()
		case uc.br.Buffered() > 0: // bytes nobody asked for: out of sync
			uc.c.Close()
		case (check || idleFor > checkIdleAfter) && !connAlive(uc.c):
			uc.c.Close()
		default:
			return uc
		}
	}
}

// dial opens a new connection to addr.
func (p *upstreamPool) dial(ctx context.Context, addr string) (*upConn, error) {
	c, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ingress: connecting to endpoint: %w", err)
	}
	return &upConn{c: c, br: bufio.NewReaderSize(c, 8<<10), bw: bufio.NewWriterSize(c, 8<<10), addr: addr}, nil
}

// put returns a connection whose last exchange completed cleanly.
func (p *upstreamPool) put(uc *upConn) {
	uc.idle = time.Now()
	uc.reuse = true
	p.mu.Lock()
	list := p.idle[uc.addr]
	// Drop the oldest connection when it has expired or the list is full.
	if len(list) > 0 && (len(list) >= maxIdlePerEndpoint || uc.idle.Sub(list[0].idle) > upstreamIdleTime) {
		list[0].c.Close()
		copy(list, list[1:])
		list[len(list)-1] = nil
		list = list[:len(list)-1]
	}
	p.idle[uc.addr] = append(list, uc)
	p.mu.Unlock()
}

// closeIdle closes every pooled connection.
func (p *upstreamPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = map[string][]*upConn{}
	p.mu.Unlock()
	for _, list := range idle {
		for _, uc := range list {
			uc.c.Close()
		}
	}
}
