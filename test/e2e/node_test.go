package e2e

import (
	"testing"
)

// TestNodeAgent runs real containers: one `skiff server` with its node
// agent (which starts its own containerd), driven through kubectl as a
// user would. The scenarios run one after another, each in its own
// namespace, because they share the node's two cores; the restart comes
// last since it stops the server. It is skipped on machines that cannot
// run containers (see requireNodeHost).
func TestNodeAgent(t *testing.T) {
	requireKubectl(t)
	archives := requireNodeHost(t)
	requireBinary(t)
	c := startNodeCluster(t, archives)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *nodeCluster)
	}{
		{"node is ready", scenarioNodeReady},
		{"run to completion", scenarioRunToCompletion},
		{"exec cp and logs", scenarioExec},
		{"init container", scenarioInitContainer},
		{"configmap", scenarioConfigMap},
		{"secret", scenarioSecret},
		{"two containers", scenarioTwoContainers},
		{"probes", scenarioProbes},
		{"crash loop", scenarioCrashLoop},
		{"image pulls", scenarioImagePull},
		{"ingress", scenarioIngress},
		{"services", scenarioServices},
		{"scale down", scenarioScaleDown},
		{"active deadline", scenarioActiveDeadline},
		{"memory limits", scenarioMemoryLimits},
		{"port-forward and pod IP", scenarioPortForward},
		{"job", scenarioNodeJob},
		{"deployment rollout", scenarioNodeDeployment},
		{"grace period", scenarioGracePeriod},
		{"service account token", scenarioPodServiceAccount},
		{"server restart", scenarioServerRestart}, // last: it restarts the server
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
	}
}
