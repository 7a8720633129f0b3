package e2e

// The multi-node harness: one `skiff server` and several `skiff agent`
// processes on one machine, each agent in a network namespace of its own
// as if it were a machine of its own.
//
// Layout (P is the test process's pid and S the harness's slot, see
// mnNames: harnesses of concurrent runs never share names or addresses):
//
//	host netns                 hub netns "mn-P-hub"          node netns "mn-P-N"
//	skiff server               bridge "br0"                  skiff agent + its containerd
//	mnPh 198.18.S.254/24 <---> mnPhub (port of br0)
//	                           mnPnN (port of br0)  <------> eth0 198.18.S.N/24
//
// The server listens on every address, so the agents reach its API and
// its cluster DNS (kube-dns's endpoint is the server's --node-ip) over the
// hub; the server reaches each agent's API (logs, exec, serving-CSR
// addresses) at the node's address. Deviations from a literal reading of
// the design, and why:
//
//   - The agents are started with `nsenter --net=/run/netns/mn-P-N`, not
//     `ip netns exec`: the latter also unshares the mount namespace and
//     remounts /sys, which would hide the agent's container mounts and
//     pod network namespaces (/run/netns/cni-…) from the test's cleanup.
//   - The node namespaces get no default route: the connected /24 is all
//     they need to reach the server, and without a default route nothing
//     a pod sends can be forwarded off the machine through the host.
//   - --node-monitor-grace-period is 20s, not 10s: the agents renew their
//     Lease every 10s, and Kubernetes wants the grace period a multiple
//     of the heartbeat interval (the retries a node may miss); at 10s a
//     slow renewal would make a healthy node flap. scenarioMNNoFlapping
//     checks that the healthy nodes' Ready condition never changed.
//   - Each agent's API listens on 10250 in its own namespace.
//   - Extra agent flags (the overlay backend) are startMultiNode's
//     agentArgs: TestMultiNode runs the default (VXLAN),
//     TestMultiNodeHostGW --flannel-backend host-gw.
//   - Pods reach the server (kube-dns, the kubernetes Service) from their
//     pod addresses, which the host has no route back to (it is not a
//     node). Each node namespace therefore masquerades pod traffic to
//     the server's address (one iptables rule in the node namespace, gone
//     with it).
//     The host gets "unreachable" routes for the harness's pod and
//     Service ranges while the test runs, so that nothing addressed to
//     them can leave the machine either.
//
// Cleanup (t.Cleanup, in this order): the scenarios' namespaces are
// deleted and every agent must remove its containers; the agents stop
// (SIGTERM); whatever is left of their containerd, shims, containers and
// mounts is removed; the server stops; the namespaces, veths, bridge and
// host routes are deleted.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testserver"
)

const (
	// mnSlots is how many harnesses may run on one machine at once; each
	// takes a slot, which gives it address ranges of its own (mnNames).
	mnSlots = 16
	// mnAgentPort is every agent's API port: each node namespace has its
	// own port space.
	mnAgentPort = 10250
	// mnGracePeriod is the server's --node-monitor-grace-period: short,
	// so that a cut-off node is noticed quickly, yet twice the agents'
	// 10s lease renewal, so that a slow renewal on a busy machine does not
	// make a healthy node flap (multiNode.readySince checks it does not).
	mnGracePeriod = 20 * time.Second
	// mnCommandDeadline bounds one ip/iptables command of the harness.
	mnCommandDeadline = 20 * time.Second
)

// mnNames are the names and addresses of one harness. id (the test
// process's pid) keeps its namespaces and links apart from every other
// run's; link names stay within the kernel's 15 characters for any pid.
// slot (0 to mnSlots-1, see acquireMNSlot) keeps its addresses apart from
// those of harnesses running at the same time: the hub is 198.18.<slot>.0/24
// (the host .254, node n .n), the pod range 10.96.<16*slot>.0/20 (a /24
// for each node) and the Service range 10.95.<16*slot>.0/20.
type mnNames struct {
	id   string
	slot int
}

func newMNNames(pid, slot int) mnNames { return mnNames{id: strconv.Itoa(pid), slot: slot} }

