package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The multi-node harness as a serviceCluster: "the host" of the Service
// and ingress scenarios is node 1's network namespace (the test process
// has no route to the harness's Service range), and every node runs an
// ingress proxy on port 80 of its address.

// hostGet runs curl in node 1's network namespace.
func (m *multiNode) hostGet(url, host string) (int, string) {
	args := []string{"curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}"}
	if host != "" {
		args = append(args, "-H", "Host: "+host)
	}
	out, err := m.nsExec(1, append(args, url)...)
	if err != nil {
		return 0, err.Error()
	}
	return parseCurlStatus(out)
}

// parseCurlStatus splits curl's output with -w "\n%{http_code}" into the
// status and the body (0 and the output when there is no status).
func parseCurlStatus(out string) (int, string) {
	i := strings.LastIndex(out, "\n")
	if i < 0 {
		return 0, out
	}
	code, err := strconv.Atoi(strings.TrimSpace(out[i+1:]))
	if err != nil {
		return 0, out
	}
	return code, out[:i]
}

// ingressURLs are port 80 of every node's address: the agents' ingress
// proxies.
func (m *multiNode) ingressURLs() []string {
	var urls []string
	for _, a := range m.agents {
		urls = append(urls, "http://"+m.names.nodeIP(a.n))
	}
	return urls
}

func (m *multiNode) nodeIPs(*kubectl) []string {
	var ips []string
	for _, a := range m.agents {
		ips = append(ips, m.names.nodeIP(a.n))
	}
	return ips
}

// spread is a required pod anti-affinity on the host name.
func (m *multiNode) spread(app string) string {
	return fmt.Sprintf(`      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: %s}}
            topologyKey: kubernetes.io/hostname
`, app)
}

// requireSpread fails unless the pods of app are on as many different
// nodes as there are pods (and the cluster has more than one node).
func requireSpread(t *testing.T, c serviceCluster, k *kubectl, ns, app string) {
	t.Helper()
	if len(c.nodeIPs(k)) < 2 {
		return
	}
	pods := runningPods(k, ns, "app="+app)
	nodes := map[string]bool{}
	for _, p := range pods {
		nodes[p.node] = true
	}
	if len(nodes) != len(pods) {
		t.Fatalf("pods of %s %v: want each on a node of its own", app, pods)
	}
}

// The Service, ingress and scale-down scenarios of TestNodeAgent, across
// the harness's nodes.
func scenarioMNServices(t *testing.T, m *multiNode)  { runServices(t, m) }
func scenarioMNIngress(t *testing.T, m *multiNode)   { runIngress(t, m) }
func scenarioMNScaleDown(t *testing.T, m *multiNode) { runScaleDown(t, m) }
