package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mnNodes is how many agents the multi-node harness runs; mnCutNode is
// the one scenarioMNCutOff cuts off.
const (
	mnNodes   = 3
	mnCutNode = 3
)

// TestMultiNode runs three `skiff agent`s, each in a network namespace of
// its own, joined to one `skiff server` (multinode_harness_test.go): the
// nodes register Ready with pod CIDRs of their own; pods on different
// nodes reach each other by pod IP and by Service name; a NodePort answers
// on every node; TestNodeAgent's Service, ingress and scale-down scenarios
// pass with the replicas on different nodes; a node cut off from the network goes NotReady, its pod is
// recreated on another node, and it comes back Ready when reconnected.
// The scenarios run in order on one harness (the later ones rely on the
// earlier ones' nodes being Ready).
//
// The agents use the default overlay (VXLAN); TestMultiNodeHostGW repeats
// the connectivity scenarios with the host-gw backend.
func TestMultiNode(t *testing.T) {
	runMultiNode(t, podMTU(mnUplinkMTU, true), nil,
		mnScenario{"nodes-ready", scenarioMNNodesReady},
		mnScenario{"cross-node-pods", scenarioMNCrossNode},
		mnScenario{"nodeport-every-node", scenarioMNNodePort},
		mnScenario{"services", scenarioMNServices},
		mnScenario{"ingress", scenarioMNIngress},
		mnScenario{"scale-down", scenarioMNScaleDown},
		mnScenario{"node-cut-off", scenarioMNCutOff},
		mnScenario{"no-flapping", scenarioMNNoFlapping})
}

// TestMultiNodeHostGW: with --flannel-backend host-gw (the nodes share the
// hub's L2 segment) pods reach each other across nodes by routes alone,
// at the uplink's full MTU.
func TestMultiNodeHostGW(t *testing.T) {
	runMultiNode(t, podMTU(mnUplinkMTU, false), []string{"--flannel-backend", "host-gw"},
		mnScenario{"nodes-ready", scenarioMNNodesReady},
		mnScenario{"cross-node-pods", scenarioMNCrossNode},
		mnScenario{"nodeport-every-node", scenarioMNNodePort},
		mnScenario{"no-flapping", scenarioMNNoFlapping})
}

// mnUplinkMTU is the MTU of the nodes' eth0 (a veth's default).
const mnUplinkMTU = 1500

// podMTU is the MTU pod interfaces must have: the uplink's less VXLAN's
// 50 bytes of headers (outer IPv4, UDP, VXLAN, inner Ethernet) when the
// overlay encapsulates.
func podMTU(uplink int, vxlan bool) int {
	if vxlan {
		return uplink - 50
	}
	return uplink
}

// mnScenario is one scenario of a multi-node run.
type mnScenario struct {
	name string
	run  func(*testing.T, *multiNode)
}

// runMultiNode starts the harness and runs the scenarios in order; when
// the nodes are not Ready, the rest is skipped.
func runMultiNode(t *testing.T, wantPodMTU int, agentArgs []string, scenarios ...mnScenario) {
	requireKubectl(t)
	archives := requireNodeHost(t)
	requireBinary(t)
	m := startMultiNode(t, archives, mnNodes, agentArgs...)
	m.wantPodMTU = wantPodMTU
	for _, s := range scenarios {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, m) }) && s.name == "nodes-ready" {
			return
		}
	}
}

// scenarioMNNodesReady: every node is Ready with its own pod CIDR from the
// cluster range and the InternalIP it was given.
func scenarioMNNodesReady(t *testing.T, m *multiNode) {
	k := m.k.with(t)
	cluster := netip.MustParsePrefix(m.names.clusterCIDR())
	seen := map[string]string{}
	for _, a := range m.agents {
		if s := m.nodeReady(k, a.name); s != "True" {
			t.Errorf("node %s Ready = %q", a.name, s)
		}
		cidr := k.get("", "node/"+a.name, "{.spec.podCIDR}")
		p, err := netip.ParsePrefix(cidr)
		if err != nil || !cluster.Contains(p.Addr()) || p.Bits() <= cluster.Bits() {
			t.Errorf("node %s podCIDR = %q, want a subnet of %s", a.name, cidr, m.names.clusterCIDR())
		}
		if other, dup := seen[cidr]; dup {
			t.Errorf("nodes %s and %s share pod CIDR %s", other, a.name, cidr)
		}
		seen[cidr] = a.name
		if ip := k.get("", "node/"+a.name, `{.status.addresses[?(@.type=="InternalIP")].address}`); ip != m.names.nodeIP(a.n) {
			t.Errorf("node %s InternalIP = %q, want %s", a.name, ip, m.names.nodeIP(a.n))
		}
	}
}

