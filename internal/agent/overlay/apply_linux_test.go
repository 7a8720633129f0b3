//go:build linux

package overlay

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// cluster is two "nodes" (network namespaces on a shared bridge in a
// third namespace, addresses in 198.18.0.0/24), each with a "pod"
// namespace on a node-local bridge holding the node's pod CIDR.
type cluster struct {
	t      *testing.T
	prefix string
	nodes  [2]NodeInfo
}

func (c *cluster) ns(role string, i int) string { return fmt.Sprintf("%s-%s%d", c.prefix, role, i) }
func podIP(i int) netip.Addr                    { return netip.AddrFrom4([4]byte{10, 97, byte(i + 1), 2}) }

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newCluster(t *testing.T) *cluster {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	c := &cluster{t: t, prefix: fmt.Sprintf("ovl%x", b)}
	sw := c.prefix + "-sw"
	all := []string{sw}
	for i := range 2 {
		all = append(all, c.ns("n", i), c.ns("p", i))
	}
	t.Cleanup(func() {
		for _, n := range all {
			_ = exec.Command("ip", "netns", "del", n).Run()
		}
	})
	for _, n := range all {
		ipCmd(t, "netns", "add", n)
		ipCmd(t, "-n", n, "link", "set", "lo", "up")
	}
	ipCmd(t, "-n", sw, "link", "add", "br0", "type", "bridge")
	ipCmd(t, "-n", sw, "link", "set", "br0", "up")
	for i := range 2 {
		node, pod := c.ns("n", i), c.ns("p", i)
		nodeIP := fmt.Sprintf("198.18.0.%d", i+1)
		cidr := fmt.Sprintf("10.97.%d.0/24", i+1)
		port := fmt.Sprintf("s%d", i)
		ipCmd(t, "-n", node, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", sw)
		ipCmd(t, "-n", sw, "link", "set", port, "master", "br0", "up")
		ipCmd(t, "-n", node, "addr", "add", nodeIP+"/24", "dev", "eth0")
		ipCmd(t, "-n", node, "link", "set", "eth0", "up")
		ipCmd(t, "-n", node, "link", "add", "cbr0", "type", "bridge")
		ipCmd(t, "-n", node, "addr", "add", fmt.Sprintf("10.97.%d.1/24", i+1), "dev", "cbr0")
		ipCmd(t, "-n", node, "link", "set", "cbr0", "up")
		// As the agent does: the cluster range is unreachable unless a
		// more specific route claims it.
		ipCmd(t, "-n", node, "route", "add", "unreachable", "10.97.0.0/16")
		ipCmd(t, "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		ipCmd(t, "-n", pod, "link", "add", "eth0", "type", "veth", "peer", "name", "veth0", "netns", node)
		ipCmd(t, "-n", node, "link", "set", "veth0", "master", "cbr0", "up")
		ipCmd(t, "-n", pod, "addr", "add", podIP(i).String()+"/24", "dev", "eth0")
		ipCmd(t, "-n", pod, "link", "set", "eth0", "up")
		ipCmd(t, "-n", pod, "route", "add", "default", "via", fmt.Sprintf("10.97.%d.1", i+1))
		ip := netip.MustParseAddr(nodeIP)
		c.nodes[i] = NodeInfo{Name: node, InternalIP: ip, PodCIDR: netip.MustParsePrefix(cidr), VTEPMAC: VTEPMAC(ip)}
	}
	return c
}

// setPodMTU sets both ends of every pod's interface, as CNI would.
func (c *cluster) setPodMTU(mtu int) {
	for i := range 2 {
		ipCmd(c.t, "-n", c.ns("p", i), "link", "set", "eth0", "mtu", fmt.Sprint(mtu))
		ipCmd(c.t, "-n", c.ns("n", i), "link", "set", "veth0", "mtu", fmt.Sprint(mtu))
	}
}

func (c *cluster) applier(i int) *Applier {
	ns, err := netns.GetFromName(c.ns("n", i))
	if err != nil {
		c.t.Fatalf("open namespace: %v", err)
	}
	defer ns.Close()
	a, err := NewApplierAt(ns, slog.New(slog.DiscardHandler))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(a.Close)
	return a
}

// apply plans and applies the overlay on both nodes.
func (c *cluster) apply(mode Mode, appliers [2]*Applier) [2]Status {
	var st [2]Status
	for i := range 2 {
		d := Plan(c.nodes[i], c.nodes[:], mode)
		s, err := appliers[i].Apply(d)
		if err != nil {
			c.t.Fatalf("apply %s on node %d: %v", mode, i, err)
		}
		st[i] = s
	}
	return st
}

// inNS runs fn on a thread switched into the named namespace. Sockets
// created by fn stay in that namespace afterwards.
func inNS(t *testing.T, name string, fn func() error) error {
	t.Helper()
	target, err := netns.GetFromName(name)
	if err != nil {
		return err
	}
	defer target.Close()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime discards it when the
		// goroutine ends, so the wrong namespace cannot leak.
		return fmt.Errorf("restore namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// eventually polls check until it succeeds or the deadline passes.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
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

// ping sends one ICMP echo from namespace ns with ping, or busybox's.
func ping(ns string, dst netip.Addr) error {
	args := []string{"netns", "exec", ns, "ping", "-c1", "-W1", dst.String()}
	if _, err := exec.LookPath("ping"); err != nil {
		if _, err := exec.LookPath("busybox"); err != nil {
			return fmt.Errorf("no ping or busybox to ping with")
		}
		args = append(args[:3], append([]string{"busybox"}, args[3:]...)...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from %s: %v: %s", dst, ns, err, out)
	}
	return nil
}

// tcpEcho connects from pod 0 to an echo server in pod 1 and sends a
// payload far larger than one packet, so that MTU trouble would show.
func (c *cluster) tcpEcho(t *testing.T) {
	t.Helper()
	var ln net.Listener
	if err := inNS(t, c.ns("p", 1), func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(podIP(1).String(), "0"))
		return err
	}); err != nil {
		t.Fatalf("listen in pod 1: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = io.Copy(conn, conn)
			}()
		}
	}()
	payload := make([]byte, 1<<20)
	_, _ = rand.Read(payload)
	eventually(t, "TCP echo pod 0 -> pod 1", func() error {
		var conn net.Conn
		if err := inNS(t, c.ns("p", 0), func() (err error) {
			conn, err = net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
			return err
		}); err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			_, _ = conn.Write(payload)
			_ = conn.(*net.TCPConn).CloseWrite()
		}()
		got, err := io.ReadAll(conn)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, payload) {
			return fmt.Errorf("echo returned %d bytes, not the %d sent", len(got), len(payload))
		}
		return nil
	})
}

