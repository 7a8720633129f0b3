//go:build linux

package agent

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skiff-io/skiff/internal/agent/overlay"
)

// TestOverlayLoopTwoNamespaces runs the wiring loop of two "nodes" —
// network namespaces on a bridge in a third one, addresses in
// 198.19.10.0/24, each with a "pod" namespace on a node-local bridge in
// its pod CIDR (10.98.N.0/24) — against one fake clientset: a lone node
// gets no VXLAN device; once the second Node appears both publish their
// annotations and their pods reach each other; when a Node is deleted
// its peer removes the routes and, with no peer left, the device.
func TestOverlayLoopTwoNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	prefix := fmt.Sprintf("h10-%x", b)
	nsName := func(role string, i int) string { return fmt.Sprintf("%s-%s%d", prefix, role, i) }
	sw := prefix + "-sw"
	all := []string{sw, nsName("n", 0), nsName("p", 0), nsName("n", 1), nsName("p", 1)}
	t.Cleanup(func() {
		for _, n := range all {
			_ = exec.Command("ip", "netns", "del", n).Run()
		}
	})
	for _, n := range all {
		ipRun(t, "netns", "add", n)
		ipRun(t, "-n", n, "link", "set", "lo", "up")
	}
	ipRun(t, "-n", sw, "link", "add", "br0", "type", "bridge")
	ipRun(t, "-n", sw, "link", "set", "br0", "up")
	names := [2]string{"node-a", "node-b"}
	var nodeIPs [2]netip.Addr
	var podIPs [2]netip.Addr
	var cidrs [2]netip.Prefix
	for i := range 2 {
		node, pod := nsName("n", i), nsName("p", i)
		nodeIPs[i] = netip.MustParseAddr(fmt.Sprintf("198.19.10.%d", i+1))
		cidrs[i] = netip.MustParsePrefix(fmt.Sprintf("10.98.%d.0/24", i+1))
		podIPs[i] = netip.MustParseAddr(fmt.Sprintf("10.98.%d.2", i+1))
		gw := fmt.Sprintf("10.98.%d.1", i+1)
		port := fmt.Sprintf("s%d", i)
		ipRun(t, "-n", node, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", sw)
		ipRun(t, "-n", sw, "link", "set", port, "master", "br0", "up")
		ipRun(t, "-n", node, "addr", "add", nodeIPs[i].String()+"/24", "dev", "eth0")
		ipRun(t, "-n", node, "link", "set", "eth0", "up")
		ipRun(t, "-n", node, "link", "add", "cbr0", "type", "bridge")
		ipRun(t, "-n", node, "addr", "add", gw+"/24", "dev", "cbr0")
		ipRun(t, "-n", node, "link", "set", "cbr0", "up")
		ipRun(t, "-n", node, "route", "add", "unreachable", "10.98.0.0/16") // as the agent does
		ipRun(t, "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		ipRun(t, "-n", pod, "link", "add", "eth0", "type", "veth", "peer", "name", "veth0", "netns", node)
		ipRun(t, "-n", node, "link", "set", "veth0", "master", "cbr0", "up")
		ipRun(t, "-n", pod, "addr", "add", podIPs[i].String()+"/24", "dev", "eth0")
		ipRun(t, "-n", pod, "link", "set", "eth0", "up")
		ipRun(t, "-n", pod, "route", "add", "default", "via", gw)
		mtu := fmt.Sprint(podNetworkMTU(nodeIPs[i], 1500, overlay.ModeVXLAN))
		ipRun(t, "-n", pod, "link", "set", "eth0", "mtu", mtu)
		ipRun(t, "-n", node, "link", "set", "veth0", "mtu", mtu)
	}

	client := fake.NewClientset(testNode(names[0], nodeIPs[0].String(), cidrs[0].String(), false))
	var applied [2]*countingApplier
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range 2 {
		ns, err := netns.GetFromName(nsName("n", i))
		if err != nil {
			t.Fatal(err)
		}
		app, err := overlay.NewApplierAt(ns, slog.New(slog.DiscardHandler))
		ns.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(app.Close)
		applied[i] = &countingApplier{a: app}
		loop := &overlayLoop{client: client, self: overlaySelf(names[i], nodeIPs[i], cidrs[i], overlay.ModeVXLAN),
			mode: overlay.ModeVXLAN, applier: applied[i], resync: time.Second, log: slog.New(slog.DiscardHandler)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loop.run(ctx); err != nil {
				t.Errorf("loop of %s: %v", names[i], err)
			}
		}()
	}

	// Node A alone: it publishes its annotations, but gets no device.
	poll(t, "node-a publishes its annotations", func() error {
		n, err := client.CoreV1().Nodes().Get(ctx, names[0], metav1.GetOptions{})
		if err != nil {
			return err
		}
		want := overlay.VTEPMAC(nodeIPs[0]).String()
		if n.Annotations[overlay.AnnotationVTEPMAC] != want || n.Annotations[overlay.AnnotationPublicIP] != nodeIPs[0].String() {
			return fmt.Errorf("annotations %v", n.Annotations)
		}
		return nil
	})
	// Two syncs: the one that published and one that saw the result.
	poll(t, "node-a syncs twice", func() error {
		if n := applied[0].count(); n < 2 {
			return fmt.Errorf("%d syncs", n)
		}
		return nil
	})
	if out := ipOut(t, "-n", nsName("n", 0), "-d", "link", "show"); strings.Contains(out, overlay.DeviceName) {
		t.Fatalf("a single node got a VXLAN device:\n%s", out)
	}

	// Node B joins: both get the device and routes, the pods talk.
	if _, err := client.CoreV1().Nodes().Create(ctx, testNode(names[1], nodeIPs[1].String(), cidrs[1].String(), false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "pod on node-a reaches pod on node-b", func() error { return pingFrom(nsName("p", 0), podIPs[1]) })
	poll(t, "pod on node-b reaches pod on node-a", func() error { return pingFrom(nsName("p", 1), podIPs[0]) })
	if out := ipOut(t, "-n", nsName("n", 0), "route", "show", cidrs[1].String()); !strings.Contains(out, overlay.DeviceName) {
		t.Fatalf("route to node-b's pods on node-a: %q", out)
	}

	// Node B is deleted: node A removes its route and, with no peer
	// left, its device (and with it the FDB and neighbour entries).
	if err := client.CoreV1().Nodes().Delete(ctx, names[1], metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "node-a forgets node-b", func() error {
		if out := ipOut(t, "-n", nsName("n", 0), "route", "show", cidrs[1].String()); strings.TrimSpace(out) != "" {
			return fmt.Errorf("route left: %q", out)
		}
		if out := ipOut(t, "-n", nsName("n", 0), "link", "show"); strings.Contains(out, overlay.DeviceName) {
			return fmt.Errorf("device left:\n%s", out)
		}
		return nil
	})
}

// countingApplier counts the plans it passes on.
type countingApplier struct {
	a  *overlay.Applier
	mu sync.Mutex
	n  int
}

func (c *countingApplier) Apply(d overlay.Desired) (overlay.Status, error) {
	st, err := c.a.Apply(d)
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return st, err
}

func (c *countingApplier) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func ipRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func ipOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pingFrom sends one ICMP echo from namespace ns, with ping or busybox's.
func pingFrom(ns string, dst netip.Addr) error {
	args := []string{"netns", "exec", ns, "ping", "-c1", "-W1", dst.String()}
	if _, err := exec.LookPath("ping"); err != nil {
		if _, err := exec.LookPath("busybox"); err != nil {
			return fmt.Errorf("no ping or busybox to ping with")
		}
		args = append(args[:3], append([]string{"busybox"}, args[3:]...)...)
	}
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ping %s from %s: %v: %s", dst, ns, err, out)
	}
	return nil
}

// poll retries check until it succeeds or 20 s pass.
func poll(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
