package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testserver"
)

const (
	// agentNodeName is the Node the agent of TestNodeAgent registers.
	agentNodeName = "skiff-e2e-node"
	// nodeReadyDeadline bounds the wait for the agent's Node to be Ready:
	// containerd starts, the images are imported, the pod CIDR arrives.
	nodeReadyDeadline = 90 * time.Second
	// podDeadline bounds the wait for a pod to reach a state (kubectl wait
	// --timeout); the images are local, so it is generous.
	podDeadline = 60 * time.Second
	// drainDeadline bounds the wait for the test namespaces and their
	// containers to be gone when the suite ends.
	drainDeadline = 60 * time.Second
	// nodeClusterCIDR and nodeServiceCIDR are the suite's address ranges,
	// apart from the defaults so that pods of another Skiff on the same
	// machine (sharing the skiff0 bridge) never get the same addresses.
	nodeClusterCIDR = "10.244.0.0/16"
	nodeServiceCIDR = "10.245.0.0/16"
	// keepLogsEnv names a directory that receives the server's and
	// containerd's logs when TestNodeAgent ends (for debugging).
	keepLogsEnv = "SKIFF_E2E_KEEP_LOGS"
)

// Skiff's own images (make images), which the agent imports at start.
const (
	busyboxImage = "skiff.local/busybox:1.36"
	echoImage    = "skiff.local/echo:1.0"
	echoImage2   = "skiff.local/echo:2.0"
)

// nodeCluster is `skiff server` with everything on, the node agent
// included, and the namespaces its scenarios created.
type nodeCluster struct {
	// ingressPort is where the server's ingress proxy serves HTTP.
	ingressPort int
	*processCluster
	k *kubectl

	mu         sync.Mutex
	namespaces []string
}

// requireNodeHost skips the test unless the machine can run the agent's
// containers: root, containerd, runc and ctr on PATH, the CNI bridge
// plugin, and the image archives of `make images`, which it returns.
func requireNodeHost(t testing.TB) []string {
	t.Helper()
	// make test sets SKIFF_E2E_REQUIRE_NODE, so that CI fails instead of
	// silently skipping when it cannot run containers.
	missingf := t.Skipf
	if os.Getenv("SKIFF_E2E_REQUIRE_NODE") != "" {
		missingf = t.Fatalf
	}
	missing := func(msg string) { t.Helper(); missingf("%s", msg) }
	if os.Geteuid() != 0 {
		missing("the node agent runs containers (containerd, runc, CNI): run as root")
	}
	for _, bin := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(bin); err != nil {
			missingf("%s is not on PATH (make deps installs it): the node agent needs it", bin)
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		missingf("CNI bridge plugin missing (make deps installs it): %v", err)
	}
	root, err := moduleRoot()
	if err != nil {
		missingf("cannot find the image archives: %v", err)
	}
	archives, err := filepath.Glob(filepath.Join(root, "bin", "images", "*.tar"))
	if err != nil || len(archives) == 0 {
		missingf("no image archives in %s (run make images)", filepath.Join(root, "bin", "images"))
	}
	return archives
}

// moduleRoot is the directory of the skiff module's go.mod.
func moduleRoot() (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "" || root == "." {
		return "", fmt.Errorf("not inside the skiff module (go env GOMOD = %q)", gomod)
	}
	return root, nil
}

