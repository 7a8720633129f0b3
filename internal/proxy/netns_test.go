package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/iptables"
	"github.com/skiff-io/skiff/internal/proxy/nftables"
	"github.com/skiff-io/skiff/internal/testserver"
)

// inNetns runs fn on a thread switched into the named network namespace.
// The thread is never switched back: it stays locked and is discarded
// when the goroutine ends.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// netnsSysctl sets kernel parameters of a network namespace.
type netnsSysctl struct{ netns string }

func (s netnsSysctl) Get(name string) (v string, err error) {
	err = inNetns(s.netns, func() error { v, err = ProcSysctl{}.Get(name); return err })
	return v, err
}

func (s netnsSysctl) Set(name, value string) error {
	return inNetns(s.netns, func() error { return ProcSysctl{}.Set(name, value) })
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// netnsPair makes a "node" namespace and a "pod" namespace joined by a
// veth pair: pod 198.18.5.2 behind node 198.18.5.1, and an uplink
// 198.18.6.1 carrying the node's default route. Nothing is created in
// the test process's own namespace.
func netnsPair(t *testing.T) (nodeNS, podNS string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, tool := range []string{"ip", "iptables-restore", "iptables-save", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	id := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	nodeNS, podNS = "skfproxy-n-"+id, "skfproxy-p-"+id
	run(t, "ip", "netns", "add", nodeNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nodeNS).Run() })
	run(t, "ip", "netns", "add", podNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", podNS).Run() })
	n := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", nodeNS}, args...)...) }
	p := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", podNS}, args...)...) }
	n("ip", "link", "set", "lo", "up")
	n("ip", "link", "add", "vn0", "type", "veth", "peer", "name", "vp0", "netns", podNS)
	n("ip", "addr", "add", "198.18.5.1/24", "dev", "vn0")
	n("ip", "link", "set", "vn0", "up")
	// An uplink (no dummy driver on every kernel: a veth pair whose far
	// end stays unused).
	n("ip", "link", "add", "up0", "type", "veth", "peer", "name", "up1")
	n("ip", "addr", "add", "198.18.6.1/24", "dev", "up0")
	n("ip", "link", "set", "up1", "up")
	n("ip", "link", "set", "up0", "up")
	n("ip", "route", "add", "default", "dev", "up0")
	p("ip", "link", "set", "lo", "up")
	p("ip", "addr", "add", "198.18.5.2/24", "dev", "vp0")
	p("ip", "link", "set", "vp0", "up")
	p("ip", "route", "add", "default", "via", "198.18.5.1")
	return nodeNS, podNS
}

// serveTCP answers every connection in netns on addr with
// "<greeting> <peer>".
func serveTCP(t *testing.T, netns, addr, greeting string) {
	var ln net.Listener
	if err := inNetns(netns, func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s %s\n", greeting, c.RemoteAddr().(*net.TCPAddr).IP)
			c.Close()
		}
	}()
}

// serveUDP echoes "udp <peer>" to every datagram.
func serveUDP(t *testing.T, netns, addr string) {
	var pc net.PacketConn
	if err := inNetns(netns, func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 100)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte("udp "+from.(*net.UDPAddr).IP.String()+"\n"), from)
		}
	}()
}

