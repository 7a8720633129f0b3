package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/agent/agentserver"
	"github.com/skiff-io/skiff/internal/pki"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// streamEnv is an API server front (agentProxy behind a plain HTTP test
// server), a real agent API over mutual TLS with certificates from a
// real cluster CA, a fake runtime and a fake streaming server.
type streamEnv struct {
	api    *httptest.Server
	agent  *httptest.Server
	proxy  *agentProxy
	pods   map[string]*corev1.Pod
	nodes  map[string]*corev1.Node
	config *rest.Config
	// clientTLS is the API server's client configuration for the agent.
	clientTLS *tls.Config
}

// testPods are the pods every streamEnv knows, in namespace "default".
func testPods() []*corev1.Pod {
	pod := func(name, node string, containers ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{NodeName: node}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}})
		}
		p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.5"}}
		return p
	}
	multi := pod("multi", "node-1", "a", "b")
	multi.Spec.InitContainers = []corev1.Container{{Name: "setup"}}
	return []*corev1.Pod{
		pod("web", "node-1", "app"),
		multi,
		pod("pending", "", "app"),
		pod("lost", "gone", "app"),
		pod("stopped", "node-1", "app"),
	}
}

func newStreamEnv(t *testing.T, logs func(context.Context, agentserver.LogRequest, io.Writer) error) *streamEnv {
	t.Helper()
	bundle, err := pki.Ensure(pki.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := bundle.IssueServingCert("node-1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	agentTLS, err := agentserver.TLSConfig(bundle.CAPEM(), certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	streaming := newFakeStreamingServer(t)
	resolve := func(_ context.Context, ns, pod, container string) (string, string, error) {
		if pod == "stopped" {
			return "", "", fmt.Errorf("container %q in pod %q is not running: %w", container, pod, agentserver.ErrNotFound)
		}
		return "ctr-" + container, "sandbox-" + pod, nil
	}
	agent := httptest.NewUnstartedServer(agentserver.New(agentserver.Config{
		Logs: logs, Resolve: resolve, Runtime: &fakeCRI{streamingURL: streaming.URL},
		Pods:   func() []*corev1.Pod { return testPods()[:1] },
		Logger: testLogger(),
	}))
	agent.TLS = agentTLS
	agent.StartTLS()
	t.Cleanup(agent.Close)
	port, _ := strconv.Atoi(agent.URL[len("https://127.0.0.1:"):])

	env := &streamEnv{agent: agent, pods: map[string]*corev1.Pod{}, nodes: map[string]*corev1.Node{}, clientTLS: bundle.KubeletClientTLSConfig()}
	for _, p := range testPods() {
		env.pods[p.Name] = p
	}
	env.nodes["node-1"] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Status: corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "node-1"}, {Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
	}}
	getPod := func(_ context.Context, ns, name string) (*corev1.Pod, error) {
		if p, ok := env.pods[name]; ok && ns == "default" {
			return p, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, name)
	}
	getNode := func(_ context.Context, name string) (*corev1.Node, error) {
		if n, ok := env.nodes[name]; ok {
			return n, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, name)
	}
	env.proxy = newAgentProxy(getPod, getNode, env.clientTLS, testLogger())
	env.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := parseRequestInfo(r)
		name, subpath, okSub := proxySubpath(info.Subresource)
		if !ok || !okSub {
			notFound(w)
			return
		}
		if err := env.proxy.serve(w, r, info.Resource+"/"+name, info, subpath); err != nil {
			writeError(w, err)
		}
	}))
	t.Cleanup(env.api.Close)
	env.config = &rest.Config{Host: env.api.URL}
	return env
}

// podURL is the API URL of a pod subresource in namespace default.
func (e *streamEnv) podURL(pod, sub, query string) string {
	u := e.api.URL + "/api/v1/namespaces/default/pods/" + pod + "/" + sub
	if query != "" {
		u += "?" + query
	}
	return u
}

// redirectDirect makes the proxy's direct transport (pods, other node
// ports) dial target whatever address it is asked for, so proxying to
// pod IPs can be tested without any traffic leaving the machine.
func (e *streamEnv) redirectDirect(target string) {
	e.proxy.direct.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, target)
	}
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
