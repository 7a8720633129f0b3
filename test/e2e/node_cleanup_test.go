package e2e

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killWaitDeadline bounds the wait for killed processes to be gone.
const killWaitDeadline = 10 * time.Second

// removeNodeLeftovers is the safety net that runs after the server has
// stopped (or failed to start). Containers outlive `skiff server`: their
// shims are separate processes, and their root filesystems and volumes
// are mounts under the data dir. It kills what is left, unmounts what is
// mounted under the data dir (so that the test's temporary directory can
// be removed) and deletes the suite's pod network from the host. On a
// clean run there is nothing to do: the agent removes every container of
// the deleted pods and containerd stops with the server.
func removeNodeLeftovers(t testing.TB, dataDir string) {
	t.Helper()
	removeAgentLeftovers(t, dataDir)
	removeNodeNetwork(t)
}

// removeAgentLeftovers is removeNodeLeftovers without the host network
// part: the processes and mounts of one agent's data dir.
func removeAgentLeftovers(t testing.TB, dataDir string) {
	t.Helper()
	var killed []string
	// The containers first: their init processes are in pid namespaces
	// of their own, so killing one ends every process of its container.
	for _, pid := range containerInits(dataDir) {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, "container init "+strconv.Itoa(pid))
		}
	}
	// Then the shims and containerd, which name the data dir in their
	// arguments (--config, -address), and the server if it is still up.
	for _, pid := range processesMentioning(dataDir) {
		cmd := commandLine(pid)
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, cmd+" (pid "+strconv.Itoa(pid)+")")
		}
	}
	waitGone(t, killed, dataDir)
	var unmounted []string
	for range 5 { // unmounting may uncover mounts below
		info, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Errorf("reading mountinfo: %v", err)
			break
		}
		points := mountsUnder(string(info), dataDir)
		if len(points) == 0 {
			break
		}
		for _, mp := range points {
			switch err := syscall.Unmount(mp, syscall.MNT_DETACH); {
			case err == nil:
				unmounted = append(unmounted, mp)
			case !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT):
				t.Errorf("unmount %s: %v", mp, err)
			}
		}
	}
	if len(killed) > 0 || len(unmounted) > 0 {
		t.Logf("left behind after the server stopped, removed now:\nkilled: %s\nunmounted: %s",
			strings.Join(killed, "\n  "), strings.Join(unmounted, "\n  "))
	}
}

// removeNodeNetwork deletes what the agent set up on the host for the
// suite's address ranges (they are the suite's own: nodeClusterCIDR and
// nodeServiceCIDR): the pod bridge, which holds the gateway address of the
// node's pod CIDR, and the "unreachable" routes. A bridge left behind
// would keep a route to the pod CIDR that a later run's bridge competes
// with.
func removeNodeNetwork(t testing.TB) {
	t.Helper()
	out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		t.Logf("ip addr show: %v", err)
		return
	}
	for _, ns := range podNetworkNamespaces() {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Logf("ip netns delete %s: %v: %s", ns, err, out)
		} else {
			t.Logf("deleted network namespace %s, left behind", ns)
		}
	}
	for _, link := range linksWithAddressIn(string(out), netip.MustParsePrefix(nodeClusterCIDR)) {
		if out, err := exec.Command("ip", "link", "delete", link).CombinedOutput(); err != nil {
			t.Logf("ip link delete %s: %v: %s", link, err, out)
		}
	}
	for _, cidr := range []string{nodeClusterCIDR, nodeServiceCIDR} {
		_ = exec.Command("ip", "route", "del", "unreachable", cidr).Run()
	}
}

// podNetworkNamespaces returns the named network namespaces (the CNI
// plugins' /run/netns/cni-…) holding an address of the suite's cluster
// CIDR: pod sandboxes of this suite that were not torn down.
func podNetworkNamespaces() []string {
	return netnsWithAddressIn(netip.MustParsePrefix(nodeClusterCIDR))
}

// netnsWithAddressIn returns the named network namespaces holding an
// address within cidr.
func netnsWithAddressIn(cidr netip.Prefix) []string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		out, err := exec.Command("ip", "-n", e.Name(), "-o", "-4", "addr", "show").Output()
		if err == nil && len(linksWithAddressIn(string(out), cidr)) > 0 {
			names = append(names, e.Name())
		}
	}
	return names
}

// linksWithAddressIn returns the links of `ip -o -4 addr show` output that
// hold an address within cidr, each once.
func linksWithAddressIn(out string, cidr netip.Prefix) []string {
	var links []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[2] != "inet" {
			continue
		}
		p, err := netip.ParsePrefix(f[3])
		if err != nil || !cidr.Contains(p.Addr()) || slices.Contains(links, f[1]) {
			continue
		}
		links = append(links, f[1])
	}
	return links
}

