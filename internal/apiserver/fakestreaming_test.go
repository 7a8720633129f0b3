package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// fakeCRI stands in for the container runtime: it answers streaming
// requests with URLs on a fake streaming server that carry the request.
type fakeCRI struct {
	streamingURL string
}

func (f *fakeCRI) Exec(_ context.Context, req *runtimeapi.ExecRequest, _ ...grpc.CallOption) (*runtimeapi.ExecResponse, error) {
	q := sessionQuery(req.Stdin, req.Stdout, req.Stderr, req.Tty)
	q["cmd"] = req.Cmd
	return &runtimeapi.ExecResponse{Url: f.streamingURL + "/exec?" + q.Encode()}, nil
}

func (f *fakeCRI) Attach(_ context.Context, req *runtimeapi.AttachRequest, _ ...grpc.CallOption) (*runtimeapi.AttachResponse, error) {
	q := sessionQuery(req.Stdin, req.Stdout, req.Stderr, req.Tty)
	q["cmd"] = []string{"echo"}
	return &runtimeapi.AttachResponse{Url: f.streamingURL + "/attach?" + q.Encode()}, nil
}

func (f *fakeCRI) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest, _ ...grpc.CallOption) (*runtimeapi.PortForwardResponse, error) {
	return &runtimeapi.PortForwardResponse{Url: f.streamingURL + "/portforward?sandbox=" + req.PodSandboxId}, nil
}

func sessionQuery(stdin, stdout, stderr, tty bool) url.Values {
	q := url.Values{}
	for name, on := range map[string]bool{"stdin": stdin, "stdout": stdout, "stderr": stderr, "tty": tty} {
		if on {
			q.Set(name, "1")
		}
	}
	return q
}

// newFakeStreamingServer serves SPDY remote command (v4 only, like
// containerd 1.6) and port-forward sessions. Commands:
//
//	echo          copy stdin to stdout
//	fail CODE     write "oops" to stderr and exit with CODE
//	size          print the first terminal size as WxH
//	broken        fail with a plain error message
//
// Port-forward data streams answer "port N: " followed by the echo.
func newFakeStreamingServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exec", "/attach":
			serveFakeSession(t, w, r)
		case "/portforward":
			serveFakePortForward(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func acceptStreams(w http.ResponseWriter, r *http.Request, protocols []string) (httpstream.Connection, <-chan httpstream.Stream, bool) {
	if _, err := httpstream.Handshake(r, w, protocols); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, nil, false
	}
	streams := make(chan httpstream.Stream, 16)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	return conn, streams, conn != nil
}

func serveFakeSession(t *testing.T, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		// The runtime's legacy WebSocket protocols (v1-v4, base64).
		u := websocket.Upgrader{Subprotocols: []string{remotecommand.StreamProtocolV4Name, "base64.channel.k8s.io"}}
		ws, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.BinaryMessage, append([]byte{1}, "legacy websocket: "+strings.Join(q["cmd"], " ")...))
		return
	}
	conn, incoming, ok := acceptStreams(w, r, []string{remotecommand.StreamProtocolV4Name})
	if !ok {
		return
	}
	defer conn.Close()
	want := map[string]bool{corev1.StreamTypeError: true}
	if q.Get("stdin") == "1" {
		want[corev1.StreamTypeStdin] = true
	}
	if q.Get("stdout") == "1" {
		want[corev1.StreamTypeStdout] = true
	}
	if q.Get("stderr") == "1" && q.Get("tty") != "1" {
		want[corev1.StreamTypeStderr] = true
	}
	if q.Get("tty") == "1" {
		want[corev1.StreamTypeResize] = true
	}
	streams := map[string]httpstream.Stream{}
	timeout := time.After(10 * time.Second)
	for len(streams) < len(want) {
		select {
		case s := <-incoming:
			streams[s.Headers().Get(corev1.StreamType)] = s
		case <-timeout:
			t.Errorf("fake streaming server: got streams %v, want %v", streams, want)
			return
		}
	}
	status := runFakeCommand(q["cmd"], streams)
	if data, err := json.Marshal(status); err == nil {
		_, _ = streams[corev1.StreamTypeError].Write(data)
	}
	for _, s := range streams {
		_ = s.Close()
	}
}

func runFakeCommand(cmd []string, streams map[string]httpstream.Stream) metav1.Status {
	out := streams[corev1.StreamTypeStdout]
	if len(cmd) == 0 {
		return metav1.Status{Status: metav1.StatusFailure, Message: "no command"}
	}
	switch cmd[0] {
	case "echo":
		if in := streams[corev1.StreamTypeStdin]; in != nil && out != nil {
			_, _ = io.Copy(out, in)
		}
	case "fail":
		if errOut := streams[corev1.StreamTypeStderr]; errOut != nil {
			_, _ = io.WriteString(errOut, "oops")
		}
		return metav1.Status{Status: metav1.StatusFailure, Reason: remotecommand.NonZeroExitCodeReason,
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: remotecommand.ExitCodeCauseType, Message: cmd[1]}}}}
	case "size":
		var size struct{ Width, Height uint16 }
		if err := json.NewDecoder(streams[corev1.StreamTypeResize]).Decode(&size); err != nil {
			return metav1.Status{Status: metav1.StatusFailure, Message: "no size: " + err.Error()}
		}
		_, _ = fmt.Fprintf(out, "%dx%d", size.Width, size.Height)
	case "broken":
		return metav1.Status{Status: metav1.StatusFailure, Message: "runtime exploded"}
	}
	return metav1.Status{Status: metav1.StatusSuccess}
}

func serveFakePortForward(w http.ResponseWriter, r *http.Request) {
	conn, incoming, ok := acceptStreams(w, r, []string{"portforward.k8s.io"})
	if !ok {
		return
	}
	defer conn.Close()
	var (
		mu        sync.Mutex
		errStream = map[string]httpstream.Stream{}
	)
	for {
		select {
		case s := <-incoming:
			id := s.Headers().Get(corev1.PortForwardRequestIDHeader)
			if s.Headers().Get(corev1.StreamType) == corev1.StreamTypeError {
				mu.Lock()
				errStream[id] = s
				mu.Unlock()
				continue
			}
			go func() {
				_, _ = io.WriteString(s, "port "+s.Headers().Get(corev1.PortHeader)+": ")
				_, _ = io.Copy(s, s)
				_ = s.Close()
				mu.Lock()
				if e := errStream[id]; e != nil {
					_ = e.Close()
				}
				mu.Unlock()
			}()
		case <-conn.CloseChan():
			return
		case <-r.Context().Done():
			return
		}
	}
}
