package ingress_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/skiff-io/skiff/internal/ingress"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

const host = "demo.example.com"

// localIP returns an address of this host outside the loopback range
// (the API server rejects loopback endpoints). Connections to it stay on
// the machine.
func localIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			if ln, err := net.Listen("tcp", net.JoinHostPort(n.IP.String(), "0")); err == nil {
				ln.Close()
				return n.IP.String()
			}
		}
	}
	t.Skip("no non-loopback IPv4 address to stand in for pod IPs")
	return ""
}

// backend starts an HTTP server on the stand-in pod address.
func backend(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// named is a backend that answers with its name and the forwarded
// headers it saw.
func named(t *testing.T, ip, name string) *httptest.Server {
	t.Helper()
	return backend(t, ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s xff=%s proto=%s xhost=%s host=%s", name, r.Header.Get("X-Forwarded-For"),
			r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Host)
	}))
}

func portOf(t *testing.T, rawURL string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(rawURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// service creates a Service and an EndpointSlice whose endpoints are
// 127.0.0.1 ports standing in for pods.
func service(t *testing.T, cs kubernetes.Interface, ip, name string, ports ...int32) {
	t.Helper()
	ctx := context.Background()
	_, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setEndpoints(t, cs, ip, name, true, ports...)
}

func setEndpoints(t *testing.T, cs kubernetes.Interface, ip, name string, create bool, ports ...int32) {
	t.Helper()
	ctx := context.Background()
	var slices []*discoveryv1.EndpointSlice
	for i, p := range ports { // one slice per port: endpoints all share ip
		slices = append(slices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(p), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		})
	}
	for _, s := range slices {
		var err error
		if create {
			_, err = cs.DiscoveryV1().EndpointSlices("default").Create(ctx, s, metav1.CreateOptions{})
		} else {
			_, err = cs.DiscoveryV1().EndpointSlices("default").Update(ctx, s, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func prefixPath(p, svc string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: ptr.To(networkingv1.PathTypePrefix),
		Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}
}

// certFor makes a self-signed certificate for host, returned as a TLS
// Secret and a pool trusting it.
func certFor(t *testing.T, host string) (*corev1.Secret, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "demo-tls"}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{
		corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}}, pool
}

type env struct {
	cs                  kubernetes.Interface
	httpAddr, httpsAddr string
	client              *http.Client
}

func start(t *testing.T) *env {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) {
		c.DisableControllers, c.DisableScheduler, c.DisableAgent = true, true, true
	})
	in, err := ingress.New(ingress.Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", Client: s.Client})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ingress.NewStatus(ingress.StatusConfig{NodeIPs: []string{"198.18.0.7"}, Client: s.Client})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- in.Run(ctx) }()
	go func() { done <- st.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{cs: s.Client, httpAddr: in.HTTPAddr(), httpsAddr: in.HTTPSAddr(), client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// get sends a request for host+path to the HTTP listener.
func (e *env) get(host, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+e.httpAddr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func (e *env) expect(t *testing.T, host, path string, code int, bodyPrefix string) {
	t.Helper()
	testserver.Eventually(t, 0, fmt.Sprintf("GET %s%s", host, path), func() error {
		got, body, err := e.get(host, path)
		if err != nil {
			return err
		}
		if got != code || !strings.HasPrefix(body, bodyPrefix) {
			return fmt.Errorf("got %d %q, want %d %q...", got, body, code, bodyPrefix)
		}
		return nil
	})
}

func TestIngressEndToEnd(t *testing.T) {
	e := start(t)
	ctx := context.Background()

	testserver.Eventually(t, 0, "skiff IngressClass", func() error {
		c, err := e.cs.NetworkingV1().IngressClasses().Get(ctx, ingress.ClassName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] != "true" || c.Spec.Controller != ingress.ControllerName {
			return fmt.Errorf("class %+v", c)
		}
		return nil
	})

	ip := localIP(t)
	root, api := named(t, ip, "root"), named(t, ip, "api")
	// A listener closed at once gives a port nothing answers on: the
	// proxy must retry those requests on the live endpoint.
	dead, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	deadPort := int32(dead.Addr().(*net.TCPAddr).Port)
	dead.Close()
	service(t, e.cs, ip, "root", portOf(t, root.URL), deadPort)
	service(t, e.cs, ip, "api", portOf(t, api.URL))
	service(t, e.cs, ip, "empty")

	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var first atomic.Bool
	slow := backend(t, ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.Swap(true) { // only the first request stays in flight
			io.WriteString(w, "slow other")
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		started <- struct{}{}
		<-release
		io.WriteString(w, "slow done")
	}))
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	service(t, e.cs, ip, "slow", portOf(t, slow.URL))

	upgrader := websocket.Upgrader{}
	ws := backend(t, ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	}))
	service(t, e.cs, ip, "ws", portOf(t, ws.URL))

	secret, pool := certFor(t, host)
	if _, err := e.cs.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// No ingressClassName: skiff is the default class.
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "demo"},
		Spec: networkingv1.IngressSpec{
			TLS: []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "demo-tls"}},
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{prefixPath("/", "root"), prefixPath("/api", "api"),
					prefixPath("/slow", "slow"), prefixPath("/ws", "ws"), prefixPath("/empty", "empty")},
			}}}},
		},
	}
	if _, err := e.cs.NetworkingV1().Ingresses("default").Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("routing", func(t *testing.T) {
		e.expect(t, host, "/", 200, "root")
		e.expect(t, host, "/api", 200, "api")
		e.expect(t, host, "/api/v1/things", 200, "api")
		e.expect(t, host, "/apix", 200, "root")
		e.expect(t, "unknown.example.com", "/", 404, "")
		e.expect(t, host, "/empty", 503, "")
	})

	t.Run("retry on failed connect and forwarded headers", func(t *testing.T) {
		for i := range 6 { // round-robin over live and dead endpoints
			code, body, err := e.get(host+":80", "/")
			if err != nil || code != 200 {
				t.Fatalf("request %d: %d %q %v", i, code, body, err)
			}
			want := "root xff=127.0.0.1 proto=http xhost=" + host + ":80 host=" + host + ":80"
			if body != want {
				t.Fatalf("body %q, want %q", body, want)
			}
		}
	})

	t.Run("tls with sni and http2", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: host}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		req, _ := http.NewRequest(http.MethodGet, "https://"+e.httpsAddr+"/api", nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), "api ") || !strings.Contains(string(body), "proto=https") {
			t.Errorf("body %q", body)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", resp.Proto)
		}
		// Another name gets the self-signed fallback.
		conn, err := tls.Dial("tcp", e.httpsAddr, &tls.Config{ServerName: "other.example.com", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn == host {
			t.Errorf("other.example.com got %s's certificate", host)
		}
	})

	t.Run("websocket", func(t *testing.T) {
		d := websocket.Dialer{NetDial: func(string, string) (net.Conn, error) { return net.Dial("tcp", e.httpAddr) }}
		c, _, err := d.Dial("ws://"+host+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, m := range []string{"one", "two"} {
			if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "echo: "+m {
				t.Errorf("got %q", got)
			}
		}
	})

	t.Run("reconfiguration keeps requests and connections", func(t *testing.T) {
		// A keep-alive connection used before the change must be reused after it.
		if code, _, err := e.get(host, "/"); err != nil || code != 200 {
			t.Fatalf("warm-up: %d %v", code, err)
		}
		type result struct {
			body string
			err  error
		}
		inflight := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, "http://"+e.httpAddr+"/slow", nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				inflight <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			inflight <- result{string(b), err}
		}()
		select {
		case <-started:
		case r := <-inflight:
			t.Fatalf("slow request ended early: %+v", r)
		case <-time.After(testserver.WaitTimeout):
			t.Fatal("slow request never reached its backend")
		}
		// The status writer may update the Ingress meanwhile: retry conflicts.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := e.cs.NetworkingV1().Ingresses("default").Get(ctx, "demo", metav1.GetOptions{})
			if err != nil {
				return err
			}
			paths := &cur.Spec.Rules[0].HTTP.Paths
			*paths = append(*paths, prefixPath("/new", "api"))
			_, err = e.cs.NetworkingV1().Ingresses("default").Update(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		setEndpoints(t, e.cs, ip, "slow", false, portOf(t, api.URL)) // the in-flight request's endpoint goes away
		e.expect(t, host, "/new", 200, "api")
		e.expect(t, host, "/slow", 200, "api")

		var reused bool
		req, _ := http.NewRequest(http.MethodGet, "http://"+e.httpAddr+"/", nil)
		req.Host = host
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !reused {
			t.Error("client connection was not reused across the reconfiguration")
		}

		close(release)
		r := <-inflight
		if r.err != nil || r.body != "slow done" {
			t.Errorf("in-flight request: %q %v", r.body, r.err)
		}
	})

	t.Run("status", func(t *testing.T) {
		testserver.Eventually(t, 0, "ingress status", func() error {
			cur, err := e.cs.NetworkingV1().Ingresses("default").Get(ctx, "demo", metav1.GetOptions{})
			if err != nil {
				return err
			}
			lb := cur.Status.LoadBalancer.Ingress
			if len(lb) != 1 || lb[0].IP != "198.18.0.7" {
				return fmt.Errorf("status %+v", lb)
			}
			return nil
		})
	})

	t.Run("other class ignored", func(t *testing.T) {
		other := ing.DeepCopy()
		other.ResourceVersion = ""
		other.Name = "other"
		other.Spec.IngressClassName = ptr.To("nginx")
		other.Spec.TLS = nil
		other.Spec.Rules[0].Host = "other.example.com"
		if _, err := e.cs.NetworkingV1().Ingresses("default").Create(ctx, other, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		marker := ing.DeepCopy()
		marker.ResourceVersion = ""
		marker.Name = "marker"
		marker.Spec.TLS = nil
		marker.Spec.Rules[0].Host = "marker.example.com"
		if _, err := e.cs.NetworkingV1().Ingresses("default").Create(ctx, marker, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.expect(t, "marker.example.com", "/", 200, "root") // created after "other": its table is built
		e.expect(t, "other.example.com", "/", 404, "")
	})
}
