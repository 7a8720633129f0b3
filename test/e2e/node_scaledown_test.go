package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// scenarioScaleDown runs runScaleDown on TestNodeAgent's node.
func scenarioScaleDown(t *testing.T, c *nodeCluster) { runScaleDown(t, c) }

// runScaleDown: requests to a Service keep succeeding while its
// Deployment scales down (its replicas on different nodes when there are
// several). The pods use a preStop sleep, as Kubernetes recommends, so
// that their endpoints leave every node's proxy before they stop.
func runScaleDown(t *testing.T, c serviceCluster) {
	k, ns := c.scenario(t, "node-scaledown")
	k.apply(ns, "steady.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: steady, namespace: __NS__}
spec:
  replicas: 3
  selector: {matchLabels: {app: steady}}
  template:
    metadata: {labels: {app: steady}}
    spec:
      terminationGracePeriodSeconds: 10
`+c.spread("steady")+`      containers:
      - name: echo
        image: `+echoImage+`
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        lifecycle: {preStop: {sleep: {seconds: 3}}}
---
apiVersion: v1
kind: Service
metadata: {name: steady, namespace: __NS__}
spec: {selector: {app: steady}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: load, namespace: __NS__}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+busyboxImage+`, command: [sleep, "3600"]}
`, "deployment.apps/steady created", "service/steady created", "pod/load created")
	k.ok("rollout", "status", "deployment/steady", "-n", ns, podTimeout())
	k.waitPodReady(ns, "load")
	requireSpread(t, c, k, ns, "steady")
	eventually(t, podDeadline, "the Service answers", func() (bool, string) {
		r := k.run("exec", "-n", ns, "load", "--", "timeout", "5", "wget", "-qO-", "http://steady/")
		return r.code == 0, r.String()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// 80 requests, 100 ms apart: about 8 s, across the scale-down.
	load := k.start(ctx, nil, "exec", "-n", ns, "load", "--", "sh", "-c",
		`echo started; for i in $(seq 1 80); do if timeout 5 wget -qO- http://steady/ >/dev/null; then echo ok; else echo FAILED; fi; sleep 0.1; done; echo done`)
	load.waitLine(t, regexp.MustCompile(`^started$`), podDeadline)
	k.ok("scale", "deployment/steady", "-n", ns, "--replicas=1")
	if err := load.wait(t, 2*time.Minute); err != nil {
		t.Fatalf("load loop: %v\n%s", err, load.output())
	}
	out := load.output()
	if n := strings.Count(out, "ok"); n != 80 || strings.Contains(out, "FAILED") {
		t.Fatalf("%d of 80 requests succeeded during the scale-down:\n%s", n, out)
	}
	eventually(t, podDeadline, "one replica left", func() (bool, string) {
		pods := strings.Fields(k.get(ns, "pods", `{range .items[?(@.metadata.labels.app=="steady")]}{.metadata.name} {end}`))
		return len(pods) == 1, strings.Join(pods, " ")
	})
}
