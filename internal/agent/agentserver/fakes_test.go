package agentserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeRuntime records CRI streaming requests and answers with url (or err).
type fakeRuntime struct {
	url string
	err error

	mu          sync.Mutex
	exec        *runtimeapi.ExecRequest
	attach      *runtimeapi.AttachRequest
	portForward *runtimeapi.PortForwardRequest
}

func (f *fakeRuntime) Exec(_ context.Context, req *runtimeapi.ExecRequest, _ ...grpc.CallOption) (*runtimeapi.ExecResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exec = req
	if f.err != nil {
		return nil, f.err
	}
	return &runtimeapi.ExecResponse{Url: f.url + "/exec/tok"}, nil
}

func (f *fakeRuntime) Attach(_ context.Context, req *runtimeapi.AttachRequest, _ ...grpc.CallOption) (*runtimeapi.AttachResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attach = req
	if f.err != nil {
		return nil, f.err
	}
	return &runtimeapi.AttachResponse{Url: f.url + "/attach/tok"}, nil
}

func (f *fakeRuntime) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest, _ ...grpc.CallOption) (*runtimeapi.PortForwardResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.portForward = req
	if f.err != nil {
		return nil, f.err
	}
	return &runtimeapi.PortForwardResponse{Url: f.url + "/portforward/tok"}, nil
}

// requests returns the recorded requests.
func (f *fakeRuntime) requests() (*runtimeapi.ExecRequest, *runtimeapi.AttachRequest, *runtimeapi.PortForwardRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exec, f.attach, f.portForward
}

// upgradeEcho is a fake streaming server: it records the request, switches
// protocols and echoes every byte back.
type upgradeEcho struct {
	got chan *http.Request
}

func newUpgradeEcho(t *testing.T) (*upgradeEcho, *httptest.Server) {
	u := &upgradeEcho{got: make(chan *http.Request, 1)}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return u, srv
}

func (u *upgradeEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.got <- r.Clone(context.Background())
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")
	_ = brw.Flush()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.Copy(conn, brw)
}

// upgrade sends an upgrade request for path to the server at addr and
// returns the response and the connection, which carries the upgraded
// stream after a 101.
func upgrade(t *testing.T, addr, method, path string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: agent\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n", method, path)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading upgrade response: %v", err)
	}
	return resp, conn, br
}

// decodeStatus reads a Status answer.
func decodeStatus(t *testing.T, body io.Reader) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		t.Fatalf("decoding Status: %v", err)
	}
	if st.Kind != "Status" || st.APIVersion != "v1" {
		t.Errorf("not a v1 Status: %+v", st)
	}
	return st
}
