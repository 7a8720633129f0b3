package e2e

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These scenarios run one after another on TestNodes' cluster: they taint
// and label nodes (and undo it when they end), and the last kills one.

// scenarioDaemonSet: a DaemonSet runs one pod on every node but the one
// tainted NoSchedule, and follows the node when the taint is removed.
func scenarioDaemonSet(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-daemonset")
	const tainted = "sim-node-1"
	wantExactLines(t, k.ok("taint", "node", tainted, "e2e/dedicated=infra:NoSchedule"), "node/"+tainted+" tainted")
	t.Cleanup(func() { k.run("taint", "node", tainted, "e2e/dedicated-") })

	k.write("agent.yaml", nsManifest(ns, `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: __NS__
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: busybox:1.36
        command: [sleep, infinity]
`))
	wantExactLines(t, k.ok("apply", "-f", "agent.yaml"), "daemonset.apps/agent created")
	var untainted []string
	for _, n := range c.nodes {
		if n != tainted {
			untainted = append(untainted, n)
		}
	}
	for _, want := range [][]string{untainted, c.nodes} {
		if len(want) == len(c.nodes) {
			wantExactLines(t, k.ok("taint", "node", tainted, "e2e/dedicated=infra:NoSchedule-"), "node/"+tainted+" untainted")
		}
		rolloutStatus(t, k, ns, "daemonset/agent", `daemon set "agent" successfully rolled out`)
		pods := k.waitRunning(ns, "app=agent", len(want))
		if got := sortedNodes(pods); got != strings.Join(want, " ") {
			t.Errorf("DaemonSet pods on %q, want one on each of %q:\n%s", got, want, describePods(pods))
		}
		n := strconv.Itoa(len(want))
		parseTable(t, k.ok("get", "daemonset", "agent", "-n", ns)).wantRow(t, "agent", map[string]string{
			"DESIRED": n, "CURRENT": n, "READY": n, "UP-TO-DATE": n, "AVAILABLE": n})
	}
	wantExactLines(t, k.ok("rollout", "history", "daemonset/agent", "-n", ns),
		"daemonset.apps/agent", "REVISION  CHANGE-CAUSE", "1         <none>")
	wantExactLines(t, k.ok("delete", "namespace", ns), `namespace "`+ns+`" deleted`)
}

