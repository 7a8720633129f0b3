package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testserver"
)

// scenarioTwoContainers: the containers of a pod share its network: a
// busybox client reaches the echo server on 127.0.0.1.
func scenarioTwoContainers(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-pair")
	k.apply(ns, "pair.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: pair
  namespace: __NS__
spec:
  containers:
  - name: echo
    image: `+echoImage+`
  - name: client
    image: `+busyboxImage+`
    command: [sh, -c, 'until wget -qO- http://127.0.0.1:8080/; do sleep 1; done; `+sleeperCommand+`']
`, "pod/pair created")
	k.waitPodReady(ns, "pair")
	parseTable(t, k.ok("get", "pod", "pair", "-n", ns)).wantRow(t, "pair", map[string]string{"READY": "2/2", "STATUS": "Running"})
	eventually(t, podDeadline, "the client's log to show the echo server's answer", func() (bool, string) {
		r := k.run("logs", "pair", "-n", ns, "-c", "client")
		return r.code == 0 && strings.Contains(r.stdout, "version=1.0"), r.String()
	})
	wantLines(t, k.ok("logs", "pair", "-n", ns, "-c", "client"), "hostname=pair", "version=1.0", "path=/")
}

// scenarioProbes: readiness through HTTP and exec probes, and a liveness
// probe whose failure restarts the container.
func scenarioProbes(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-probes")
	k.apply(ns, "probes.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: __NS__
spec:
  containers:
  - name: echo
    image: `+echoImage+`
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 3
---
apiVersion: v1
kind: Pod
metadata:
  name: gate
  namespace: __NS__
spec:
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [sh, -c, '`+sleeperCommand+`']
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: alive
  namespace: __NS__
spec:
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [sh, -c, 'touch /tmp/alive; `+sleeperCommand+`']
    livenessProbe:
      exec: {command: [cat, /tmp/alive]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`, "pod/web created", "pod/gate created", "pod/alive created")

	t.Run("http readiness", func(t *testing.T) {
		k := k.with(t)
		k.waitPodReady(ns, "web")
		parseTable(t, k.ok("get", "pod", "web", "-n", ns)).wantRow(t, "web", map[string]string{"READY": "1/1", "STATUS": "Running"})
	})

	t.Run("exec readiness", func(t *testing.T) {
		k := k.with(t)
		k.waitFor(ns, "pod/gate", "jsonpath={.status.containerStatuses[0].started}=true")
		// Running, but not ready until /tmp/ready exists.
		if got := k.get(ns, "pod/gate", `{.status.containerStatuses[0].ready} {.status.conditions[?(@.type=="Ready")].status}`); got != "false False" {
			t.Errorf("before /tmp/ready exists: container ready and Ready condition = %q, want \"false False\"", got)
		}
		parseTable(t, k.ok("get", "pod", "gate", "-n", ns)).wantRow(t, "gate", map[string]string{"READY": "0/1", "STATUS": "Running"})
		k.execIn(ns, "gate", "touch", "/tmp/ready")
		k.waitPodReady(ns, "gate")
		k.execIn(ns, "gate", "rm", "/tmp/ready")
		k.waitFor(ns, "pod/gate", "condition=Ready=false")
		if n := k.intField(ns, "pod/gate", "{.status.containerStatuses[0].restartCount}"); n != 0 {
			t.Errorf("a failing readiness probe restarted the container (restartCount %d)", n)
		}
	})

	t.Run("exec liveness", func(t *testing.T) {
		k := k.with(t)
		k.waitPodReady(ns, "alive")
		if n := k.intField(ns, "pod/alive", "{.status.containerStatuses[0].restartCount}"); n != 0 {
			t.Fatalf("restartCount = %d before the probe can fail, want 0", n)
		}
		firstID := k.get(ns, "pod/alive", "{.status.containerStatuses[0].containerID}")
		k.execIn(ns, "alive", "rm", "/tmp/alive")
		eventually(t, podDeadline, "the container to be restarted after its liveness probe failed", func() (bool, string) {
			return k.intField(ns, "pod/alive", "{.status.containerStatuses[0].restartCount}") >= 1, k.get(ns, "pod/alive", "{.status}")
		})
		k.waitPodReady(ns, "alive")
		if id := k.get(ns, "pod/alive", "{.status.containerStatuses[0].containerID}"); id == firstID || id == "" {
			t.Errorf("containerID after the restart = %q, want a new one (was %q)", id, firstID)
		}
		if last := k.get(ns, "pod/alive", "{.status.containerStatuses[0].lastState.terminated.containerID}"); last != firstID {
			t.Errorf("lastState.terminated.containerID = %q, want the first container %q", last, firstID)
		}
		eventually(t, podDeadline, "an Unhealthy event for the liveness probe", func() (bool, string) {
			ev := k.podEvents(ns, "alive")
			return strings.Contains(ev, "Unhealthy: Liveness probe failed:"), ev
		})
	})

	t.Run("http liveness", func(t *testing.T) {
		k := k.with(t)
		k.waitPodReady(ns, "web")
		ip := k.get(ns, "pod/web", "{.status.podIP}")
		// /fail makes /healthz answer 500 until the process restarts.
		wantContains(t, httpGet(t, "http://"+ip+":8080/fail", podDeadline), "healthz will now fail")
		eventually(t, podDeadline, "the echo container to be restarted after /healthz failed", func() (bool, string) {
			return k.intField(ns, "pod/web", "{.status.containerStatuses[0].restartCount}") >= 1, k.get(ns, "pod/web", "{.status}")
		})
		k.waitPodReady(ns, "web")
		wantContains(t, httpGet(t, "http://"+ip+":8080/healthz", podDeadline), "ok")
	})
}

