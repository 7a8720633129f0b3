package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// scenarioIngress runs runIngress on TestNodeAgent's node.
func scenarioIngress(t *testing.T, c *nodeCluster) { runIngress(t, c) }

// runIngress: the built-in ingress (class skiff, the default) routes
// demo.example.com/ and demo.example.com/api to two Services of real pods
// and answers 404 for hosts it does not know, on every node's ingress
// proxy.
func runIngress(t *testing.T, c serviceCluster) {
	k, ns := c.scenario(t, "node-ingress")
	k.apply(ns, "ingress.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: front, namespace: __NS__}
spec:
  replicas: 1
  selector: {matchLabels: {app: front}}
  template:
    metadata: {labels: {app: front}}
    spec:
      containers:
      - {name: echo, image: `+echoImage+`, env: [{name: MESSAGE, value: from-front}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: __NS__}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: echo, image: `+echoImage+`, env: [{name: MESSAGE, value: from-api}]}
---
apiVersion: v1
kind: Service
metadata: {name: front, namespace: __NS__}
spec: {selector: {app: front}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: __NS__}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: demo, namespace: __NS__}
spec:
  rules:
  - host: demo.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: front, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
`, "deployment.apps/front created", "deployment.apps/api created", "service/front created", "service/api created",
		"ingress.networking.k8s.io/demo created")
	k.ok("rollout", "status", "deployment/front", "-n", ns, podTimeout())
	k.ok("rollout", "status", "deployment/api", "-n", ns, podTimeout())
	if got := k.ok("get", "ingressclass", "skiff", "-o", "jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}"); got != "true" {
		t.Errorf("IngressClass skiff default annotation = %q, want true", got)
	}
	for _, base := range c.ingressURLs() {
		for path, want := range map[string]string{"/": "message=from-front", "/api": "message=from-api", "/api/users": "message=from-api", "/apix": "message=from-front"} {
			eventually(t, podDeadline, "ingress at "+base+" routes "+path, func() (bool, string) {
				code, body := c.hostGet(base+path, "demo.example.com")
				return code == http.StatusOK && strings.Contains(body, want), fmt.Sprintf("%d %s", code, body)
			})
		}
		if code, body := c.hostGet(base+"/", "unknown.example.com"); code != http.StatusNotFound {
			t.Errorf("ingress at %s, unknown host: %d %s, want 404", base, code, body)
		}
	}
}

// hostGet sends a GET with a Host header and returns status and body
// (0 and the error on failure).
func hostGet(url, host string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(data)
}