// startNodeCluster starts `skiff server` with its agent on a fresh data
// dir that holds the image archives, and waits until the agent's Node is
// Ready. Cleanup, in order: the test namespaces are deleted and the
// agent must remove every container; the server stops (SIGTERM, exit 0);
// then whatever is left of the containers, shims, containerd and their
// mounts is removed, even when the test failed early.
func startNodeCluster(t *testing.T, archives []string) *nodeCluster {
	t.Helper()
	dataDir := t.TempDir()
	// Registered after the data dir, so it runs before its removal.
	t.Cleanup(func() { removeNodeLeftovers(t, dataDir) })
	imagesDir := filepath.Join(dataDir, "agent", "images")
	if err := os.MkdirAll(imagesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range archives {
		if err := copyFile(a, filepath.Join(imagesDir, filepath.Base(a))); err != nil {
			t.Fatalf("copying image archive: %v", err)
		}
	}
	ports, err := testserver.FreePorts(7)
	if err != nil {
		t.Fatalf("free ports: %v", err)
	}
	p := &processCluster{t: t, dataDir: dataDir, logPath: filepath.Join(t.TempDir(), "skiff.log"), port: ports[0]}
	// The API server listens on every address: pods reach it through the
	// kubernetes Service, which points at the node's address.
	p.args = []string{"server",
		"--data-dir", dataDir,
		"--bind-address", "0.0.0.0",
		"--https-listen-port", strconv.Itoa(ports[0]),
		"--etcd-client-port", strconv.Itoa(ports[1]),
		"--etcd-peer-port", strconv.Itoa(ports[2]),
		"--agent-port", strconv.Itoa(ports[3]),
		"--cluster-dns-address", "0.0.0.0:" + strconv.Itoa(ports[4]),
		"--ingress-http-port", strconv.Itoa(ports[5]),
		"--ingress-https-port", strconv.Itoa(ports[6]),
		"--node-name", agentNodeName,
		"--cluster-cidr", nodeClusterCIDR,
		"--service-cidr", nodeServiceCIDR,
		"--log-level", "debug",
	}
	t.Cleanup(func() {
		p.Stop()
		if dir := os.Getenv(keepLogsEnv); dir != "" {
			keepLogs(t, dir, p.logPath, containerdLog(dataDir))
		}
		if t.Failed() {
			t.Logf("skiff server log (%s), last lines:\n%s", p.logPath, tail(p.logPath, 60))
			t.Logf("containerd log, last lines:\n%s", tail(containerdLog(dataDir), 20))
		}
	})
	p.start()
	c := &nodeCluster{processCluster: p, k: newKubectl(t, p), ingressPort: ports[5]}
	t.Cleanup(c.drain)
	c.waitNodeReady(t)
	return c
}

// containerdSocket and containerdLog are where the agent's containerd
// listens and logs (internal/agent/containerd's layout).
func containerdSocket(dataDir string) string {
	return filepath.Join(dataDir, "agent", "containerd", "containerd.sock")
}

func containerdLog(dataDir string) string {
	return filepath.Join(dataDir, "agent", "containerd", "containerd.log")
}

// waitNodeReady waits until the agent's Node reports Ready.
func (c *nodeCluster) waitNodeReady(t testing.TB) {
	t.Helper()
	k := c.k.with(t)
	eventually(t, nodeReadyDeadline, "node "+agentNodeName+" to be Ready", func() (bool, string) {
		r := k.run("get", "node", agentNodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return r.code == 0 && r.stdout == "True", r.String()
	})
}

// scenario creates a namespace for one scenario and returns kubectl for
// it. When the scenario fails, the state of its pods (kubectl get, describe
// and the events) is logged; the namespace is deleted when it ends.
func (c *nodeCluster) scenario(t *testing.T, ns string) (*kubectl, string) {
	t.Helper()
	k := c.k.with(t)
	c.mu.Lock()
	c.namespaces = append(c.namespaces, ns)
	c.mu.Unlock()
	k.workNamespace(ns)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("state of namespace %s:\n%s", ns, dumpNamespace(k, ns))
		}
		k.run("delete", "namespace", ns, "--wait=false")
	})
	return k, ns
}

// dumpNamespace is what a user would look at when a pod misbehaves.
func dumpNamespace(k *kubectl, ns string) string {
	var b strings.Builder
	for _, args := range [][]string{
		{"get", "pods", "-o", "wide"},
		{"describe", "pods"},
		{"get", "events", "--sort-by=.lastTimestamp"},
	} {
		r := k.run(append(args, "-n", ns)...)
		fmt.Fprintf(&b, "$ kubectl %s -n %s\n%s%s\n", strings.Join(args, " "), ns, r.stdout, r.stderr)
	}
	return b.String()
}

