package e2e

import "testing"

// TestKubectl runs the kubectl scenarios that do not interfere with one
// another (each works in its own namespace) against one `skiff server`
// process.
func TestKubectl(t *testing.T) {
	requireKubectl(t)
	c := startProcess(t)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, Cluster)
	}{
		{"apply", scenarioApply},
		{"server-side apply", scenarioServerSideApply},
		{"get", scenarioGet},
		{"watch", scenarioWatch},
		{"create", scenarioCreate},
		{"label and annotate", scenarioLabelAnnotate},
		{"patch scale set", scenarioMutate},
		{"edit", scenarioEdit},
		{"explain", scenarioExplain},
		{"delete", scenarioDelete},
		{"wait", scenarioWait},
		{"discovery", scenarioDiscovery},
		{"every resource", scenarioEveryResource},
		{"errors", scenarioErrors},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, c)
		})
	}
}