func TestLinksWithAddressIn(t *testing.T) {
	const out = `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
130: skf0af4000018    inet 10.244.0.1/24 brd 10.244.0.255 scope global skf0af4000018\       valid_lft forever preferred_lft forever
130: skf0af4000018    inet 10.244.1.1/24 brd 10.244.1.255 scope global skf0af4000018\       valid_lft forever preferred_lft forever
131: skf0a30000018    inet 10.48.0.1/24 brd 10.48.0.255 scope global skf0a30000018\       valid_lft forever preferred_lft forever
`
	got := linksWithAddressIn(out, netip.MustParsePrefix("10.244.0.0/16"))
	if strings.Join(got, " ") != "skf0af4000018" {
		t.Errorf("linksWithAddressIn = %q, want [skf0af4000018]", got)
	}
}

// waitGone waits (with a deadline) until no process names the data dir.
func waitGone(t testing.TB, killed []string, dataDir string) {
	t.Helper()
	if len(killed) == 0 {
		return
	}
	end := time.Now().Add(killWaitDeadline)
	for len(processesMentioning(dataDir)) > 0 {
		if time.Now().After(end) {
			t.Errorf("processes naming %s still alive %v after SIGKILL", dataDir, killWaitDeadline)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// containerInits returns the init processes of the containers whose shims
// live under the data dir: the shim records the pid in init.pid of the
// container's bundle, named by the container ID. A pid counts only if the
// process is still in that container's cgroup (pids are reused).
func containerInits(dataDir string) []int {
	files, _ := filepath.Glob(filepath.Join(dataDir, "agent", "containerd", "state", "io.containerd.runtime.v2.task", "*", "*", "init.pid"))
	var pids []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 1 {
			continue
		}
		cgroups, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
		if err != nil || !strings.Contains(string(cgroups), filepath.Base(filepath.Dir(f))) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// processesMentioning returns the processes (other than this one) with
// an argument naming dir or a path below it; zombies do not count.
func processesMentioning(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !mentionsDir(cmdline, dir) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// mentionsDir reports whether a NUL-separated command line names dir or
// a path below it (not merely a sibling whose name starts like it).
func mentionsDir(cmdline []byte, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	for _, arg := range bytes.Split(cmdline, []byte{0}) {
		s := string(arg)
		for i := strings.Index(s, dir); i >= 0; i = strings.Index(s, dir) {
			s = s[i+len(dir):]
			if s == "" || s[0] == '/' {
				return true
			}
		}
	}
	return false
}

func commandLine(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
}

// mountsUnder returns the mount points of a /proc/<pid>/mountinfo listing
// that are dir or below it, deepest first (the order to unmount them in),
// each once.
func mountsUnder(mountinfo, dir string) []string {
	dir = strings.TrimSuffix(dir, "/")
	seen := map[string]bool{}
	var points []string
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if (mp == dir || strings.HasPrefix(mp, dir+"/")) && !seen[mp] {
			seen[mp] = true
			points = append(points, mp)
		}
	}
	sort.SliceStable(points, func(i, j int) bool {
		return strings.Count(points[i], "/") > strings.Count(points[j], "/")
	})
	return points
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space,
// \011, \012, \134).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestMountsUnder(t *testing.T) {
	const info = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
100 22 0:50 / /tmp/d/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw
101 22 0:51 / /tmp/d/agent/pods/uid/volumes/kubernetes.io~secret/tok rw - tmpfs tmpfs rw
102 22 0:52 / /tmp/d2/other rw - tmpfs tmpfs rw
103 22 0:53 / /tmp/d/with\040space rw - tmpfs tmpfs rw
104 22 0:54 / /tmp/d rw - tmpfs tmpfs rw
105 22 0:55 / /tmp/d/agent/pods/uid/volumes/kubernetes.io~secret/tok rw - tmpfs tmpfs rw
`
	got := mountsUnder(info, "/tmp/d/")
	want := []string{
		"/tmp/d/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs",
		"/tmp/d/agent/pods/uid/volumes/kubernetes.io~secret/tok",
		"/tmp/d/with space",
		"/tmp/d",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("mountsUnder:\n got %q\nwant %q", got, want)
	}
	if got := mountsUnder(info, "/nowhere"); len(got) != 0 {
		t.Errorf("mountsUnder(/nowhere) = %q, want none", got)
	}
}

func TestMentionsDir(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"containerd\x00--config\x00/tmp/d/agent/containerd/config.toml", true},
		{"skiff\x00server\x00--data-dir\x00/tmp/d", true},
		{"skiff\x00server\x00--data-dir=/tmp/d", true},
		{"skiff\x00server\x00--data-dir\x00/tmp/d2", false},
		{"shim\x00-address\x00/tmp/d2/x\x00/tmp/d/y", true},
		{"shim\x00/tmp/d2/x:/tmp/d", true},
		{"sleep\x003600", false},
		{"", false},
	} {
		if got := mentionsDir([]byte(tc.cmdline), "/tmp/d"); got != tc.want {
			t.Errorf("mentionsDir(%q) = %v, want %v", tc.cmdline, got, tc.want)
		}
	}
}