// scenarioMNNoFlapping: the nodes that were not cut off stayed Ready all
// along: their Ready condition has not changed since the harness started
// (a heartbeat slower than the grace period would have flipped it).
func scenarioMNNoFlapping(t *testing.T, m *multiNode) {
	k := m.k.with(t)
	for _, a := range m.agents {
		if a.n == mnCutNode && m.cutOff {
			continue
		}
		if got := m.readyTransition(k, a.name); got != m.readySince[a.name] {
			t.Errorf("node %s: Ready changed at %s after the start (was %s): it flapped", a.name, got, m.readySince[a.name])
		}
	}
}

// echoSpread is a Deployment of echo with one replica per node (a
// required pod anti-affinity on the host name) and its Service.
const echoSpread = `apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: __NS__}
spec:
  replicas: 3
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: echo}}
            topologyKey: kubernetes.io/hostname
      containers:
      - {name: echo, image: ` + echoImage + `}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: __NS__}
spec: {selector: {app: echo}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: echo-np, namespace: __NS__}
spec: {type: NodePort, selector: {app: echo}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: __NS__}
spec:
  nodeSelector: {kubernetes.io/hostname: mn-1}
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: ` + busyboxImage + `, command: [sh, -c, '` + sleeperCommand + `']}
`

// bulkServer serves a 1 MiB file over HTTP from node 2.
const bulkServer = `apiVersion: v1
kind: Pod
metadata: {name: bulk, namespace: __NS__}
spec:
  nodeSelector: {kubernetes.io/hostname: mn-2}
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: ` + busyboxImage + `
    command: [sh, -c, 'mkdir -p /www && dd if=/dev/urandom of=/www/big bs=1024 count=1024 2>/dev/null && exec httpd -f -p 8000 -h /www']
    readinessProbe: {tcpSocket: {port: 8000}, periodSeconds: 1}
`

// mnPod is one pod as the scenarios look at it.
type mnPod struct{ name, node, ip string }

