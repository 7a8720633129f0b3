package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sleeperCommand keeps a busybox container running and lets it stop at
// once on SIGTERM (a shell as PID 1 ignores the signal unless it traps it),
// so that deleting its pod does not take the whole grace period.
const sleeperCommand = `trap "exit 0" TERM; sleep 3600 & wait`

// podTimeout is podDeadline as a kubectl --timeout flag.
func podTimeout() string { return fmt.Sprintf("--timeout=%ds", int(podDeadline.Seconds())) }

// get returns one jsonpath of an object of the namespace ("" for a
// cluster-scoped object).
func (k *kubectl) get(ns, object, jsonpath string) string {
	k.t.Helper()
	args := []string{"get", object, "-o", "jsonpath=" + jsonpath}
	if ns != "" {
		args = append(args, "-n", ns)
	}
	return k.ok(args...)
}

// waitFor runs `kubectl wait --for=<cond>` on an object of the namespace.
func (k *kubectl) waitFor(ns, object, cond string) {
	k.t.Helper()
	k.ok("wait", "--for="+cond, object, "-n", ns, podTimeout())
}

// waitPodReady waits until the pod's Ready condition is True.
func (k *kubectl) waitPodReady(ns, pod string) {
	k.t.Helper()
	k.waitFor(ns, "pod/"+pod, "condition=Ready")
}

// apply writes a manifest (with __NS__ for the namespace) and applies it,
// requiring kubectl to print exactly the given lines.
func (k *kubectl) apply(ns, file, manifest string, want ...string) {
	k.t.Helper()
	k.write(file, nsManifest(ns, manifest))
	wantExactLines(k.t, k.ok("apply", "-f", file), want...)
}

// execIn runs a command in a pod's container and returns its stdout,
// requiring success.
func (k *kubectl) execIn(ns, pod string, command ...string) string {
	k.t.Helper()
	return k.ok(append([]string{"exec", pod, "-n", ns, "--"}, command...)...)
}

// intField reads an integer jsonpath; empty counts as 0.
func (k *kubectl) intField(ns, object, jsonpath string) int {
	k.t.Helper()
	s := k.get(ns, object, jsonpath)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		k.t.Fatalf("%s %s = %q, not an integer", object, jsonpath, s)
	}
	return n
}

// httpGet polls url until it answers 200 within the deadline and returns
// the body.
func httpGet(t testing.TB, url string, deadline time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var body string
	eventually(t, deadline, "200 from GET "+url, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err.Error()
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return false, err.Error()
		}
		body = string(data)
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, body)
	})
	return body
}

// podEvents lists the events about a pod as "Reason: message" lines.
func (k *kubectl) podEvents(ns, pod string) string {
	k.t.Helper()
	out := k.ok("get", "events", "-n", ns, "-o",
		`jsonpath={range .items[*]}{.involvedObject.name}|{.reason}: {.message}{"\n"}{end}`)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if name, ev, ok := strings.Cut(l, "|"); ok && name == pod {
			lines = append(lines, ev)
		}
	}
	return strings.Join(lines, "\n")
}
