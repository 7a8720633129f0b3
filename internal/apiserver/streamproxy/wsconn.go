package streamproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn presents a WebSocket carrying a byte stream in binary messages as
// a net.Conn: Read returns the messages' bytes in order, whatever their
// boundaries; Write sends each call as one binary message. One goroutine
// may read while another writes.
type wsConn struct {
	ws        *websocket.Conn
	msg       io.Reader // the message being read, nil between messages
	closeOnce sync.Once
	closeErr  error
}

var _ net.Conn = (*wsConn)(nil)

// errTextMessage is the answer to a text message where only binary ones
// belong.
var errTextMessage = errors.New("websocket tunnel: unexpected non-binary message")

func newWSConn(ws *websocket.Conn) *wsConn { return &wsConn{ws: ws} }

// Read reads the stream; a normal close by the peer is io.EOF.
func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.msg == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errTextMessage
			}
			c.msg = r
		}
		n, err := c.msg.Read(p)
		if errors.Is(err, io.EOF) {
			c.msg = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// Write sends p as one binary message.
func (c *wsConn) Write(p []byte) (int, error) {
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close tells the peer the stream ends (a normal close frame, best effort)
// and closes the connection; later calls return the first result.
func (c *wsConn) Close() error {
	c.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		c.closeErr = c.ws.Close()
	})
	return c.closeErr
}

// LocalAddr is the local end of the WebSocket's connection.
func (c *wsConn) LocalAddr() net.Addr { return c.ws.LocalAddr() }

// RemoteAddr is the peer's end of the WebSocket's connection.
func (c *wsConn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// SetDeadline sets both the read and the write deadline.
func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.ws.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }
