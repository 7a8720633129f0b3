package apiserver

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAgentAddress(t *testing.T) {
	node := func(port int32, addrs ...corev1.NodeAddress) *corev1.Node {
		n := &corev1.Node{}
		n.Status.Addresses = addrs
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
		return n
	}
	ip := func(t corev1.NodeAddressType, a string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: t, Address: a}
	}
	tests := []struct {
		name     string
		node     *corev1.Node
		wantHost string
		wantPort int
		wantErr  bool
	}{
		{name: "internal IP first", node: node(10250, ip(corev1.NodeHostName, "n1"), ip(corev1.NodeInternalIP, "10.0.0.2"), ip(corev1.NodeInternalIP, "10.0.0.3")), wantHost: "10.0.0.2", wantPort: 10250},
		{name: "hostname next", node: node(1234, ip(corev1.NodeExternalIP, "1.2.3.4"), ip(corev1.NodeHostName, "n1")), wantHost: "n1", wantPort: 1234},
		{name: "external last", node: node(0, ip(corev1.NodeExternalDNS, "n1.example")), wantHost: "n1.example", wantPort: 10250},
		{name: "none", node: node(1), wantErr: true},
	}
	for _, tt := range tests {
		host, port, err := agentAddress(tt.node)
		if (err != nil) != tt.wantErr || host != tt.wantHost || port != tt.wantPort {
			t.Errorf("%s: got %q %d %v", tt.name, host, port, err)
		}
	}
}

func TestAgentURL(t *testing.T) {
	u, err := agentURL("fd00::1", 10250, "/exec/ns/p/c", url.Values{"command": {"a b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := u.String(); got != "https://[fd00::1]:10250/exec/ns/p/c?command=a+b" {
		t.Errorf("agentURL = %s", got)
	}
}

func TestDefaultContainer(t *testing.T) {
	pod := func(init, regular, ephemeral []string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
		for _, n := range init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n})
		}
		for _, n := range regular {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
		}
		for _, n := range ephemeral {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: n}})
		}
		return p
	}
	tests := []struct {
		name, container string
		pod             *corev1.Pod
		want, wantErr   string
	}{
		{name: "only one", pod: pod(nil, []string{"app"}, nil), want: "app"},
		{name: "only one plus init", pod: pod([]string{"init"}, []string{"app"}, nil), want: "app"},
		{name: "named", container: "b", pod: pod(nil, []string{"a", "b"}, nil), want: "b"},
		{name: "named init", container: "i", pod: pod([]string{"i"}, []string{"a", "b"}, nil), want: "i"},
		{name: "named ephemeral", container: "debug", pod: pod(nil, []string{"a"}, []string{"debug"}), want: "debug"},
		{name: "several", pod: pod([]string{"i"}, []string{"a", "b"}, []string{"e"}), wantErr: "a container name must be specified for pod p, choose one of: [i a b e]"},
		{name: "none", pod: pod(nil, nil, nil), wantErr: "a container name must be specified for pod p"},
		{name: "unknown", container: "x", pod: pod(nil, []string{"a"}, nil), wantErr: "container x is not valid for pod p"},
	}
	for _, tt := range tests {
		got, err := defaultContainer(tt.pod, tt.container)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr || !apierrors.IsBadRequest(err) {
				t.Errorf("%s: err = %v, want bad request %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v", tt.name, got, err)
		}
	}
}

func TestPodProxyTarget(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b", Ports: []corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 81}}}}}}
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.42.0.7"}, {IP: "fd00::7"}}
	got, err := podProxyTarget(pod, "", "")
	if err != nil || got != (proxyTarget{Scheme: "http", Host: "10.42.0.7", Port: "80"}) {
		t.Errorf("default port: %+v, %v", got, err)
	}
	got, err = podProxyTarget(pod, "https", "8443")
	if err != nil || got != (proxyTarget{Scheme: "https", Host: "10.42.0.7", Port: "8443"}) {
		t.Errorf("explicit: %+v, %v", got, err)
	}
	for _, ip := range []string{"", "127.0.0.1", "169.254.1.1", "::1", "garbage"} {
		pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		if _, err := podProxyTarget(pod, "", "80"); err == nil || err.Error() != "address not allowed" {
			t.Errorf("IP %q: err = %v", ip, err)
		}
	}
}

func TestProxyableHost(t *testing.T) {
	names := map[string][]netip.Addr{
		"node-1":  {netip.MustParseAddr("10.0.0.5")},
		"sneaky":  {netip.MustParseAddr("10.0.0.6"), netip.MustParseAddr("127.0.0.1")},
		"mapped":  {netip.MustParseAddr("::ffff:127.0.0.1")},
		"linklcl": {netip.MustParseAddr("169.254.169.254")},
	}
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := names[host]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}
	for host, ok := range map[string]bool{
		"10.0.0.1": true, "node-1": true, "127.0.0.1": false, "::1": false, "fe80::1": false, "0.0.0.0": false,
		"sneaky": false, "mapped": false, "linklcl": false, "unknown": false, "::ffff:127.0.0.1": false,
	} {
		if err := proxyableHost(context.Background(), lookup, host); (err == nil) != ok {
			t.Errorf("%s: %v", host, err)
		}
	}
}

func TestProxySubpath(t *testing.T) {
	tests := []struct {
		in, name, rest string
		ok             bool
	}{
		{"proxy", "proxy", "", true},
		{"proxy/", "proxy", "", true},
		{"proxy/stats/summary", "proxy", "stats/summary", true},
		{"log", "log", "", true},
		{"status/x", "status", "", false},
	}
	for _, tt := range tests {
		name, rest, ok := proxySubpath(tt.in)
		if name != tt.name || rest != tt.rest || ok != tt.ok {
			t.Errorf("proxySubpath(%q) = %q %q %v", tt.in, name, rest, ok)
		}
	}
}

func TestJoinProxyPath(t *testing.T) {
	tests := []struct {
		base, sub string
		slash     bool
		want      string
	}{
		{"", "", false, ""},
		{"", "", true, "/"},
		{"", "a/b", false, "/a/b"},
		{"", "a/b", true, "/a/b/"},
		{"/base/", "/x", false, "/base/x"},
	}
	for _, tt := range tests {
		if got := joinProxyPath(tt.base, tt.sub, tt.slash); got != tt.want {
			t.Errorf("joinProxyPath(%q, %q, %v) = %q, want %q", tt.base, tt.sub, tt.slash, got, tt.want)
		}
	}
}

func TestAgentError(t *testing.T) {
	status := []byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"container \"x\" not found","code":404}`)
	tests := []struct {
		code     int
		body     []byte
		wantCode int32
		wantMsg  string
	}{
		{400, []byte("container is waiting\n"), 400, "container is waiting"},
		{400, []byte(`{"kind":"Status","message":"from status"}`), 400, "from status"},
		{500, []byte("boom"), 500, "Internal error occurred: boom"},
		{404, status, 404, "the server could not find the requested resource ( pods/log web)"},
		{403, []byte("forbidden"), 403, "forbidden"},
	}
	for _, tt := range tests {
		err := agentError(tt.code, tt.body, "web")
		var st apierrors.APIStatus
		if !errors.As(err, &st) || st.Status().Code != tt.wantCode || !strings.Contains(st.Status().Message, tt.wantMsg) {
			t.Errorf("agentError(%d, %s) = %v", tt.code, tt.body, err)
		}
	}
}