// drain deletes the scenarios' namespaces, waits for them to be gone, and
// requires the agent to have removed every container from containerd, and
// their network namespaces with them.
func (c *nodeCluster) drain() {
	t := c.t
	if c.cmd == nil {
		t.Logf("skiff server not running: cannot delete the test namespaces")
		return
	}
	k := c.k
	c.mu.Lock()
	namespaces := append([]string(nil), c.namespaces...)
	c.mu.Unlock()
	if len(namespaces) > 0 {
		k.run(append([]string{"delete", "namespace", "--ignore-not-found", "--wait=false"}, namespaces...)...)
		args := []string{"wait", "--for=delete", fmt.Sprintf("--timeout=%ds", int(drainDeadline.Seconds()))}
		for _, ns := range namespaces {
			args = append(args, "namespace/"+ns)
		}
		if r := k.run(args...); r.code != 0 {
			t.Errorf("test namespaces not deleted within %v:\n%s\n%s", drainDeadline, r, k.run("get", "pods", "-A", "-o", "wide").stdout)
		}
	}
	end := time.Now().Add(drainDeadline)
	for {
		ids, err := runtimeContainers(c.dataDir)
		if err == nil && len(ids) == 0 {
			break
		}
		if time.Now().After(end) {
			t.Errorf("containers still in containerd %v after the test pods were deleted (err %v)", ids, err)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Removing a sandbox removes its network namespace.
	if left := podNetworkNamespaces(); len(left) > 0 {
		t.Errorf("network namespaces of removed pods left behind: %v", left)
	}
}

// runtimeContainers lists the CRI containers (sandboxes included) of the
// agent's containerd, as `ctr containers ls -q` prints them.
func runtimeContainers(dataDir string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ctr", "--address", containerdSocket(dataDir), "-n", "k8s.io", "containers", "ls", "-q").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ctr containers ls: %w: %s", err, out)
	}
	return strings.Fields(string(out)), nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// keepLogs copies the logs into dir (SKIFF_E2E_KEEP_LOGS).
func keepLogs(t testing.TB, dir string, logs ...string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keeping logs: %v", err)
		return
	}
	for _, l := range logs {
		if err := copyFile(l, filepath.Join(dir, filepath.Base(l))); err != nil {
			t.Logf("keeping logs: %v", err)
		}
	}
	t.Logf("logs kept in %s", dir)
}

// serviceCluster is what the Service, ingress and scale-down scenarios
// need of a cluster, so that the same scenarios run on one node
// (*nodeCluster) and across several (*multiNode).
type serviceCluster interface {
	// scenario creates the scenario's namespace and returns kubectl.
	scenario(t *testing.T, ns string) (*kubectl, string)
	// hostGet sends one GET from "the host" (the test process on one
	// node; a node's network namespace in the harness), with the given
	// Host header unless it is empty: status and body, or 0 and the
	// error.
	hostGet(url, host string) (int, string)
	// ingressURLs are the base URLs of the ingress proxies, as the host
	// reaches them: one per node.
	ingressURLs() []string
	// nodeIPs are the nodes' InternalIPs.
	nodeIPs(k *kubectl) []string
	// spread is a fragment of a pod template's spec (indented for
	// "    spec:") that puts the replicas of app on different nodes; ""
	// on one node.
	spread(app string) string
}

func (c *nodeCluster) hostGet(url, host string) (int, string) { return hostGet(url, host) }

func (c *nodeCluster) ingressURLs() []string {
	return []string{"http://127.0.0.1:" + strconv.Itoa(c.ingressPort)}
}

func (c *nodeCluster) nodeIPs(k *kubectl) []string {
	k.t.Helper()
	return []string{k.get("", "node/"+agentNodeName, `{.status.addresses[?(@.type=="InternalIP")].address}`)}
}

func (c *nodeCluster) spread(string) string { return "" }

// hostGetOK polls a URL from the cluster's host until it answers 200
// within the deadline, and returns the body.
func hostGetOK(t testing.TB, c serviceCluster, url string, deadline time.Duration) string {
	t.Helper()
	var body string
	eventually(t, deadline, "200 from GET "+url+" on the host", func() (bool, string) {
		code, b := c.hostGet(url, "")
		body = b
		return code == 200, fmt.Sprintf("%d %s", code, b)
	})
	return body
}
