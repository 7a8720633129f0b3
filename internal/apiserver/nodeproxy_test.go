package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeProxyToAgent(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	get := func(path string) (int, string) {
		resp, err := http.Get(env.api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/nodes/node-1/proxy/healthz"); code != 200 || body != "ok" {
		t.Errorf("healthz through nodes/proxy = %d %q", code, body)
	}
	code, body := get("/api/v1/nodes/node-1/proxy/pods")
	var list corev1.PodList
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != 200 || len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Errorf("pods through nodes/proxy = %d %q", code, body)
	}
	if code, body := get("/api/v1/nodes/node-1/proxy?path=/healthz"); code != 200 || body != "ok" {
		t.Errorf("path parameter = %d %q", code, body)
	}
	if code, _ := get("/api/v1/nodes/node-1:" + env.agent.URL[len("https://127.0.0.1:"):] + "/proxy/healthz"); code != 200 {
		t.Errorf("explicit agent port = %d", code)
	}
	for path, want := range map[string]int{
		"/api/v1/nodes/nope/proxy/healthz":         404,
		"/api/v1/nodes/node-1:9999/proxy/healthz":  400, // loopback on another port: not allowed
		"/api/v1/nodes/a:b:c:d/proxy/":             400,
		"/api/v1/nodes/node-1/proxy/no/such/thing": 404, // the agent's own 404
	} {
		if code, body := get(path); code != want {
			t.Errorf("%s = %d %s, want %d", path, code, body, want)
		}
	}
}

func TestPodProxy(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	var gotPath, gotQuery string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery = r.URL.Path, r.URL.RawQuery
		_, _ = io.WriteString(w, "pod says hi")
	}))
	defer backend.Close()
	env.redirectDirect(backend.Listener.Addr().String())

	resp, err := http.Get(env.api.URL + "/api/v1/namespaces/default/pods/web:8080/proxy/some/path?x=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "pod says hi" || gotPath != "/some/path" || gotQuery != "x=1" {
		t.Errorf("pods/proxy = %d %q, backend saw %q ?%q", resp.StatusCode, body, gotPath, gotQuery)
	}

	// Without a port the first container port is used; the request goes
	// to the pod's IP (redirected here to the backend).
	resp, err = http.Get(env.api.URL + "/api/v1/namespaces/default/pods/web/proxy/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || gotPath != "/" {
		t.Errorf("pods/proxy root = %d, backend saw %q", resp.StatusCode, gotPath)
	}

	env.pods["web"].Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	resp, err = http.Get(env.api.URL + "/api/v1/namespaces/default/pods/web/proxy/")
	if err != nil {
		t.Fatal(err)
	}
	var st metav1.Status
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != 400 || st.Message != "address not allowed" {
		t.Errorf("loopback pod IP = %d %+v", resp.StatusCode, st)
	}
}

func TestProxyUnreachable(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	env.proxy.direct.DialContext = func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("dial refused for the test")
	}
	resp, err := http.Get(env.api.URL + "/api/v1/namespaces/default/pods/web/proxy/x")
	if err != nil {
		t.Fatal(err)
	}
	var st metav1.Status
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	// As in Kubernetes: the proxy transport reports a 503.
	if resp.StatusCode != 503 || st.Message != "error trying to reach service: dial refused for the test" {
		t.Errorf("unreachable pod = %d %+v", resp.StatusCode, st)
	}
}

// TestNodeProxyResolvesNames checks that nodes/proxy to a port other than
// the agent's refuses a node whose address is a name resolving to
// loopback (it would reach the API server's own host), and one whose name
// does not resolve.
func TestNodeProxyResolvesNames(t *testing.T) {
	env := newStreamEnv(t, noLogs)
	env.proxy.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "loopy" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("no such host")
	}
	for _, name := range []string{"loopy", "unresolvable"} {
		env.nodes[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}},
		}}
		resp, err := http.Get(env.api.URL + "/api/v1/nodes/" + name + ":9999/proxy/healthz")
		if err != nil {
			t.Fatal(err)
		}
		var st metav1.Status
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("node %s: %d %+v, want 400", name, resp.StatusCode, st)
		}
	}
}