// scenarioNodeSelectorTaints: pods go only to nodes their nodeSelector
// matches, and to tainted nodes only when they tolerate the taint; a
// NoExecute taint evicts the pods that do not tolerate it.
func scenarioNodeSelectorTaints(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-placement")
	const ssd, tainted, evicting = "sim-node-0", "sim-node-1", "sim-spare-0"

	wantExactLines(t, k.ok("label", "node", ssd, "e2e-disk=ssd"), "node/"+ssd+" labeled")
	t.Cleanup(func() { k.run("label", "node", ssd, "e2e-disk-") })
	k.write("pinned.yaml", nsManifest(ns, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: pinned
  namespace: __NS__
spec:
  replicas: 3
  selector:
    matchLabels: {app: pinned}
  template:
    metadata:
      labels: {app: pinned}
    spec:
      nodeSelector: {e2e-disk: ssd}
      containers:
      - name: c
        image: nginx:1.25
---
apiVersion: v1
kind: Pod
metadata:
  name: nowhere
  namespace: __NS__
spec:
  nodeSelector: {e2e-disk: nvme}
  containers:
  - name: c
    image: nginx:1.25
`))
	wantExactLines(t, k.ok("apply", "-f", "pinned.yaml"), "deployment.apps/pinned created", "pod/nowhere created")
	if got := sortedNodes(k.waitRunning(ns, "app=pinned", 3)); got != strings.Repeat(ssd+" ", 2)+ssd {
		t.Errorf("pods with nodeSelector e2e-disk=ssd run on %q, want all on %s", got, ssd)
	}
	const noMatch = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if msg := k.waitFailedScheduling(ns, "nowhere"); msg != noMatch {
		t.Errorf("pod whose nodeSelector no node matches: FailedScheduling %q, want %q", msg, noMatch)
	}

	wantExactLines(t, k.ok("taint", "node", tainted, "e2e/dedicated=infra:NoSchedule"), "node/"+tainted+" tainted")
	t.Cleanup(func() { k.run("taint", "node", tainted, "e2e/dedicated-") })
	k.write("tainted.yaml", nsManifest(ns, `apiVersion: v1
kind: Pod
metadata:
  name: intruder
  namespace: __NS__
  labels: {role: intruder}
spec:
  nodeSelector: {kubernetes.io/hostname: `+tainted+`}
  containers:
  - name: c
    image: nginx:1.25
---
apiVersion: v1
kind: Pod
metadata:
  name: guest
  namespace: __NS__
  labels: {role: guest}
spec:
  nodeSelector: {kubernetes.io/hostname: `+tainted+`}
  tolerations:
  - {key: e2e/dedicated, operator: Equal, value: infra, effect: NoSchedule}
  containers:
  - name: c
    image: nginx:1.25
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: spread
  namespace: __NS__
spec:
  replicas: 6
  selector:
    matchLabels: {app: spread}
  template:
    metadata:
      labels: {app: spread}
    spec:
      containers:
      - name: c
        image: nginx:1.25
`))
	wantExactLines(t, k.ok("apply", "-f", "tainted.yaml"), "pod/intruder created", "pod/guest created", "deployment.apps/spread created")
	if got := sortedNodes(k.waitRunning(ns, "role=guest", 1)); got != tainted {
		t.Errorf("pod tolerating the taint and selecting %s runs on %q", tainted, got)
	}
	const untolerated = "0/3 nodes are available: 1 node(s) had untolerated taint {e2e/dedicated: infra}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if msg := k.waitFailedScheduling(ns, "intruder"); msg != untolerated {
		t.Errorf("pod selecting a tainted node it does not tolerate: FailedScheduling %q, want %q", msg, untolerated)
	}
	spread := k.waitRunning(ns, "app=spread", 6)
	if nodes := nodesOf(spread); nodes[tainted] != 0 {
		t.Errorf("pods without a toleration were scheduled onto tainted %s:\n%s", tainted, describePods(spread))
	}

	// NoExecute evicts what does not tolerate it; the Deployment replaces
	// the evicted pods on the nodes left.
	wantExactLines(t, k.ok("taint", "node", evicting, "e2e/evict=now:NoExecute"), "node/"+evicting+" tainted")
	t.Cleanup(func() { k.run("taint", "node", evicting, "e2e/evict-") })
	eventually(t, settleDeadline, "pods of deployment spread to leave "+evicting, func() (bool, string) {
		pods := k.pods(ns, "app=spread")
		live := livePods(pods)
		if len(live) != 6 || nodesOf(pods)[evicting] != 0 {
			return false, describePods(pods)
		}
		for _, p := range live {
			if p.ready != "True" || p.node == tainted {
				return false, describePods(pods)
			}
		}
		return true, ""
	})
	wantExactLines(t, k.ok("delete", "namespace", ns), `namespace "`+ns+`" deleted`)
}

// scenarioNodeFailure: when sim-spare-0 stops heartbeating (its simulator
// process is killed), the node lifecycle controller marks it unreachable
// and taints it, its pods are evicted once their toleration runs out, and
// their Deployment recreates them on the other nodes.
func scenarioNodeFailure(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-nodefailure")
	const lost = "sim-spare-0"
	k.write("survivor.yaml", nsManifest(ns, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: survivor
  namespace: __NS__
spec:
  replicas: 6
  selector:
    matchLabels: {app: survivor}
  template:
    metadata:
      labels: {app: survivor}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      containers:
      - name: c
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: survivor
  namespace: __NS__
spec:
  selector: {app: survivor}
  ports:
  - port: 80
`))
	wantExactLines(t, k.ok("apply", "-f", "survivor.yaml"), "deployment.apps/survivor created", "service/survivor created")
	before := k.waitRunning(ns, "app=survivor", 6)
	var doomed []string
	for _, p := range before {
		if p.node == lost {
			doomed = append(doomed, p.name)
		}
	}
	if len(doomed) == 0 {
		t.Fatalf("no pod of 6 was placed on %s (default spreading over 3 nodes):\n%s", lost, describePods(before))
	}

	c.sims["spare"].Kill()
	eventually(t, 2*time.Minute, lost+" to be NotReady with the unreachable taint", func() (bool, string) {
		got := k.ok("get", "node", lost, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {range .spec.taints[*]}{.key}:{.effect} {end}`)
		return strings.HasPrefix(got, "Unknown ") && strings.Contains(got, "node.kubernetes.io/unreachable:NoExecute"), got
	})
	parseTable(t, k.ok("get", "node", lost)).wantRow(t, lost, map[string]string{"STATUS": "NotReady"})

	eventually(t, 90*time.Second, "the pods of "+lost+" to be replaced on the other nodes", func() (bool, string) {
		pods := k.pods(ns, "app=survivor")
		live := livePods(pods)
		if len(live) != 6 {
			return false, describePods(pods)
		}
		for _, p := range live {
			if p.node == lost || p.phase != "Running" || p.ready != "True" || slices.Contains(doomed, p.name) {
				return false, describePods(pods)
			}
		}
		return true, ""
	})
	rolloutStatus(t, k, ns, "deployment/survivor", `deployment "survivor" successfully rolled out`)
	// Pods of an unreachable node stay Terminating: no agent confirms.
	pods := k.pods(ns, "app=survivor")
	var ips []string
	for _, p := range pods {
		if p.node == lost && p.deleting == "" {
			t.Errorf("pod %s on %s is not being deleted", p.name, lost)
		}
		if p.deleting == "" {
			ips = append(ips, p.ip)
		}
	}
	// The Service sends traffic only to the replacements.
	sort.Strings(ips)
	eventually(t, settleDeadline, "Endpoints survivor to list the live pods only", func() (bool, string) {
		got := k.ok("get", "endpoints", "survivor", "-n", ns, "-o", "jsonpath={.subsets[*].addresses[*].ip}")
		return sortedFields(got) == strings.Join(ips, " "), got + "\nwant " + strings.Join(ips, " ") + "\n" + describePods(pods)
	})
	evicted := sortedFields(k.ok("get", "events", "-n", ns, "--field-selector", "reason=TaintManagerEviction",
		"-o", `jsonpath={range .items[*]}{.involvedObject.name} {end}`))
	for _, name := range doomed {
		if !strings.Contains(" "+evicted+" ", " "+name+" ") {
			t.Errorf("no TaintManagerEviction event for pod %s (events for %q)", name, evicted)
		}
	}
}

func sortedNodes(pods []podInfo) string {
	var nodes []string
	for _, p := range pods {
		nodes = append(nodes, p.node)
	}
	sort.Strings(nodes)
	return strings.Join(nodes, " ")
}
