package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The workload scenarios need the whole control plane: `skiff server`
// with its controllers and scheduler, and nodes played by `skiff simulate`
// (hollow kubelets, as kwok does) in separate processes, or by kwok itself
// with SKIFF_E2E_NODES=kwok (see workloads_kwok_test.go).

const (
	// nodesReadyDeadline bounds the wait for simulated nodes to register
	// and report Ready.
	nodesReadyDeadline = 60 * time.Second
	// settleDeadline bounds the wait for controllers to reach a declared
	// state (pods created, scheduled and Running).
	settleDeadline = 60 * time.Second
)

var (
	commandsOnce sync.Once
	commands     map[string]bool
	commandsErr  error
)

// skiffCommands returns the subcommands `skiff --help` lists.
func skiffCommands(t testing.TB) map[string]bool {
	t.Helper()
	requireBinary(t)
	commandsOnce.Do(func() {
		out, err := exec.Command(skiffBinary, "--help").CombinedOutput()
		if err != nil {
			commandsErr = fmt.Errorf("skiff --help: %v\n%s", err, out)
			return
		}
		commands = map[string]bool{}
		inList := false
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, "Available Commands:"):
				inList = true
			case inList && strings.HasPrefix(line, "  "):
				commands[strings.Fields(line)[0]] = true
			case inList:
				inList = false
			}
		}
	})
	if commandsErr != nil {
		t.Fatal(commandsErr)
	}
	return commands
}

// requireCommand skips the test when the skiff binary lacks a subcommand
// the scenario depends on (it is being written while this suite is).
func requireCommand(t testing.TB, name, why string) {
	t.Helper()
	if !skiffCommands(t)[name] {
		t.Skipf("`skiff %s` missing (not in `skiff --help`): needed %s", name, why)
	}
}

// simProcess is one node-simulator process (`skiff simulate`, or kwok):
// a set of simulated nodes.
type simProcess struct {
	t       testing.TB
	what    string // the command, for messages
	noise   string // log lines containing it are left out of failure reports
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startSimulator runs `skiff simulate` against kubeconfig with the given
// flags until the test ends (SIGTERM, which must end it cleanly) or Kill.
func startSimulator(t testing.TB, kubeconfig, name string, flags ...string) *simProcess {
	t.Helper()
	return startNodeProcess(t, "skiff simulate", name, skiffBinary, append([]string{"simulate", "--kubeconfig", kubeconfig}, flags...)...)
}

// startNodeProcess runs a node simulator binary with args until the test
// ends (SIGTERM, which must end it cleanly) or Kill.
func startNodeProcess(t testing.TB, what, name, binary string, args ...string) *simProcess {
	t.Helper()
	s := &simProcess{t: t, what: what, logPath: filepath.Join(t.TempDir(), name+".log")}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("%s log: %v", what, err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "=== %s %s\n", binary, strings.Join(args, " "))
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", what, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s log (%s), last lines:\n%s", what, s.logPath, s.tail(20))
		}
	})
	return s
}

// tail returns the last n lines of the log, without the noise.
func (s *simProcess) tail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if s.noise == "" || !strings.Contains(line, s.noise) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Kill ends the process at once (SIGKILL): its nodes stop heartbeating,
// as when a machine dies.
func (s *simProcess) Kill() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

func (s *simProcess) stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	defer func() { s.cmd = nil }()
	select {
	case <-s.exited:
		s.t.Errorf("%s exited early: %v\nlog:\n%s", s.what, s.waitErr, s.tail(20))
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("SIGTERM to %s: %v", s.what, err)
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			s.t.Errorf("%s did not exit cleanly after SIGTERM: %v\nlog:\n%s", s.what, s.waitErr, s.tail(20))
		}
	case <-time.After(stopDeadline):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("%s did not exit within %v of SIGTERM", s.what, stopDeadline)
	}
}

// fullCluster is `skiff server` with its controllers and scheduler, and
// simulated nodes.
type fullCluster struct {
	*processCluster
	k     *kubectl
	nodes []string
	sims  map[string]*simProcess
	// nodeSim is the node simulator playing the nodes (SKIFF_E2E_NODES).
	nodeSim string
}

// simNodes is one simulator process: its name (for logs and Kill) and
// the nodes it plays, named prefix0, prefix1, ... The nodes' shape is the
// same whichever simulator plays them; zero values are the defaults.
type simNodes struct {
	name   string
	prefix string
	count  int
	// cpu, memory and pods are each node's capacity (and allocatable).
	cpu, memory string
	pods        int
	// labels (KEY=VALUE) and taints (KEY[=VALUE]:EFFECT) go on every
	// node; zones spreads the nodes round-robin over these zones.
	labels, taints, zones []string
}

// The capacity of a simulated node unless a group says otherwise.
const (
	defaultNodeCPU    = "32"
	defaultNodeMemory = "256Gi"
	defaultNodePods   = 110
)

func (g simNodes) withDefaults() simNodes {
	if g.cpu == "" {
		g.cpu = defaultNodeCPU
	}
	if g.memory == "" {
		g.memory = defaultNodeMemory
	}
	if g.pods == 0 {
		g.pods = defaultNodePods
	}
	return g
}

// nodeNames are the names of the group's nodes.
func (g simNodes) nodeNames() []string {
	var names []string
	for i := 0; i < g.count; i++ {
		names = append(names, fmt.Sprintf("%s%d", g.prefix, i))
	}
	return names
}

// simulateFlags are the `skiff simulate` flags that play the group.
func (g simNodes) simulateFlags() []string {
	flags := []string{"--nodes", fmt.Sprint(g.count), "--name-prefix", g.prefix, "--lease-renew-interval", "2s",
		"--cpu", g.cpu, "--memory", g.memory, "--pods", fmt.Sprint(g.pods)}
	for _, l := range g.labels {
		flags = append(flags, "--label", l)
	}
	for _, taint := range g.taints {
		flags = append(flags, "--taint", taint)
	}
	if len(g.zones) > 0 {
		flags = append(flags, "--zones", strings.Join(g.zones, ","))
	}
	return flags
}

// startFullCluster starts `skiff server` (everything but the node agent:
// the simulated nodes stand in for it) and one simulator process per
// group (`skiff simulate`, or kwok when SKIFF_E2E_NODES=kwok), and waits
// until every node is Ready and the scheduler holds its Lease. It skips
// the test when the binary lacks a command it needs.
func startFullCluster(t *testing.T, groups ...simNodes) *fullCluster {
	t.Helper()
	requireKubectl(t)
	sim := nodeSimulator(t)
	var kwok *kwokSetup
	switch sim {
	case nodeSimSkiff:
		requireCommand(t, "simulate", "to run the simulated nodes")
	case nodeSimKwok:
		kwok = requireKwok(t)
	}
	requireCommand(t, "scheduler", "to schedule the pods")
	// A node is declared unreachable after 20s without a heartbeat
	// (Kubernetes' default is 50s); the simulated nodes renew their Leases
	// every 2s, so a live node never comes close.
	p := startServer(t, "--disable-agent", "--disable-dns", "--disable-ingress", "--log-level", "info", "--node-monitor-grace-period", "20s")
	c := &fullCluster{processCluster: p, sims: map[string]*simProcess{}, nodeSim: sim}
	c.k = newKubectl(t, c)

	// The scheduler runs inside `skiff server`, elected through the
	// kube-scheduler Lease as kube-scheduler is.
	eventually(t, 30*time.Second, "the scheduler of skiff server to hold kube-system/kube-scheduler", func() (bool, string) {
		r := c.k.run("get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}")
		return r.code == 0 && strings.TrimSpace(r.stdout) != "", r.String()
	})

	for i, g := range groups {
		g = g.withDefaults()
		switch sim {
		case nodeSimSkiff:
			c.sims[g.name] = startSimulator(t, c.Kubeconfig(), g.name, g.simulateFlags()...)
		case nodeSimKwok:
			c.sims[g.name] = kwok.startGroup(t, c, i, g)
		}
		c.nodes = append(c.nodes, g.nodeNames()...)
	}
	sort.Strings(c.nodes)
	want := strings.Join(c.nodes, " ")
	eventually(t, nodesReadyDeadline, "nodes "+want+" to be Ready", func() (bool, string) {
		got := readyNodes(t, c.k)
		return strings.Join(got, " ") == want, fmt.Sprintf("Ready nodes: %q", got)
	})
	return c
}