// get connects from netns to addr and returns the first line answered.
func get(netns, network, addr string) (string, error) {
	var line string
	err := inNetns(netns, func() error {
		c, err := net.DialTimeout(network, addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if network == "udp" {
			if _, err := c.Write([]byte("ping")); err != nil {
				return err
			}
		}
		line, err = bufio.NewReader(c).ReadString('\n')
		return err
	})
	return strings.TrimSpace(line), err
}

// netnsNFT runs knftables inside a network namespace: commands it
// executes inherit the namespace of the locked thread that starts them.
type netnsNFT struct {
	knftables.Interface
	netns string
}

func (n netnsNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	return inNetns(n.netns, func() error { return n.Interface.Run(ctx, tx) })
}

func (n netnsNFT) List(ctx context.Context, objectType string) (out []string, err error) {
	err = inNetns(n.netns, func() error { out, err = n.Interface.List(ctx, objectType); return err })
	return out, err
}

func TestProxyInNetns(t *testing.T) {
	for _, mode := range []Mode{ModeIPTables, ModeNFTables} {
		t.Run(string(mode), func(t *testing.T) { testProxyInNetns(t, mode) })
	}
}

func testProxyInNetns(t *testing.T, mode Mode) {
	nodeNS, podNS := netnsPair(t)
	var nft knftables.Interface
	if mode == ModeNFTables {
		if _, err := exec.LookPath("nft"); err != nil {
			t.Skip("nft not installed")
		}
		if err := inNetns(nodeNS, func() (err error) {
			nft, err = knftables.New(knftables.IPv4Family, nftables.TableName)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		nft = netnsNFT{nft, nodeNS}
	}
	serveTCP(t, podNS, "198.18.5.2:8080", "hello")
	run(t, "ip", "netns", "exec", podNS, "ip", "addr", "add", "198.18.5.3/24", "dev", "vp0")
	serveTCP(t, podNS, "198.18.5.3:8080", "other")
	serveUDP(t, podNS, "198.18.5.2:5353")

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.77.10", ClusterIPs: []string{"10.96.77.10"},
			Ports: []corev1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, NodePort: 30080},
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, NodePort: 30053},
			},
		},
	}
	ready := true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr(int32(8080))},
			{Name: ptr("dns"), Protocol: ptr(corev1.ProtocolUDP), Port: ptr(int32(5353))},
		},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"198.18.5.2"}, NodeName: ptr("node-a"), Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}
	client := fake.NewClientset(svc, slice)
	p, err := New(Config{
		NodeName: "node-a", ClusterCIDR: "198.18.5.0/24", Client: client, Mode: mode, NFTables: nft,
		SyncInterval: 200 * time.Millisecond,
		Executor:     iptables.NetnsExecutor{Netns: nodeNS}, Sysctl: netnsSysctl{nodeNS},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	expect := func(what, ns, network, addr, want string) {
		t.Helper()
		testserver.Eventually(t, 10*time.Second, what, func() error {
			got, err := get(ns, network, addr)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("got %q, want %q", got, want)
			}
			return nil
		})
	}
	// From the node itself: its source (the uplink address) is outside
	// the cluster CIDR, so the pod sees the masqueraded node address.
	expect("node -> ClusterIP", nodeNS, "tcp", "10.96.77.10:80", "hello 198.18.5.1")
	expect("node -> own NodePort", nodeNS, "tcp", "198.18.6.1:30080", "hello 198.18.5.1")
	expect("node -> ClusterIP over UDP", nodeNS, "udp", "10.96.77.10:53", "udp 198.18.5.1")
	// The pod reaching itself through its Service (hairpin) is
	// masqueraded too, or it would drop its own address as a martian.
	expect("pod -> own ClusterIP (hairpin)", podNS, "tcp", "10.96.77.10:80", "hello 198.18.5.1")
	expect("pod -> NodePort", podNS, "tcp", "198.18.5.1:30080", "hello 198.18.5.1")

	if v, err := (netnsSysctl{nodeNS}).Get("net.ipv4.ip_forward"); err != nil || v != "1" {
		t.Errorf("ip_forward in the node namespace = %q, %v; want 1", v, err)
	}

	// Someone wipes the rules: the periodic check notices and resyncs.
	if mode == ModeNFTables {
		run(t, "ip", "netns", "exec", nodeNS, "nft", "delete", "table", "ip", nftables.TableName)
	} else {
		run(t, "ip", "netns", "exec", nodeNS, "iptables", "-t", "nat", "-F", "OUTPUT")
		run(t, "ip", "netns", "exec", nodeNS, "iptables", "-t", "nat", "-F", "PREROUTING")
	}
	expect("ClusterIP after the rules were restored", nodeNS, "tcp", "10.96.77.10:80", "hello 198.18.5.1")

	// The endpoint stops being ready: new connections are refused at once
	// (REJECT), not left to time out.
	ready = false
	start := time.Now()
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 10*time.Second, "ClusterIP refused without endpoints", func() error {
		_, err := get(nodeNS, "tcp", "10.96.77.10:80")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("dial: %v, want connection refused", err)
		}
		return nil
	})
	t.Logf("endpoint removal took effect after %v", time.Since(start))
	testserver.Eventually(t, 10*time.Second, "NodePort refused without endpoints", func() error {
		_, err := get(podNS, "tcp", "198.18.5.1:30080")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("dial: %v, want connection refused", err)
		}
		return nil
	})

	// And back.
	ready = true
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("ClusterIP after the endpoint returns", nodeNS, "tcp", "10.96.77.10:80", "hello 198.18.5.1")

	// A second endpoint: new connections spread over both.
	slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{"198.18.5.3"}, NodeName: ptr("node-b")})
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	testserver.Eventually(t, 10*time.Second, "both endpoints answer", func() error {
		got, err := get(nodeNS, "tcp", "10.96.77.10:80")
		if err != nil {
			return err
		}
		seen[strings.Fields(got)[0]] = true
		if !seen["hello"] || !seen["other"] {
			return fmt.Errorf("answers so far: %v", seen)
		}
		return nil
	})

	// ClientIP affinity pins the client to one endpoint.
	svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
	if _, err := client.CoreV1().Services("default").Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 10*time.Second, "affinity pins the client", func() error {
		first := ""
		for range 16 {
			got, err := get(nodeNS, "tcp", "10.96.77.10:80")
			if err != nil {
				return err
			}
			if first == "" {
				first = got
			} else if got != first {
				return fmt.Errorf("answers %q and %q", first, got)
			}
		}
		return nil
	})

	// Deleting the Service removes its chains.
	if err := client.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 10*time.Second, "service chains removed", func() error {
		out, err := exec.Command("ip", "netns", "exec", nodeNS, "iptables-save", "-t", "nat").CombinedOutput()
		if mode == ModeNFTables {
			out, err = exec.Command("ip", "netns", "exec", nodeNS, "nft", "list", "table", "ip", nftables.TableName).CombinedOutput()
		}
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		if m := regexp.MustCompile(`SKIFF-(SVC|SEP)-|chain (service|endpoint)-[a-z2-7]{16} `).Find(out); m != nil {
			return fmt.Errorf("%s chains still present", m)
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }
