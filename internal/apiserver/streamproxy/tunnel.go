package streamproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"k8s.io/apimachinery/pkg/util/proxy"
)

// Header names and values of an SPDY upgrade.
const (
	headerUpgrade         = "Upgrade"
	headerConnection      = "Connection"
	headerProtocolVersion = "X-Stream-Protocol-Version"
	upgradeSPDY31         = "SPDY/3.1"
	// tunnelingPrefix marks a WebSocket subprotocol that carries the SPDY
	// protocol named after it; only Kubernetes' (".k8s.io") are accepted.
	tunnelingPrefix = "SPDY/3.1+"
	k8sSuffix       = ".k8s.io"
	// maxErrorBody bounds how much of a refusing backend's answer is
	// relayed to the client.
	maxErrorBody = 1 << 20
)

// Tunnel serves a port-forward whose client tunnels SPDY through a
// WebSocket. It first upgrades a connection to Location to SPDY with the
// protocols the client offered (so the backend's refusal reaches the client
// as an ordinary HTTP answer it can fall back on), then accepts the
// WebSocket with the protocol the backend chose and relays the bytes.
type Tunnel struct {
	// Location is the backend's port-forward URL.
	Location *url.URL
	// Transport is used to dial Location (its TLS configuration for
	// https); nil dials without TLS settings.
	Transport http.RoundTripper
	// Error answers a failure to reach the backend, before anything has
	// been written; nil answers 503 with the error's text.
	Error func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives relay errors; nil means slog.Default().
	Logger *slog.Logger
}

// TunneledProtocols returns the SPDY protocols a client asks to tunnel:
// its WebSocket subprotocols of the form "SPDY/3.1+<protocol>.k8s.io",
// without the prefix, in the client's order.
func TunneledProtocols(subprotocols []string) []string {
	var out []string
	for _, p := range subprotocols {
		if strings.HasPrefix(p, tunnelingPrefix) && strings.HasSuffix(p, k8sSuffix) {
			out = append(out, strings.TrimPrefix(p, tunnelingPrefix))
		}
	}
	return out
}

// ServeHTTP tunnels one port-forward session.
func (t *Tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := t.Logger
	if log == nil {
		log = slog.Default()
	}
	protocols := TunneledProtocols(websocket.Subprotocols(r))
	if len(protocols) == 0 {
		http.Error(w, "unable to upgrade: no tunneling spdy protocols provided", http.StatusBadRequest)
		return
	}
	backend, backendReader, resp, err := t.dialSPDY(r.Context(), protocols)
	if err != nil {
		if t.Error == nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		t.Error(w, r, err)
		return
	}
	defer backend.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		relayRefusal(w, resp)
		return
	}
	var offer []string
	if chosen := strings.TrimSpace(resp.Header.Get(headerProtocolVersion)); chosen != "" {
		offer = []string{tunnelingPrefix + chosen}
	}
	upgrader := websocket.Upgrader{Subprotocols: offer, CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the client already.
		log.Debug("port-forward tunnel: websocket upgrade failed", "err", err)
		return
	}
	client := newWSConn(ws)
	defer client.Close()
	if err := splice(client, backend, backendReader); err != nil {
		log.Debug("port-forward tunnel ended with an error", "err", err)
	}
}

// dialSPDY connects to Location and asks it to switch to SPDY with the
// given protocols. On success the caller owns the connection; the reader
// holds any bytes the backend sent after its answer.
func (t *Tunnel) dialSPDY(ctx context.Context, protocols []string) (net.Conn, *bufio.Reader, *http.Response, error) {
	conn, err := proxy.DialURL(ctx, t.Location, t.Transport)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("error dialing backend: %w", err)
	}
	// A backend that never answers must not hold the handshake once the
	// client has gone: ending ctx unblocks the connection.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := &http.Request{
		Method:     http.MethodPost,
		URL:        t.Location,
		Host:       t.Location.Host,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{headerConnection: {headerUpgrade}, headerUpgrade: {upgradeSPDY31}},
	}
	for _, p := range protocols {
		req.Header.Add(headerProtocolVersion, p)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("error sending request: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("error reading backend response: %w", err)
	}
	return conn, br, resp, nil
}

// relayRefusal passes a backend's non-upgrade answer on to the client.
func relayRefusal(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	code := resp.StatusCode
	if code < http.StatusBadRequest {
		// Anything but a switch or an error is a broken backend.
		code = http.StatusBadGateway
	}
	w.WriteHeader(code)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxErrorBody))
}

// splice copies bytes both ways between client and backend (reading the
// backend through backendReader, which may hold buffered bytes) until one
// side ends, then closes both and waits for the other copy.
func splice(client net.Conn, backend net.Conn, backendReader io.Reader) error {
	var (
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	done := func(err error) {
		once.Do(func() {
			first = err
			client.Close()
			backend.Close()
		})
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, err := io.Copy(backend, client)
		done(err)
	}()
	go func() {
		defer wg.Done()
		_, err := io.Copy(client, backendReader)
		done(err)
	}()
	wg.Wait()
	if errors.Is(first, net.ErrClosed) {
		return nil
	}
	return first
}