// runningPods lists the namespace's Running pods with a label selector,
// leaving out pods being deleted.
func runningPods(k *kubectl, ns, selector string) []mnPod {
	k.t.Helper()
	out := k.ok("get", "pods", "-n", ns, "-l", selector, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.phase} {.metadata.deletionTimestamp}{"\n"}{end}`)
	return parseMNPods(out)
}

// parseMNPods reads the lines runningPods asks kubectl for: name, node,
// IP, phase and deletion timestamp; only Running pods not being deleted
// count.
func parseMNPods(out string) []mnPod {
	var pods []mnPod
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || f[3] != "Running" {
			continue
		}
		pods = append(pods, mnPod{name: f[0], node: f[1], ip: f[2]})
	}
	return pods
}

// setupEcho applies echoSpread and waits for one ready echo pod per node
// and the client.
func setupEcho(t *testing.T, m *multiNode, k *kubectl, ns string) []mnPod {
	t.Helper()
	k.apply(ns, "echo.yaml", echoSpread, "deployment.apps/echo created", "service/echo created",
		"service/echo-np created", "pod/client created")
	k.ok("rollout", "status", "deployment/echo", "-n", ns, "--timeout=90s")
	k.waitPodReady(ns, "client")
	pods := runningPods(k, ns, "app=echo")
	nodes := map[string]bool{}
	for _, p := range pods {
		nodes[p.node] = true
	}
	if len(pods) != mnNodes || len(nodes) != mnNodes {
		t.Fatalf("echo pods %v: want one on each of the %d nodes", pods, mnNodes)
	}
	if got := k.get(ns, "pod/client", "{.spec.nodeName}"); got != mnNodeName(1) {
		t.Fatalf("client on %q, want %s", got, mnNodeName(1))
	}
	return pods
}

// scenarioMNCrossNode: a client pod on node 1 reaches the echo pod on
// every node by pod IP, and the echo Service by name, with requests
// answered by pods on other nodes. Each check is a subtest of its own, so
// that one path failing (say, the overlay between two nodes) does not
// hide the state of the others.
func scenarioMNCrossNode(t *testing.T, m *multiNode) {
	k, ns := m.scenario(t, "mn-cross")
	pods := setupEcho(t, m, k, ns)
	for _, p := range pods {
		t.Run("pod-ip-on-"+p.node, func(t *testing.T) {
			k := k.with(t)
			eventually(t, 30*time.Second, fmt.Sprintf("client on %s reaches %s on %s at %s", mnNodeName(1), p.name, p.node, p.ip), func() (bool, string) {
				r := k.run("exec", "-n", ns, "client", "--", "timeout", "5", "wget", "-qO-", "http://"+p.ip+":8080/")
				return r.code == 0 && strings.Contains(r.stdout, "hostname="+p.name), r.String()
			})
		})
	}
	// By name: the cluster DNS (on the server, through kube-dns's
	// ClusterIP) and node 1's Service proxy.
	t.Run("service-by-name", func(t *testing.T) {
		k := k.with(t)
		eventually(t, 30*time.Second, "client reaches http://echo", func() (bool, string) {
			r := k.run("exec", "-n", ns, "client", "--", "timeout", "5", "wget", "-qO-", "http://echo/")
			return r.code == 0 && strings.Contains(r.stdout, "hostname=echo-"), r.String()
		})
	})
	// The pods' interfaces leave room for the overlay's headers, and a
	// bulk transfer (1 MiB over TCP, full-sized segments) crosses nodes.
	t.Run("mtu-and-bulk-transfer", func(t *testing.T) {
		k := k.with(t)
		if got := strings.TrimSpace(k.execIn(ns, "client", "cat", "/sys/class/net/eth0/mtu")); got != strconv.Itoa(m.wantPodMTU) {
			t.Errorf("client's eth0 MTU = %s, want %d", got, m.wantPodMTU)
		}
		k.apply(ns, "bulk.yaml", bulkServer, "pod/bulk created")
		k.waitPodReady(ns, "bulk")
		ip := k.get(ns, "pod/bulk", "{.status.podIP}")
		eventually(t, 30*time.Second, "1 MiB from bulk on "+mnNodeName(2)+" to the client on "+mnNodeName(1), func() (bool, string) {
			r := k.run("exec", "-n", ns, "client", "--", "sh", "-c", "timeout 10 wget -qO- http://"+ip+":8000/big | wc -c")
			return r.code == 0 && strings.TrimSpace(r.stdout) == "1048576", r.String()
		})
	})
	// The proxy spreads the requests over all replicas, the other nodes'
	// included.
	t.Run("service-reaches-other-nodes", func(t *testing.T) {
		k := k.with(t)
		remote := map[string]bool{}
		for _, p := range pods {
			if p.node != mnNodeName(1) {
				remote[p.name] = true
			}
		}
		seen := map[string]bool{}
		eventually(t, 45*time.Second, "requests to http://echo reach the pods on the other nodes", func() (bool, string) {
			r := k.run("exec", "-n", ns, "client", "--", "sh", "-c",
				"for i in 1 2 3 4 5 6 7 8 9; do timeout 3 wget -qO- http://echo/ | grep hostname=; done")
			for name := range helloNames(r.stdout) {
				seen[name] = true
			}
			for name := range remote {
				if !seen[name] {
					return false, fmt.Sprintf("answered so far: %v; want %v\n%s", seen, remote, r)
				}
			}
			return true, ""
		})
	})
}

// helloNames are the pod names in echo's "hostname=<pod>" lines.
func helloNames(out string) map[string]bool {
	names := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if _, name, ok := strings.Cut(strings.TrimSpace(l), "hostname="); ok && name != "" {
			names[name] = true
		}
	}
	return names
}

// scenarioMNNodePort: the NodePort of a Service answers on every node's
// address, from the host; and, through node 1's NodePort, requests reach
// the pods on the other nodes too (externalTrafficPolicy Cluster).
func scenarioMNNodePort(t *testing.T, m *multiNode) {
	k, ns := m.scenario(t, "mn-nodeport")
	pods := setupEcho(t, m, k, ns)
	port := k.intField(ns, "service/echo-np", "{.spec.ports[0].nodePort}")
	if port == 0 {
		t.Fatal("echo-np has no nodePort")
	}
	for n := 1; n <= mnNodes; n++ {
		body := httpGet(t, "http://"+m.names.nodeIP(n)+":"+strconv.Itoa(port)+"/", 30*time.Second)
		if !strings.Contains(body, "hostname=echo-") {
			t.Errorf("NodePort on %s answered %q", m.names.nodeIP(n), body)
		}
	}
	t.Run("forwarded-to-other-nodes", func(t *testing.T) {
		url := "http://" + m.names.nodeIP(1) + ":" + strconv.Itoa(port) + "/"
		seen := map[string]bool{}
		// A new connection each time, so that each request is balanced.
		client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		eventually(t, 45*time.Second, "requests to "+url+" reach every echo pod", func() (bool, string) {
			if resp, err := client.Get(url); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for name := range helloNames(string(body)) {
					seen[name] = true
				}
			}
			for _, p := range pods {
				if !seen[p.name] {
					return false, fmt.Sprintf("answered so far: %v; want all of %v", seen, pods)
				}
			}
			return true, ""
		})
	})
}

// survivor is a Deployment whose pod tolerates an unreachable or
// not-ready node for 5 seconds only, so that it is evicted and recreated
// soon after its node is cut off.
const survivor = `apiVersion: apps/v1
kind: Deployment
metadata: {name: survivor, namespace: __NS__}
spec:
  replicas: 1
  selector: {matchLabels: {app: survivor}}
  template:
    metadata: {labels: {app: survivor}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      containers:
      - {name: c, image: ` + busyboxImage + `, command: [sh, -c, '` + sleeperCommand + `']}
`

// scenarioMNCutOff: node 3's link goes down; within the grace period the
// node is no longer Ready, and the Deployment's pod that ran there runs
// again on another node. With the link back up, node 3 is Ready again
// and its agent removes the evicted pod.
func scenarioMNCutOff(t *testing.T, m *multiNode) {
	k, ns := m.scenario(t, "mn-cutoff")
	const cut = mnCutNode
	m.cutOff = true
	cutNode := mnNodeName(cut)
	// Only node 3 takes new pods while the Deployment is created.
	var others []string
	for n := 1; n <= mnNodes; n++ {
		if n != cut {
			others = append(others, mnNodeName(n))
		}
	}
	k.ok(append([]string{"cordon"}, others...)...)
	uncordoned := false
	uncordon := func() {
		if !uncordoned {
			k.ok(append([]string{"uncordon"}, others...)...)
			uncordoned = true
		}
	}
	t.Cleanup(func() {
		if !uncordoned {
			m.k.run(append([]string{"uncordon"}, others...)...)
		}
	})
	k.apply(ns, "survivor.yaml", survivor, "deployment.apps/survivor created")
	k.ok("rollout", "status", "deployment/survivor", "-n", ns, "--timeout=90s")
	pods := runningPods(k, ns, "app=survivor")
	if len(pods) != 1 || pods[0].node != cutNode {
		t.Fatalf("survivor pods %v, want one on %s", pods, cutNode)
	}
	evicted := pods[0].name
	uncordon()

	link := []string{"ip", "-n", m.names.nodeNS(cut), "link", "set", "eth0"}
	if _, err := runCommand(append(link, "down")...); err != nil {
		t.Fatal(err)
	}
	linkUp := false
	t.Cleanup(func() {
		if !linkUp {
			_, _ = runCommand(append(link, "up")...)
		}
	})
	cutAt := time.Now()
	// The node lifecycle controller marks the node once its last
	// heartbeat is a grace period old, which is at most the grace period
	// after the cut, noticed within its monitor period (5s); the rest is
	// slack for a busy machine.
	eventually(t, mnGracePeriod+15*time.Second, cutNode+" no longer Ready", func() (bool, string) {
		s := m.nodeReady(k, cutNode)
		return s != "True" && s != "", "Ready = " + s
	})
	t.Logf("%s not Ready %v after its link went down", cutNode, time.Since(cutAt).Round(time.Second))
	eventually(t, 90*time.Second, "survivor's pod recreated on another node", func() (bool, string) {
		pods := runningPods(k, ns, "app=survivor")
		for _, p := range pods {
			if p.name != evicted && p.node != cutNode && p.node != "" {
				r := k.run("get", "pod", p.name, "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
				if r.stdout == "True" {
					return true, ""
				}
			}
		}
		return false, fmt.Sprintf("%v", pods)
	})
	t.Logf("survivor recreated %v after the cut", time.Since(cutAt).Round(time.Second))

	if _, err := runCommand(append(link, "up")...); err != nil {
		t.Fatal(err)
	}
	linkUp = true
	eventually(t, 60*time.Second, cutNode+" Ready again", func() (bool, string) {
		s := m.nodeReady(k, cutNode)
		return s == "True", "Ready = " + s
	})
	// Back in touch, the agent learns the evicted pod was deleted, stops
	// it and confirms, which removes the object.
	eventually(t, 60*time.Second, "evicted pod "+evicted+" gone", func() (bool, string) {
		r := k.run("get", "pod", evicted, "-n", ns, "-o", "name")
		return r.code != 0 && strings.Contains(r.stderr, "NotFound"), r.String()
	})
}
