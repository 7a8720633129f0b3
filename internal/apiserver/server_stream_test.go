package apiserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/agent/agentserver"
	"github.com/skiff-io/skiff/internal/apiserver/patch"
	"github.com/skiff-io/skiff/internal/etcd"
	"github.com/skiff-io/skiff/internal/registry/all"
	"github.com/skiff-io/skiff/internal/storage"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
)

// startServer runs the whole API server over an embedded etcd, with
// clientTLS for its agent connections, and returns its URL.
func startServer(t *testing.T, clientTLS *tls.Config) string {
	t.Helper()
	ports := make([]int, 2)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	db, err := etcd.New(etcd.Config{DataDir: filepath.Join(t.TempDir(), "etcd"), ClientPort: ports[0], PeerPort: ports[1]})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := storage.New(storage.Config{Client: db.Client(), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: store, Resources: all.Resources(), Scheme: scheme.Scheme,
		FieldManager: patch.NewManager(scheme.Scheme), Logger: testLogger(), AgentClientTLS: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { _ = db.Run(ctx); done <- struct{}{} }()
	go func() { _ = store.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	select {
	case <-store.Ready():
	case <-time.After(60 * time.Second):
		t.Fatal("storage not ready")
	}
	api := httptest.NewServer(srv)
	t.Cleanup(api.Close)
	return api.URL
}

// TestStreamingThroughServer drives the subresources through the real API
// server (routing, registry, storage) to a real agent API.
func TestStreamingThroughServer(t *testing.T) {
	env := newStreamEnv(t, func(_ context.Context, req agentserver.LogRequest, w io.Writer) error {
		_, err := fmt.Fprintf(w, "log of %s/%s\n", req.Pod, req.Container)
		return err
	})
	base := startServer(t, env.clientTLS)
	cfg := &rest.Config{Host: base}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := streamCtx(t)
	if _, err := cs.CoreV1().Nodes().Create(ctx, env.nodes["node-1"].DeepCopy(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node: %v", err)
	}
	for _, name := range []string{"web", "pending"} {
		p := env.pods[name].DeepCopy()
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].Image = "busybox"
		}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating pod %s: %v", name, err)
		}
	}

	raw, err := cs.CoreV1().Pods("default").GetLogs("web", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || string(raw) != "log of web/app\n" {
		t.Errorf("logs = %q, %v", raw, err)
	}

	execURL := base + "/api/v1/namespaces/default/pods/web/exec?command=echo&stdin=true&stdout=true"
	ws, err := remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, execURL)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ws.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("via server"), Stdout: &out}); err != nil || out.String() != "via server" {
		t.Errorf("exec = %q, %v", out.String(), err)
	}

	pfURL, _ := url.Parse(base + "/api/v1/namespaces/default/pods/web/portforward")
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(pfURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := forward(t, tunnel, "hi"); got != "port 8080: hi" {
		t.Errorf("port-forward read %q", got)
	}

	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/node-1/proxy/healthz").DoRaw(ctx)
	if err != nil || string(body) != "ok" {
		t.Errorf("nodes/proxy = %q, %v", body, err)
	}

	unscheduled, err := remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, base+"/api/v1/namespaces/default/pods/pending/exec?command=echo&stdout=true")
	if err != nil {
		t.Fatal(err)
	}
	if err := unscheduled.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard}); err == nil || !strings.Contains(err.Error(), "pod pending does not have a host assigned") {
		t.Errorf("exec in unscheduled pod: %v", err)
	}

	for path, want := range map[string]int{
		"/api/v1/namespaces/default/pods/web/status/x": 404,
		"/api/v1/namespaces/default/pods/web/log/x":    404,
		"/api/v1/nodes/node-1/status":                  200,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}

	resources, err := cs.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range resources.APIResources {
		found[r.Name] = true
	}
	for _, want := range []string{"pods/log", "pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "nodes/proxy"} {
		if !found[want] {
			t.Errorf("discovery lacks %s", want)
		}
	}
}
