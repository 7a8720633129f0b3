package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// runtimeContainers lists the containers of the agent's containerd with
// `ctr -n k8s.io c ls -q`, the check that the runtime is empty.
func runtimeContainers(ctx context.Context, socket string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ctr", "--address", socket, "-n", "k8s.io", "c", "ls", "-q").Output()
	if err != nil {
		return nil, fmt.Errorf("ctr c ls: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// waitRuntimeEmpty polls until containerd has no containers left.
func waitRuntimeEmpty(ctx context.Context, socket string, timeout time.Duration) (time.Duration, error) {
	begin := time.Now()
	deadline := begin.Add(timeout)
	for {
		ids, err := runtimeContainers(ctx, socket)
		if err == nil && len(ids) == 0 {
			return time.Since(begin), nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("%d containers still in containerd after %v", len(ids), timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// removeAllSandboxes stops and removes every sandbox of the containerd
// (it is the benchmark's own): the safety net for a run that failed
// half-way. Sandboxes that vanish meanwhile (the agent removing its own)
// are no error. It returns how many it removed.
func removeAllSandboxes(ctx context.Context, rt runtimeapi.RuntimeServiceClient) (int, error) {
	list, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return 0, fmt.Errorf("ListPodSandbox: %w", err)
	}
	removed := 0
	var errs []error
	for _, sb := range list.Items {
		if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			if status.Code(err) != codes.NotFound {
				errs = append(errs, fmt.Errorf("StopPodSandbox %s: %w", sb.Id, err))
			}
			continue
		}
		_, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id})
		switch {
		case err == nil:
			removed++
		case status.Code(err) != codes.NotFound:
			errs = append(errs, fmt.Errorf("RemovePodSandbox %s: %w", sb.Id, err))
		}
	}
	return removed, errors.Join(errs...)
}

// killLeftovers kills, by pid, the processes a stopped server may leave:
// the containers' init processes (their pid namespaces end with them),
// then the shims and anything else naming the data dir. It returns what
// it killed.
func killLeftovers(dataDir string) []string {
	var killed []string
	inits, _ := filepath.Glob(filepath.Join(dataDir, "agent", "containerd", "state", "io.containerd.runtime.v2.task", "*", "*", "init.pid"))
	for _, f := range inits {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			continue
		}
		// Only while the pid is still that container's (pids are reused).
		cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil || !strings.Contains(string(cg), filepath.Base(filepath.Dir(f))) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, fmt.Sprintf("container init %d", pid))
		}
	}
	for _, pid := range processesMentioning(dataDir) {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, fmt.Sprintf("pid %d", pid))
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(processesMentioning(dataDir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return killed
}

// unescapeMountPath decodes the octal escapes (\040 for a space) of a
// path in /proc/self/mountinfo.
func unescapeMountPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
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

// mountsUnder returns the mount points at or below dir listed in a
// mountinfo text, deepest first (the order they can be unmounted in).
func mountsUnder(mountinfo, dir string) []string {
	dir = strings.TrimSuffix(dir, "/")
	var points []string
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountPath(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	slices.SortStableFunc(points, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return slices.Compact(points)
}

// unmountUnder detaches every mount below dir and returns the mount
// points it unmounted.
func unmountUnder(dir string) ([]string, error) {
	var done []string
	for range 5 { // unmounting can uncover mounts below
		info, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return done, fmt.Errorf("reading mountinfo: %w", err)
		}
		points := mountsUnder(string(info), dir)
		if len(points) == 0 {
			return done, nil
		}
		for _, mp := range points {
			if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
				return done, fmt.Errorf("unmount %s: %w", mp, err)
			}
			done = append(done, mp)
		}
	}
	return done, nil
}

// podCgroupDirs are the cgroup directories of a pod's cgroup parent
// (/kubepods/besteffort/pod<uid>) in every hierarchy (cgroup v1: one per
// controller; v2: one).
func podCgroupDirs(uid string) []string {
	var dirs []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/kubepods/besteffort/pod" + uid, "/sys/fs/cgroup/kubepods/besteffort/pod" + uid} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	return dirs
}

// removePodCgroups removes the (empty) pod cgroup directories left for
// the given pod UIDs and returns how many pods had some.
func removePodCgroups(uids []string) int {
	left := 0
	for _, uid := range uids {
		dirs := podCgroupDirs(uid)
		if len(dirs) > 0 {
			left++
		}
		for _, d := range dirs {
			_ = os.Remove(d) // rmdir: fails, harmlessly, while a process is inside
		}
	}
	return left
}

// deviceWithAddr finds, in the output of `ip -o -4 addr show`, the
// device that holds addr (as "a.b.c.d/len") and how many IPv4 addresses
// that device has; "" if none holds it.
func deviceWithAddr(ipOutput, addr string) (dev string, addrs int) {
	count := map[string]int{}
	for _, line := range strings.Split(ipOutput, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[2] != "inet" {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		count[name]++
		if f[3] == addr {
			dev = name
		}
	}
	return dev, count[dev]
}

// removeNetwork undoes what the agent did to the host for the run's own
// ranges: the pod bridge of the node's pod CIDR (only its gateway address
// if the bridge also serves other ranges, as a shared bridge would) and
// the unreachable routes for the cluster and service ranges. It returns
// what it removed.
func removeNetwork(gateway string, unreachable ...string) []string {
	var done []string
	if out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output(); err == nil && gateway != "" {
		switch dev, n := deviceWithAddr(string(out), gateway); {
		case dev == "":
		case n == 1:
			if exec.Command("ip", "link", "del", dev).Run() == nil {
				done = append(done, "bridge "+dev)
			}
		default:
			if exec.Command("ip", "addr", "del", gateway, "dev", dev).Run() == nil {
				done = append(done, "address "+gateway+" of "+dev)
			}
		}
	}
	for _, cidr := range unreachable {
		if exec.Command("ip", "route", "del", "unreachable", cidr).Run() == nil {
			done = append(done, "route unreachable "+cidr)
		}
	}
	return done
}

// bridgeGateway is the address the bridge plugin gives the pod bridge
// for a pod CIDR (isGateway: the first address), with its prefix length.
func bridgeGateway(podCIDR string) (string, error) {
	p, err := netip.ParsePrefix(podCIDR)
	if err != nil {
		return "", fmt.Errorf("pod CIDR: %w", err)
	}
	p = p.Masked()
	return netip.PrefixFrom(p.Addr().Next(), p.Bits()).String(), nil
}
