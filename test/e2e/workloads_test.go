package e2e

import (
	"strings"
	"testing"
)

// TestWorkloads runs the workload scenarios of the scheduler and
// controller manager (issue 3) that leave nodes alone, in parallel, each
// in its own namespace, on one `skiff server` with three simulated nodes.
func TestWorkloads(t *testing.T) {
	t.Parallel()
	c := startFullCluster(t, simNodes{name: "sim", prefix: "sim-node-", count: 3})
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *fullCluster)
	}{
		{"cronjob", scenarioCronJob}, // first: it waits for the next minute
		{"deployment", scenarioDeployment},
		{"replaced pod", scenarioReplacedPod},
		{"statefulset", scenarioStatefulSet},
		{"job", scenarioJob},
		{"endpoints", scenarioEndpoints},
		{"unschedulable", scenarioUnschedulable},
		{"quota", scenarioQuota},
		{"cascading delete", scenarioCascadingDelete},
		{"namespace delete", scenarioNamespaceDelete},
		{"node ipam", scenarioNodeIPAM},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, c)
		})
	}
}

// TestNodes runs the scenarios that change nodes (labels, taints, a node
// that dies) one after another, on a cluster of their own: three nodes,
// of which sim-spare-0 runs in a simulator process of its own so that it
// can die alone.
func TestNodes(t *testing.T) {
	t.Parallel()
	c := startFullCluster(t,
		simNodes{name: "sim", prefix: "sim-node-", count: 2},
		simNodes{name: "spare", prefix: "sim-spare-", count: 1})
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *fullCluster)
	}{
		{"daemonset", scenarioDaemonSet},
		{"node selector and taints", scenarioNodeSelectorTaints},
		{"node failure", scenarioNodeFailure}, // last: it kills a node
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
	}
}

// nsManifest fills the namespace into a manifest written with __NS__.
func nsManifest(ns, m string) string {
	return strings.ReplaceAll(m, "__NS__", ns)
}

// rolloutStatus runs `kubectl rollout status` until the rollout is done
// and requires the line kubectl prints on success.
func rolloutStatus(t *testing.T, k *kubectl, ns, resource, want string) {
	t.Helper()
	out := k.ok("rollout", "status", resource, "-n", ns, "--timeout=60s")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if got := lines[len(lines)-1]; got != want {
		t.Errorf("kubectl rollout status %s: last line %q, want %q; output:\n%s", resource, got, want, out)
	}
}
