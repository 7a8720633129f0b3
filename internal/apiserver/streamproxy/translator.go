package streamproxy

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/remotecommand"
	clientremotecommand "k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

const (
	// idleTimeout closes a WebSocket session nobody uses, as the
	// kubelet's streaming server does.
	idleTimeout = 4 * time.Hour
	// statusWriteTimeout bounds writing the final status.
	statusWriteTimeout = 10 * time.Second
	// pingPeriod keeps the SPDY connection to the backend alive.
	pingPeriod = 5 * time.Second
)

// Streams are the streams of an exec or attach session.
type Streams struct {
	Stdin, Stdout, Stderr, TTY bool
}

// Translator serves an exec or attach session to a client speaking the
// v5.channel.k8s.io WebSocket subprotocol by running it as an SPDY
// remote-command client against Location. Data on the client's stdin
// channel (and its close signal) goes to the session's stdin, the
// session's stdout and stderr go to their channels, resize messages on
// channel 4 resize the terminal, and the outcome is written to the error
// channel as a Status: Success, NonZeroExitCode with the exit code as an
// ExitCode cause, or the failure.
type Translator struct {
	// Location is the backend's exec or attach URL, query included.
	Location *url.URL
	// TLS configures the connection to an https Location.
	TLS *tls.Config
	// Streams says which streams the session has.
	Streams Streams
	// Logger receives session errors; nil means slog.Default().
	Logger *slog.Logger
}

// ServeHTTP runs one session.
func (t *Translator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := t.Logger
	if log == nil {
		log = slog.Default()
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		remotecommand.StreamProtocolV5Name: {Binary: true, Channels: channelTypes(t.Streams)},
	})
	conn.SetIdleTimeout(idleTimeout)
	_, channels, err := conn.Open(w, r)
	if err != nil {
		// The handshake has answered the client.
		log.Debug("exec translator: websocket handshake failed", "err", err)
		return
	}
	defer conn.Close()
	// An empty frame on the first writable channel tells the client the
	// session is set up.
	if _, err := channels[firstWritableChannel(t.Streams)].Write(nil); err != nil {
		log.Debug("exec translator: client went away", "err", err)
		return
	}

	opts := clientremotecommand.StreamOptions{Tty: t.Streams.TTY}
	if t.Streams.Stdin {
		opts.Stdin = channels[remotecommand.StreamStdIn]
	}
	if t.Streams.Stdout {
		opts.Stdout = channels[remotecommand.StreamStdOut]
	}
	if t.Streams.Stderr {
		opts.Stderr = channels[remotecommand.StreamStdErr]
	}
	// The resize channel is always read, so that resize messages never
	// stall the connection.
	stop := make(chan struct{})
	if t.Streams.TTY {
		sizes := make(chan clientremotecommand.TerminalSize)
		go readResizes(stop, channels[remotecommand.StreamResize], sizes)
		opts.TerminalSizeQueue = sizeQueue(sizes)
	} else {
		go func() { _, _ = io.Copy(io.Discard, channels[remotecommand.StreamResize]) }()
	}

	err = t.stream(r, opts)
	close(stop)
	if err != nil {
		log.Debug("exec translator: session ended", "location", t.Location.Path, "err", err)
	}
	data, mErr := json.Marshal(SessionStatus(err))
	if mErr != nil {
		log.Error("exec translator: encoding status", "err", mErr)
		return
	}
	conn.SetWriteDeadline(statusWriteTimeout)
	if _, err := channels[remotecommand.StreamErr].Write(data); err != nil {
		log.Debug("exec translator: writing status", "err", err)
	}
	// Closing the connection ends the client's stdout and stderr: the
	// protocol has no other end-of-stream signal from server to client.
}

// stream runs the SPDY session.
func (t *Translator) stream(r *http.Request, opts clientremotecommand.StreamOptions) error {
	rt, err := spdy.NewRoundTripperWithConfig(spdy.RoundTripperConfig{
		TLS:        t.TLS,
		Proxier:    noProxy,
		PingPeriod: pingPeriod,
	})
	if err != nil {
		return fmt.Errorf("creating SPDY round tripper: %w", err)
	}
	executor, err := clientremotecommand.NewSPDYExecutorRejectRedirects(rt, rt, http.MethodPost, t.Location)
	if err != nil {
		return fmt.Errorf("creating SPDY executor: %w", err)
	}
	return executor.StreamWithContext(r.Context(), opts)
}

// noProxy keeps connections to node agents direct, whatever the
// environment's proxy settings.
func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

// SessionStatus is the Status a finished session reports on the error
// channel: Success for nil; for a command that exited non-zero, reason
// NonZeroExitCode with the code as an ExitCode cause; the Status of an API
// error; otherwise an internal error with err's text.
func SessionStatus(err error) metav1.Status {
	if err == nil {
		return metav1.Status{Status: metav1.StatusSuccess}
	}
	var exitErr exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  remotecommand.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", exitErr),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
				Type:    remotecommand.ExitCodeCauseType,
				Message: fmt.Sprint(exitErr.ExitStatus()),
			}}},
		}
	}
	var apiErr apierrors.APIStatus
	if errors.As(err, &apiErr) {
		return apiErr.Status()
	}
	return apierrors.NewInternalError(err).Status()
}

// channelTypes lays out the v5 channels: stdin (0) is read when the
// session has stdin, stdout (1) and stderr (2) written when it has them,
// error (3) always written, resize (4) always read.
func channelTypes(s Streams) []wsstream.ChannelType {
	pick := func(on bool, t wsstream.ChannelType) wsstream.ChannelType {
		if on {
			return t
		}
		return wsstream.IgnoreChannel
	}
	ch := make([]wsstream.ChannelType, 5)
	ch[remotecommand.StreamStdIn] = pick(s.Stdin, wsstream.ReadChannel)
	ch[remotecommand.StreamStdOut] = pick(s.Stdout, wsstream.WriteChannel)
	ch[remotecommand.StreamStdErr] = pick(s.Stderr, wsstream.WriteChannel)
	ch[remotecommand.StreamErr] = wsstream.WriteChannel
	ch[remotecommand.StreamResize] = wsstream.ReadChannel
	return ch
}

// firstWritableChannel is the lowest channel the server writes to.
func firstWritableChannel(s Streams) int {
	switch {
	case s.Stdout:
		return remotecommand.StreamStdOut
	case s.Stderr:
		return remotecommand.StreamStdErr
	}
	return remotecommand.StreamErr
}

// readResizes decodes terminal sizes (JSON objects with Width and Height)
// from r into sizes until r ends, then closes sizes. Once stop is closed
// the sizes are read and dropped, so the client's messages keep flowing.
func readResizes(stop <-chan struct{}, r io.Reader, sizes chan<- clientremotecommand.TerminalSize) {
	defer close(sizes)
	dec := json.NewDecoder(r)
	for {
		var size clientremotecommand.TerminalSize
		if err := dec.Decode(&size); err != nil {
			_, _ = io.Copy(io.Discard, r)
			return
		}
		select {
		case sizes <- size:
		case <-stop:
		}
	}
}

// sizeQueue hands the decoded sizes to the SPDY executor.
type sizeQueue <-chan clientremotecommand.TerminalSize

// Next blocks for the next size; nil when there will be no more.
func (q sizeQueue) Next() *clientremotecommand.TerminalSize {
	size, ok := <-q
	if !ok {
		return nil
	}
	return &size
}