func (c *cluster) connectivity(t *testing.T) {
	t.Helper()
	eventually(t, "pod 0 -> pod 1", func() error { return ping(c.ns("p", 0), podIP(1)) })
	eventually(t, "pod 1 -> pod 0", func() error { return ping(c.ns("p", 1), podIP(0)) })
	eventually(t, "node 0 -> pod 1", func() error { return ping(c.ns("n", 0), podIP(1)) })
	c.tcpEcho(t)
}

func ownedRoutes(t *testing.T, a *Applier) []netlink.Route {
	t.Helper()
	rs, err := a.h.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func deviceEntries(t *testing.T, a *Applier) (neigh, fdb int) {
	t.Helper()
	link, err := a.h.LinkByName(DeviceName)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := a.h.NeighList(link.Attrs().Index, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.State&netlink.NUD_PERMANENT != 0 {
			neigh++
		}
	}
	fs, err := a.h.NeighList(link.Attrs().Index, unix.AF_BRIDGE)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if len(f.IP) != 0 && f.LinkIndex == link.Attrs().Index {
			fdb++
		}
	}
	return neigh, fdb
}

func TestOverlayAcrossNamespaces(t *testing.T) {
	c := newCluster(t)
	apps := [2]*Applier{c.applier(0), c.applier(1)}

	t.Run("vxlan", func(t *testing.T) {
		uplink, err := apps[0].UplinkMTU(c.nodes[0].InternalIP)
		if err != nil || uplink != 1500 {
			t.Fatalf("UplinkMTU = %d, %v; want 1500", uplink, err)
		}
		c.setPodMTU(PodMTU(uplink, ModeVXLAN))
		st := c.apply(ModeVXLAN, apps)
		for i, s := range st {
			if s.MAC.String() != c.nodes[i].VTEPMAC.String() || s.DeviceMTU != 1450 || s.UplinkMTU != 1500 {
				t.Errorf("node %d status %+v, want MAC %s, MTU 1450 on a 1500 uplink", i, s, c.nodes[i].VTEPMAC)
			}
		}
		link, err := apps[0].h.LinkByName(DeviceName)
		if err != nil {
			t.Fatal(err)
		}
		vx, ok := link.(*netlink.Vxlan)
		if !ok || vx.VxlanId != VNI || vx.Port != Port || vx.Learning || !vx.SrcAddr.Equal(net.ParseIP("198.18.0.1")) {
			t.Errorf("device %+v, want VNI %d port %d, learning off, local 198.18.0.1", link, VNI, Port)
		}
		c.connectivity(t)
		if link, err := apps[1].h.LinkByName(DeviceName); err != nil || link.Attrs().Statistics == nil || link.Attrs().Statistics.RxPackets == 0 {
			t.Errorf("node 1 received nothing over %s (err %v)", DeviceName, err)
		}
		again := c.apply(ModeVXLAN, apps)
		if again[0].Changes != 0 || again[1].Changes != 0 {
			t.Errorf("second apply changed %d and %d objects, want none", again[0].Changes, again[1].Changes)
		}
	})

	t.Run("vxlan stale entries removed", func(t *testing.T) {
		d := Plan(c.nodes[0], nil, ModeVXLAN)
		if _, err := apps[0].Apply(d); err != nil {
			t.Fatal(err)
		}
		if rs := ownedRoutes(t, apps[0]); len(rs) != 0 {
			t.Errorf("routes left after peers vanished: %v", rs)
		}
		if n, f := deviceEntries(t, apps[0]); n != 0 || f != 0 {
			t.Errorf("%d neighbour and %d FDB entries left after peers vanished", n, f)
		}
		// A stray FDB entry and a wrong MTU are repaired.
		link, _ := apps[0].h.LinkByName(DeviceName)
		if err := apps[0].h.LinkSetMTU(link, 1300); err != nil {
			t.Fatal(err)
		}
		ipCmd(t, "-n", c.ns("n", 0), "neigh", "add", "10.97.9.0", "lladdr", "0e:6b:00:00:00:09", "dev", DeviceName, "nud", "permanent")
		c.apply(ModeVXLAN, apps)
		if n, f := deviceEntries(t, apps[0]); n != 1 || f != 1 {
			t.Errorf("%d neighbour and %d FDB entries after re-apply, want 1 and 1", n, f)
		}
		if link, _ := apps[0].h.LinkByName(DeviceName); link.Attrs().MTU != 1450 {
			t.Errorf("MTU %d not repaired", link.Attrs().MTU)
		}
		c.connectivity(t)
	})

	t.Run("host-gw", func(t *testing.T) {
		c.setPodMTU(PodMTU(1500, ModeHostGW))
		c.apply(ModeHostGW, apps)
		for i, a := range apps {
			if _, err := a.h.LinkByName(DeviceName); err == nil {
				t.Errorf("node %d still has %s in host-gw mode", i, DeviceName)
			}
			rs := ownedRoutes(t, a)
			if len(rs) != 1 || !rs[0].Gw.Equal(net.IP(c.nodes[1-i].InternalIP.AsSlice())) {
				t.Errorf("node %d routes %v, want one via %s", i, rs, c.nodes[1-i].InternalIP)
			}
		}
		c.connectivity(t)
		again := c.apply(ModeHostGW, apps)
		if again[0].Changes != 0 || again[1].Changes != 0 {
			t.Errorf("second apply changed %d and %d objects, want none", again[0].Changes, again[1].Changes)
		}
	})

	t.Run("remove", func(t *testing.T) {
		for i, a := range apps {
			if err := a.Remove(); err != nil {
				t.Fatal(err)
			}
			if rs := ownedRoutes(t, a); len(rs) != 0 {
				t.Errorf("node %d routes left: %v", i, rs)
			}
		}
		// Routes of others are untouched.
		rs, err := apps[0].h.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) < 3 {
			t.Errorf("node 0 lost its own routes: %v", rs)
		}
	})
}
