package e2e

import "testing"

// scenarioActiveDeadline: a pod that outlives activeDeadlineSeconds is
// stopped and fails with reason DeadlineExceeded.
func scenarioActiveDeadline(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-deadline")
	k.apply(ns, "deadline.yaml", `apiVersion: v1
kind: Pod
metadata: {name: bounded, namespace: __NS__}
spec:
  activeDeadlineSeconds: 3
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - {name: c, image: `+busyboxImage+`, command: [sleep, "3600"]}
`, "pod/bounded created")
	k.waitFor(ns, "pod/bounded", "jsonpath={.status.phase}=Failed")
	if got := k.get(ns, "pod/bounded", "{.status.reason}"); got != "DeadlineExceeded" {
		t.Errorf("status.reason = %q, want DeadlineExceeded", got)
	}
	if got := k.get(ns, "pod/bounded", "{.status.containerStatuses[0].state.terminated.exitCode}"); got == "" {
		t.Errorf("container not terminated: %s", k.get(ns, "pod/bounded", "{.status.containerStatuses[0].state}"))
	}
}