// serverIP is the host's address on the hub; nodeIP(n) node n's (n
// counts from 1).
func (m mnNames) serverIP() string    { return fmt.Sprintf("198.18.%d.254", m.slot) }
func (m mnNames) nodeIP(n int) string { return fmt.Sprintf("198.18.%d.%d", m.slot, n) }

// clusterCIDR and serviceCIDR are the harness's pod and Service ranges.
func (m mnNames) clusterCIDR() string { return fmt.Sprintf("10.96.%d.0/20", 16*m.slot) }
func (m mnNames) serviceCIDR() string { return fmt.Sprintf("10.95.%d.0/20", 16*m.slot) }

// hubNS is the namespace holding the bridge; nodeNS(n) node n's.
func (m mnNames) hubNS() string       { return "mn-" + m.id + "-hub" }
func (m mnNames) nodeNS(n int) string { return "mn-" + m.id + "-" + strconv.Itoa(n) }

// hostVeth is the host's end of the link to the hub, hubVeth its peer;
// nodeHubVeth(n) is the hub's end of node n's link (whose node end is
// eth0 in the node's namespace).
func (m mnNames) hostVeth() string         { return "mn" + m.id + "h" }
func (m mnNames) hubVeth() string          { return "mn" + m.id + "hub" }
func (m mnNames) nodeHubVeth(n int) string { return "mn" + m.id + "n" + strconv.Itoa(n) }

// mnNodeName is node n's Node name.
func mnNodeName(n int) string { return "mn-" + strconv.Itoa(n) }