// scenarioCrashLoop: a container that keeps failing goes into
// CrashLoopBackOff; its exit code and the previous instance's log stay
// visible.
func scenarioCrashLoop(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-crash")
	wantExactLines(t, k.ok("run", "crash", "-n", ns, "--image="+busyboxImage, "--", "sh", "-c", "echo boom; exit 3"), "pod/crash created")
	eventually(t, podDeadline, "STATUS CrashLoopBackOff", func() (bool, string) {
		out := k.ok("get", "pod", "crash", "-n", ns)
		return parseTable(t, out).row(t, "NAME", "crash")["STATUS"] == "CrashLoopBackOff", out
	})
	if got := k.get(ns, "pod/crash", "{.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}"); got != "3 Error" {
		t.Errorf("lastState.terminated exitCode and reason = %q, want \"3 Error\"", got)
	}
	if got := k.get(ns, "pod/crash", "{.status.containerStatuses[0].state.waiting.reason}"); got != "CrashLoopBackOff" {
		t.Errorf("state.waiting.reason = %q, want CrashLoopBackOff", got)
	}
	if n := k.intField(ns, "pod/crash", "{.status.containerStatuses[0].restartCount}"); n < 1 {
		t.Errorf("restartCount = %d, want at least 1", n)
	}
	wantExactLines(t, k.ok("logs", "crash", "-n", ns, "--previous"), "boom")
	eventually(t, podDeadline, "a BackOff event", func() (bool, string) {
		ev := k.podEvents(ns, "crash")
		return strings.Contains(ev, "BackOff: Back-off restarting failed container crash"), ev
	})
}

// scenarioMemoryLimits: a container over its memory limit is OOMKilled;
// the limit is the container's cgroup limit.
func scenarioMemoryLimits(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-memory")
	k.apply(ns, "memory.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: hog
  namespace: __NS__
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: `+busyboxImage+`
    command: [sh, -c, 'x=a; while true; do x=$x$x; done']
    resources:
      limits: {memory: 32Mi}
---
apiVersion: v1
kind: Pod
metadata:
  name: capped
  namespace: __NS__
spec:
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [sh, -c, '`+sleeperCommand+`']
    resources:
      limits: {memory: 64Mi, cpu: 500m}
`, "pod/hog created", "pod/capped created")
	k.waitFor(ns, "pod/hog", "jsonpath={.status.phase}=Failed")
	if got := k.get(ns, "pod/hog", "{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}"); got != "OOMKilled 137" {
		t.Errorf("terminated reason and exit code = %q, want \"OOMKilled 137\"", got)
	}
	parseTable(t, k.ok("get", "pod", "hog", "-n", ns)).wantRow(t, "hog", map[string]string{"STATUS": "OOMKilled"})

	k.waitPodReady(ns, "capped")
	if got := k.get(ns, "pod/capped", "{.status.qosClass}"); got != "Guaranteed" {
		t.Errorf("qosClass = %q, want Guaranteed (limits only: requests default to them)", got)
	}
	memory, quota := "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
	wantQuota := "50000"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil { // cgroup v2
		memory, quota, wantQuota = "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/cpu.max", "50000 100000"
	}
	wantExactLines(t, k.execIn(ns, "capped", "cat", memory), "67108864")
	wantExactLines(t, k.execIn(ns, "capped", "cat", quota), wantQuota)
}

// scenarioPortForward: kubectl port-forward reaches a pod's port, and the
// pod's IP is reachable from the node.
func scenarioPortForward(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-portforward")
	wantExactLines(t, k.ok("run", "pf", "-n", ns, "--image="+echoImage, "--port=8080"), "pod/pf created")
	k.waitPodReady(ns, "pf")
	ports, err := testserver.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*podDeadline)
	defer cancel()
	pf := k.start(ctx, nil, "port-forward", "pod/pf", "-n", ns, fmt.Sprintf("%d:8080", ports[0]))
	pf.waitLine(t, regexp.MustCompile(fmt.Sprintf(`^Forwarding from 127\.0\.0\.1:%d -> 8080$`, ports[0])), 30*time.Second)
	for _, path := range []string{"/", "/again"} { // one connection after another
		body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d%s", ports[0], path), 30*time.Second)
		wantLines(t, body, "hostname=pf", "version=1.0", "path="+path)
	}
	cancel()
	<-pf.done

	ip := k.get(ns, "pod/pf", "{.status.podIP}")
	if ip == "" {
		t.Fatal("pod has no IP")
	}
	wantLines(t, httpGet(t, "http://"+ip+":8080/", 30*time.Second), "hostname=pf", "version=1.0")
}
