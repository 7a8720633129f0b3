package e2e

import (
	"strings"
	"testing"
	"time"
)

// scenarioNodeJob: a Job of real containers runs to completion.
func scenarioNodeJob(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-job")
	k.apply(ns, "job.yaml", `apiVersion: batch/v1
kind: Job
metadata:
  name: twice
  namespace: __NS__
spec:
  completions: 2
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: `+busyboxImage+`
        command: [sh, -c, 'echo done']
`, "job.batch/twice created")
	k.ok("wait", "--for=condition=complete", "job/twice", "-n", ns, "--timeout=90s")
	parseTable(t, k.ok("get", "job", "twice", "-n", ns)).wantRow(t, "twice", map[string]string{"STATUS": "Complete", "COMPLETIONS": "2/2"})
	wantExactLines(t, k.ok("logs", "job/twice", "-n", ns), "done")
	phases := k.ok("get", "pods", "-n", ns, "-l", "job-name=twice", "-o", `jsonpath={range .items[*]}{.status.phase}{"\n"}{end}`)
	wantExactLines(t, phases, "Succeeded", "Succeeded")
}

// scenarioNodeDeployment: a Deployment of echo servers rolls out, then
// rolls to a new image; every pod then answers with the new version.
func scenarioNodeDeployment(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-deploy")
	k.apply(ns, "web.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: __NS__
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: echo
        image: `+echoImage+`
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`, "deployment.apps/web created")
	rolloutStatus(t, k, ns, "deployment/web", `deployment "web" successfully rolled out`)
	answers := func(version string) {
		t.Helper()
		pods := k.waitRunning(ns, "app=web", 3)
		for _, p := range pods {
			if p.node != agentNodeName {
				t.Errorf("pod %s on node %q, want %s", p.name, p.node, agentNodeName)
			}
			wantLines(t, httpGet(t, "http://"+p.ip+":8080/", 30*time.Second), "hostname="+p.name, "version="+version)
		}
	}
	answers("1.0")
	wantExactLines(t, k.ok("set", "image", "deployment/web", "-n", ns, "echo="+echoImage2), "deployment.apps/web image updated")
	rolloutStatus(t, k, ns, "deployment/web", `deployment "web" successfully rolled out`)
	answers("2.0")
}

// scenarioGracePeriod: deleting a pod whose process ignores SIGTERM
// takes its grace period (the container is killed then), not longer.
func scenarioGracePeriod(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-grace")
	k.apply(ns, "stubborn.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: stubborn
  namespace: __NS__
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [sleep, "3600"]
`, "pod/stubborn created")
	k.waitPodReady(ns, "stubborn")
	began := time.Now()
	wantExactLines(t, k.ok("delete", "pod", "stubborn", "-n", ns), `pod "stubborn" deleted`)
	took := time.Since(began)
	// sleep is PID 1 without a SIGTERM handler: only SIGKILL, at the end
	// of the grace period, stops it.
	if took < 3*time.Second {
		t.Errorf("kubectl delete returned after %v: the container was killed before its 3s grace period", took)
	}
	if took > 15*time.Second {
		t.Errorf("kubectl delete took %v, want about the 3s grace period", took)
	}
	r := k.fails("get", "pod", "stubborn", "-n", ns)
	wantExactLines(t, r.stderr, `Error from server (NotFound): pods "stubborn" not found`)
}

// scenarioServerRestart: restarting `skiff server` leaves running
// containers alone; the agent adopts them again.
func scenarioServerRestart(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-restart")
	wantExactLines(t, k.ok("run", "survivor", "-n", ns, "--image="+busyboxImage, "--restart=Never", "--", "sh", "-c", sleeperCommand), "pod/survivor created")
	k.waitPodReady(ns, "survivor")
	const status = "{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount} {.status.podIP}"
	before := k.get(ns, "pod/survivor", status)
	// The Ready conditions of the node and the pod do not flap: a
	// transition, even a brief one, changes lastTransitionTime.
	const readySince = `{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastTransitionTime}`
	nodeReadyBefore := k.get("", "node/"+agentNodeName, readySince)
	podReadyBefore := k.get(ns, "pod/survivor", readySince)
	k.execIn(ns, "survivor", "sh", "-c", "echo before > /tmp/mark")

	// processCluster reports to the test it was started by; let this
	// subtest own the restart's failures.
	owner := c.processCluster.t
	c.processCluster.t = t
	func() {
		defer func() { c.processCluster.t = owner }()
		c.Restart()
	}()
	restarted := time.Now()
	c.waitNodeReady(t)
	eventually(t, nodeReadyDeadline, "the restarted agent to renew its Lease", func() (bool, string) {
		renew := k.get("kube-node-lease", "lease/"+agentNodeName, "{.spec.renewTime}")
		at, err := time.Parse(time.RFC3339Nano, renew)
		return err == nil && at.After(restarted), "renewTime " + renew
	})
	// A new pod runs: the restarted agent works, and has synced.
	wantExactLines(t, k.ok("run", "newcomer", "-n", ns, "--image="+busyboxImage, "--restart=Never", "--", "sh", "-c", sleeperCommand), "pod/newcomer created")
	k.waitPodReady(ns, "newcomer")

	if after := k.get(ns, "pod/survivor", status); after != before {
		t.Errorf("running container after the restart:\n got %q\nwant %q (containerID startedAt restartCount podIP)", after, before)
	}
	k.waitPodReady(ns, "survivor")
	if got := k.get("", "node/"+agentNodeName, readySince); got != nodeReadyBefore {
		t.Errorf("node Ready condition after the restart = %q, was %q: the restart made the node NotReady for a while", got, nodeReadyBefore)
	}
	if got := k.get(ns, "pod/survivor", readySince); got != podReadyBefore {
		t.Errorf("pod Ready condition after the restart = %q, was %q: the restart made the pod NotReady for a while", got, podReadyBefore)
	}
	wantExactLines(t, k.execIn(ns, "survivor", "cat", "/tmp/mark"), "before")
	if r := k.run("logs", "survivor", "-n", ns); r.code != 0 {
		t.Errorf("kubectl logs after the restart:\n%s", r)
	}
	if !strings.HasPrefix(before, "containerd://") {
		t.Errorf("containerID %q, want containerd://<id>", before)
	}
}