// setupCommands are the ip/iptables invocations that build the network of
// a harness with the given number of nodes, in order.
func (m mnNames) setupCommands(nodes int) [][]string {
	hub := m.hubNS()
	cmds := [][]string{
		{"ip", "netns", "add", hub},
		{"ip", "-n", hub, "link", "set", "lo", "up"},
		{"ip", "-n", hub, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", hub, "link", "set", "br0", "up"},
		{"ip", "link", "add", m.hostVeth(), "type", "veth", "peer", "name", m.hubVeth(), "netns", hub},
		{"ip", "addr", "add", m.serverIP() + "/24", "dev", m.hostVeth()},
		{"ip", "link", "set", m.hostVeth(), "up"},
		{"ip", "-n", hub, "link", "set", m.hubVeth(), "master", "br0", "up"},
		{"ip", "route", "replace", "unreachable", m.clusterCIDR()},
		{"ip", "route", "replace", "unreachable", m.serviceCIDR()},
	}
	for n := 1; n <= nodes; n++ {
		ns := m.nodeNS(n)
		cmds = append(cmds,
			[]string{"ip", "netns", "add", ns},
			[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
			[]string{"ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", m.nodeHubVeth(n), "netns", hub},
			[]string{"ip", "-n", ns, "addr", "add", m.nodeIP(n) + "/24", "dev", "eth0"},
			[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
			[]string{"ip", "-n", hub, "link", "set", m.nodeHubVeth(n), "master", "br0", "up"},
			[]string{"ip", "netns", "exec", ns, "iptables", "-t", "nat", "-I", "POSTROUTING",
				"-s", m.clusterCIDR(), "-d", m.serverIP() + "/32", "-j", "MASQUERADE"},
		)
	}
	return cmds
}

// teardownCommands undo setupCommands; each may fail harmlessly when its
// object is already gone. Deleting a namespace deletes its links, and a
// veth goes with its peer.
func (m mnNames) teardownCommands(nodes int) [][]string {
	var cmds [][]string
	for n := 1; n <= nodes; n++ {
		cmds = append(cmds, []string{"ip", "netns", "delete", m.nodeNS(n)})
	}
	return append(cmds,
		[]string{"ip", "netns", "delete", m.hubNS()},
		[]string{"ip", "link", "delete", m.hostVeth()},
		[]string{"ip", "route", "del", "unreachable", m.clusterCIDR()},
		[]string{"ip", "route", "del", "unreachable", m.serviceCIDR()},
	)
}

// acquireMNSlot takes a free harness slot: a lock file naming this
// process, created exclusively, which is removed when the test ends. A
// slot whose file names a process that is gone is taken over, and a slot
// whose hub address some interface of the host already holds is skipped.
func acquireMNSlot(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "skiff-e2e-multinode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addrs, _ := runCommand("ip", "-o", "-4", "addr", "show")
	pid := strconv.Itoa(os.Getpid())
	for slot := range mnSlots {
		if strings.Contains(addrs, " "+newMNNames(0, slot).serverIP()+"/") {
			continue
		}
		path := filepath.Join(dir, "slot-"+strconv.Itoa(slot))
		for range 2 { // the second time after removing a stale file
			f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err == nil {
				_, werr := f.WriteString(pid)
				if cerr := f.Close(); werr != nil || cerr != nil {
					t.Fatalf("writing %s: %v %v", path, werr, cerr)
				}
				t.Cleanup(func() { _ = os.Remove(path) })
				return slot
			}
			if !errors.Is(err, os.ErrExist) || !staleSlot(path) {
				break
			}
			_ = os.Remove(path)
		}
	}
	t.Fatalf("all %d multi-node harness slots in %s are taken", mnSlots, dir)
	return 0
}

// staleSlot reports whether a slot file names a process that is gone.
func staleSlot(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return true
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// runCommand runs one harness command with a deadline.
func runCommand(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), mnCommandDeadline)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// mnAgent is one `skiff agent` process in its node namespace.
type mnAgent struct {
	n       int
	name    string
	ns      string
	dataDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// multiNode is the running harness.
type multiNode struct {
	t      *testing.T
	names  mnNames
	server *processCluster
	k      *kubectl
	agents []*mnAgent
	// wantPodMTU is the MTU the pods' interfaces must have.
	wantPodMTU int
	// readySince is when each node's Ready condition last turned True,
	// as seen once all were Ready.
	readySince map[string]string
	// cutOff is set once a scenario has cut node mnCutNode off.
	cutOff bool
	// agentArgs are extra flags of every agent (the overlay backend).
	agentArgs []string
	// namespaces are the scenarios' Kubernetes namespaces, deleted (and
	// their containers required gone) before the agents stop.
	namespaces []string
}

// startMultiNode builds the network, starts the server and one agent per
// node (each with agentArgs on top of the harness's flags), and waits
// until every Node is Ready.
func startMultiNode(t *testing.T, archives []string, nodes int, agentArgs ...string) *multiNode {
	t.Helper()
	m := &multiNode{t: t, names: newMNNames(os.Getpid(), acquireMNSlot(t)), agentArgs: agentArgs}
	// Registered first, so it runs last: after the agents and the server.
	t.Cleanup(func() {
		for _, c := range m.names.teardownCommands(nodes) {
			_, _ = runCommand(c...)
		}
		// Pod namespaces of the harness's range that no agent tore down.
		for _, ns := range m.podNetworkNamespaces() {
			if _, err := runCommand("ip", "netns", "delete", ns); err == nil {
				t.Logf("deleted pod network namespace %s, left behind", ns)
			}
		}
	})
	for _, c := range m.names.setupCommands(nodes) {
		if _, err := runCommand(c...); err != nil {
			t.Fatalf("building the harness network: %v", err)
		}
	}
	ports, err := testserver.FreePorts(3)
	if err != nil {
		t.Fatalf("free ports: %v", err)
	}
	// The server's ingress component creates the default IngressClass and
	// writes Ingress statuses; its proxy listens on free ports of the host
	// (the nodes' proxies, in the agents, on port 80 of theirs).
	m.server = startServer(t, "--disable-agent",
		"--bind-address", "0.0.0.0", "--tls-san", m.names.serverIP(), "--node-ip", m.names.serverIP(),
		"--node-monitor-grace-period", mnGracePeriod.String(),
		"--cluster-dns-address", "0.0.0.0:"+strconv.Itoa(ports[0]),
		"--ingress-http-port", strconv.Itoa(ports[1]), "--ingress-https-port", strconv.Itoa(ports[2]),
		"--cluster-cidr", m.names.clusterCIDR(), "--service-cidr", m.names.serviceCIDR())
	m.k = newKubectl(t, m.server)
	m.waitServerReachable(t, nodes)
	for n := 1; n <= nodes; n++ {
		m.agents = append(m.agents, m.startAgent(archives, n))
	}
	t.Cleanup(m.drain)
	m.waitNodesReady(t, nodeReadyDeadline+30*time.Second)
	m.readySince = map[string]string{}
	for _, a := range m.agents {
		m.readySince[a.name] = m.readyTransition(m.k, a.name)
	}
	return m
}

// startAgent starts node n's agent in its namespace. Its cleanups stop it
// (SIGTERM) and then remove whatever it left behind.
func (m *multiNode) startAgent(archives []string, n int) *mnAgent {
	t := m.t
	t.Helper()
	a := &mnAgent{n: n, name: mnNodeName(n), ns: m.names.nodeNS(n), dataDir: t.TempDir(),
		logPath: filepath.Join(t.TempDir(), "agent.log")}
	t.Cleanup(func() { removeAgentLeftovers(t, a.dataDir) })
	imagesDir := filepath.Join(a.dataDir, "agent", "images")
	if err := os.MkdirAll(imagesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range archives {
		// Hard links when possible: the archives are large and read-only.
		if err := os.Link(f, filepath.Join(imagesDir, filepath.Base(f))); err != nil {
			if err := copyFile(f, filepath.Join(imagesDir, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
	}
	logFile, err := os.Create(a.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	args := []string{"--net=/run/netns/" + a.ns, "--", skiffBinary, "agent",
		"--server", "https://" + m.names.serverIP() + ":" + strconv.Itoa(m.server.port),
		"--token-file", filepath.Join(m.server.dataDir, "token"),
		"--data-dir", a.dataDir, "--node-name", a.name, "--node-ip", m.names.nodeIP(n),
		"--agent-port", strconv.Itoa(mnAgentPort),
		"--cluster-cidr", m.names.clusterCIDR(), "--service-cidr", m.names.serviceCIDR(), "--log-level", "debug"}
	a.cmd = exec.Command("nsenter", append(args, m.agentArgs...)...)
	a.cmd.Stdout, a.cmd.Stderr = logFile, logFile
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("starting the agent of %s: %v", a.name, err)
	}
	a.exited = make(chan struct{})
	go func() { _ = a.cmd.Wait(); close(a.exited) }()
	t.Cleanup(func() {
		a.stop()
		if dir := os.Getenv(keepLogsEnv); dir != "" {
			keepLogs(t, filepath.Join(dir, a.name), a.logPath, containerdLog(a.dataDir))
		}
		if t.Failed() {
			t.Logf("skiff agent %s log, last lines:\n%s", a.name, tail(a.logPath, 40))
		}
	})
	return a
}

// stop sends SIGTERM (nsenter has exec'd the agent, so the signal reaches
// it) and kills the agent if it has not exited within stopDeadline.
func (a *mnAgent) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(stopDeadline):
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}

// nodeReady is the status of a Node's Ready condition ("" when the Node
// is not there).
func (m *multiNode) nodeReady(k *kubectl, node string) string {
	r := k.run("get", "node", node, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	if r.code != 0 {
		return ""
	}
	return r.stdout
}

// readyTransition is the lastTransitionTime of a Node's Ready condition.
func (m *multiNode) readyTransition(k *kubectl, node string) string {
	return k.get("", "node/"+node, `{.status.conditions[?(@.type=="Ready")].lastTransitionTime}`)
}

// waitNodesReady waits until every agent's Node is Ready.
func (m *multiNode) waitNodesReady(t testing.TB, deadline time.Duration) {
	t.Helper()
	k := m.k.with(t)
	eventually(t, deadline, "every node to be Ready", func() (bool, string) {
		var state []string
		ready := true
		for _, a := range m.agents {
			select {
			case <-a.exited:
				t.Fatalf("the agent of %s exited: %v; log:\n%s", a.name, a.cmd.ProcessState, tail(a.logPath, 20))
			default:
			}
			s := m.nodeReady(k, a.name)
			ready = ready && s == "True"
			state = append(state, a.name+"="+s)
		}
		return ready, strings.Join(state, " ")
	})
}

// scenario creates a namespace for one scenario and returns kubectl for
// it; its pods are dumped when the scenario fails.
func (m *multiNode) scenario(t *testing.T, ns string) (*kubectl, string) {
	t.Helper()
	k := m.k.with(t)
	m.namespaces = append(m.namespaces, ns)
	k.workNamespace(ns)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("state of namespace %s:\n%s", ns, dumpNamespace(k, ns))
		}
	})
	return k, ns
}

// drain deletes the scenarios' namespaces and requires every agent to
// remove all its containers.
func (m *multiNode) drain() {
	t, k := m.t, m.k
	if m.server.cmd == nil {
		return
	}
	if len(m.namespaces) > 0 {
		k.run(append([]string{"delete", "namespace", "--ignore-not-found", "--wait=false"}, m.namespaces...)...)
		args := []string{"wait", "--for=delete", fmt.Sprintf("--timeout=%ds", int(drainDeadline.Seconds()))}
		for _, ns := range m.namespaces {
			args = append(args, "namespace/"+ns)
		}
		if r := k.run(args...); r.code != 0 {
			t.Errorf("test namespaces not deleted within %v:\n%s\n%s", drainDeadline, r, k.run("get", "pods", "-A", "-o", "wide").stdout)
			return
		}
	}
	end := time.Now().Add(drainDeadline)
	for _, a := range m.agents {
		for {
			ids, err := runtimeContainers(a.dataDir)
			if err == nil && len(ids) == 0 {
				break
			}
			if time.Now().After(end) {
				t.Errorf("containers left in %s's containerd: %v (%v)", a.name, ids, err)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	// Removing a sandbox removes its network namespace (pinned under
	// /run/netns, visible here because the agents share the test's mount
	// namespace).
	if left := m.podNetworkNamespaces(); len(left) > 0 {
		t.Errorf("network namespaces of removed pods left behind: %v", left)
	}
}

// podNetworkNamespaces are the named network namespaces with an address
// in the harness's pod range, other than its node namespaces (which hold
// the pod bridges' gateway addresses): pod sandboxes not torn down.
func (m *multiNode) podNetworkNamespaces() []string {
	var pods []string
	for _, ns := range netnsWithAddressIn(netip.MustParsePrefix(m.names.clusterCIDR())) {
		if !strings.HasPrefix(ns, "mn-"+m.names.id+"-") {
			pods = append(pods, ns)
		}
	}
	return pods
}

// networkState is what to look at when a node cannot reach the server:
// the addresses, routes and neighbours of the host's link and of every
// namespace of the harness.
func (m *multiNode) networkState(nodes int) string {
	var b strings.Builder
	cmds := [][]string{{"ip", "addr", "show", m.names.hostVeth()}, {"ip", "route", "get", m.names.nodeIP(1)},
		{"ip", "-n", m.names.hubNS(), "link", "show"}}
	for n := 1; n <= nodes; n++ {
		ns := m.names.nodeNS(n)
		cmds = append(cmds, []string{"ip", "-n", ns, "addr", "show"}, []string{"ip", "-n", ns, "route", "show"},
			[]string{"ip", "-n", ns, "neigh", "show"})
	}
	for _, c := range cmds {
		out, err := runCommand(c...)
		fmt.Fprintf(&b, "$ %s\n%s", strings.Join(c, " "), out)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	return b.String()
}

// waitServerReachable waits until every node namespace reaches the API
// server's port, so that a broken harness network shows as such rather
// than as agents failing to join.
func (m *multiNode) waitServerReachable(t testing.TB, nodes int) {
	t.Helper()
	url := "https://" + m.names.serverIP() + ":" + strconv.Itoa(m.server.port) + "/healthz"
	for n := 1; n <= nodes; n++ {
		end := time.Now().Add(30 * time.Second)
		for {
			// Any HTTP answer (401 included) will do: curl exits 0.
			out, err := m.nsExec(n, "curl", "-ksS", "-o", "/dev/null", "--max-time", "3", url)
			if err == nil {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("node namespace %d cannot reach %s: %v %s\n%s", n, url, err, out, m.networkState(nodes))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// nsExec runs a command in node n's network namespace (only the network:
// the mount namespace stays the test's).
func (m *multiNode) nsExec(n int, args ...string) (string, error) {
	return runCommand(append([]string{"nsenter", "--net=/run/netns/" + m.names.nodeNS(n), "--"}, args...)...)
}
