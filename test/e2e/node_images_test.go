package e2e

import (
	"strings"
	"testing"
)

// scenarioImagePull: with no registry reachable, an image that is not on
// the node fails to pull (ErrImagePull, then ImagePullBackOff), and with
// pullPolicy Never it is refused without a pull (ErrImageNeverPull).
func scenarioImagePull(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-images")
	k.ok("run", "absent", "-n", ns, "--image=skiff.local/absent:1.0", "--", "true")
	eventually(t, podDeadline, "STATUS ErrImagePull or ImagePullBackOff", func() (bool, string) {
		out := k.ok("get", "pod", "absent", "-n", ns)
		s := parseTable(t, out).row(t, "NAME", "absent")["STATUS"]
		return s == "ErrImagePull" || s == "ImagePullBackOff", out
	})
	eventually(t, podDeadline, "a Failed pull event and a back-off", func() (bool, string) {
		ev := k.podEvents(ns, "absent")
		reason := k.get(ns, "pod/absent", "{.status.containerStatuses[0].state.waiting.reason}")
		return strings.Contains(ev, `Failed to pull image "skiff.local/absent:1.0"`) && reason == "ImagePullBackOff", ev + "\nreason: " + reason
	})
	k.ok("run", "never", "-n", ns, "--image=skiff.local/absent:1.0", "--image-pull-policy=Never", "--", "true")
	eventually(t, podDeadline, "ErrImageNeverPull", func() (bool, string) {
		reason := k.get(ns, "pod/never", "{.status.containerStatuses[0].state.waiting.reason}")
		msg := k.get(ns, "pod/never", "{.status.containerStatuses[0].state.waiting.message}")
		return reason == "ErrImageNeverPull" && strings.Contains(msg, "is not present with pull policy of Never"), reason + ": " + msg
	})
}