// readyNodes lists the nodes whose Ready condition is True, sorted.
func readyNodes(t testing.TB, k *kubectl) []string {
	t.Helper()
	out := k.ok("get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
	var ready []string
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutSuffix(line, "=True"); ok {
			ready = append(ready, name)
		}
	}
	sort.Strings(ready)
	return ready
}

// eventually polls cond until it reports done, failing the test with
// cond's last description of the state when the deadline passes.
func eventually(t testing.TB, deadline time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		done, state := cond()
		if done {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s; last state:\n%s", deadline, what, state)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// workNamespace creates a namespace for a workload scenario and waits for
// its default ServiceAccount, which pods need to be admitted.
func (k *kubectl) workNamespace(name string) string {
	k.t.Helper()
	k.namespace(name)
	eventually(k.t, settleDeadline, "ServiceAccount "+name+"/default", func() (bool, string) {
		r := k.run("get", "serviceaccount", "default", "-n", name, "-o", "name")
		return r.code == 0, r.String()
	})
	return name
}

// podInfo is one pod as `kubectl get pods` reports it.
type podInfo struct {
	name, node, phase, ready, ip, image, deleting, owner string
}

func (p podInfo) String() string {
	return fmt.Sprintf("%s node=%s phase=%s ready=%s ip=%s image=%s deleting=%s owner=%s",
		p.name, p.node, p.phase, p.ready, p.ip, p.image, p.deleting, p.owner)
}

// podFields is the jsonpath (after the object prefix) that podInfo parses.
const podFields = `{.metadata.name}|{.spec.nodeName}|{.status.phase}|{.status.conditions[?(@.type=="Ready")].status}|{.status.podIP}|{.spec.containers[0].image}|{.metadata.deletionTimestamp}|{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}`

func parsePodInfo(line string) (podInfo, bool) {
	f := strings.Split(line, "|")
	if len(f) != 8 {
		return podInfo{}, false
	}
	return podInfo{name: f[0], node: f[1], phase: f[2], ready: f[3], ip: f[4], image: f[5], deleting: f[6], owner: f[7]}, true
}

// pods lists the pods of a namespace matching a label selector.
func (k *kubectl) pods(ns, selector string) []podInfo {
	k.t.Helper()
	args := []string{"get", "pods", "-n", ns, "-o", `jsonpath={range .items[*]}` + podFields + `{"\n"}{end}`}
	if selector != "" {
		args = append(args, "-l", selector)
	}
	var pods []podInfo
	for _, line := range strings.Split(k.ok(args...), "\n") {
		if p, ok := parsePodInfo(line); ok {
			pods = append(pods, p)
		}
	}
	return pods
}

// livePods are the pods not being deleted.
func livePods(pods []podInfo) []podInfo {
	var live []podInfo
	for _, p := range pods {
		if p.deleting == "" {
			live = append(live, p)
		}
	}
	return live
}

func describePods(pods []podInfo) string {
	var b strings.Builder
	for _, p := range pods {
		fmt.Fprintln(&b, p)
	}
	if b.Len() == 0 {
		return "(no pods)"
	}
	return b.String()
}

// waitRunning waits until exactly n pods match the selector, none being
// deleted, all Running and Ready on a node with an IP; it returns them.
func (k *kubectl) waitRunning(ns, selector string, n int) []podInfo {
	k.t.Helper()
	var pods []podInfo
	eventually(k.t, settleDeadline, fmt.Sprintf("%d Running pods %s in %s", n, selector, ns), func() (bool, string) {
		pods = k.pods(ns, selector)
		if len(pods) != n {
			return false, describePods(pods)
		}
		for _, p := range pods {
			if p.deleting != "" || p.phase != "Running" || p.ready != "True" || p.node == "" || p.ip == "" {
				return false, describePods(pods)
			}
		}
		return true, ""
	})
	return pods
}

// nodesOf returns the set of nodes pods run on.
func nodesOf(pods []podInfo) map[string]int {
	nodes := map[string]int{}
	for _, p := range pods {
		nodes[p.node]++
	}
	return nodes
}

// podWatch follows `kubectl get pods --watch --output-watch-events` for a
// selector and keeps the pods' current state, calling check after every
// event with the event and the state (under the watch's lock).
type podWatch struct {
	mu     sync.Mutex
	pods   map[string]podInfo
	events []string
	done   chan struct{}
}

var watchEventLine = regexp.MustCompile(`^(ADDED|MODIFIED|DELETED) (.*)$`)

func (k *kubectl) watchPods(ns, selector string, check func(event string, p podInfo, pods map[string]podInfo)) (*podWatch, func()) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b := k.start(ctx, nil, "get", "pods", "-n", ns, "-l", selector, "--watch", "--output-watch-events", "-v=6",
		"-o", `jsonpath={.type} {.object.metadata.name}|{.object.spec.nodeName}|{.object.status.phase}|{.object.status.conditions[?(@.type=="Ready")].status}|{.object.status.podIP}|{.object.spec.containers[0].image}|{.object.metadata.deletionTimestamp}|{.object.metadata.ownerReferences[0].kind}/{.object.metadata.ownerReferences[0].name}{"\n"}`)
	w := &podWatch{pods: map[string]podInfo{}, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for line := range b.lines {
			m := watchEventLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			p, ok := parsePodInfo(m[2])
			if !ok {
				continue
			}
			w.mu.Lock()
			w.events = append(w.events, line)
			if m[1] == "DELETED" {
				delete(w.pods, p.name)
			} else {
				w.pods[p.name] = p
			}
			if check != nil {
				check(m[1], p, w.pods)
			}
			w.mu.Unlock()
		}
	}()
	// Changes made from now on reach kubectl through its watch.
	b.waitStderr(k.t, "watch=true", commandDeadline)
	return w, func() {
		cancel()
		<-w.done
	}
}

// log returns the events seen so far.
func (w *podWatch) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.events, "\n")
}

// waitFailedScheduling waits until `kubectl describe pod` shows a
// FailedScheduling warning from default-scheduler and returns its message.
func (k *kubectl) waitFailedScheduling(ns, pod string) string {
	k.t.Helper()
	re := regexp.MustCompile(`(?m)^\s+Warning\s+FailedScheduling\s+.*?\s+default-scheduler\s+(.*)$`)
	var msg string
	eventually(k.t, settleDeadline, "a FailedScheduling event for pod "+ns+"/"+pod, func() (bool, string) {
		out := k.ok("describe", "pod", pod, "-n", ns)
		m := re.FindStringSubmatch(out)
		if m == nil {
			return false, out
		}
		msg = strings.TrimSpace(m[1])
		return true, ""
	})
	return msg
}

// reportViolations fails the test with the first few violations of an
// invariant checked on every watch event, and how many there were.
func reportViolations(t testing.TB, invariant string, violations []string) {
	t.Helper()
	for i, v := range violations {
		if i == 3 {
			t.Errorf("%s: %d more violations", invariant, len(violations)-i)
			return
		}
		t.Errorf("%s: %s", invariant, v)
	}
}
