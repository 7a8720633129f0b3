package e2e

import (
	"strings"
	"testing"
)

const persistenceManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: keep
data:
  color: blue
---
apiVersion: v1
kind: Secret
metadata:
  name: token
  namespace: keep
type: Opaque
data:
  token: c2VjcmV0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: keep
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: keep
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: doomed
  namespace: keep
data:
  x: "1"
`

// scenarioPersistence writes objects, restarts the control plane on the
// same data dir and checks that every object (uid, resourceVersion,
// allocated IP and port, later changes and deletions) is as it was.
func scenarioPersistence(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	k.namespace("keep")
	k.write("keep.yaml", persistenceManifest)
	wantLines(t, k.ok("apply", "-f", "keep.yaml"),
		"configmap/settings created", "secret/token created", "deployment.apps/web created",
		"service/web created", "configmap/doomed created")
	wantLines(t, k.ok("scale", "deployment", "web", "-n", "keep", "--replicas=5"), "deployment.apps/web scaled")
	deleted := k.run("delete", "configmap", "doomed", "-n", "keep")
	if deleted.code != 0 {
		t.Errorf("delete failed:\n%s", deleted)
	} else {
		wantLines(t, deleted.stdout, `configmap "doomed" deleted`)
	}

	type probe struct{ what, jsonpath string }
	probes := []probe{
		{"namespace/keep", "{.metadata.uid} {.status.phase}"},
		{"configmap/settings -n keep", "{.metadata.uid} {.metadata.resourceVersion} {.data.color}"},
		{"secret/token -n keep", "{.metadata.uid} {.data.token}"},
		{"deployment/web -n keep", "{.metadata.uid} {.metadata.resourceVersion} {.metadata.generation} {.spec.replicas}"},
		{"service/web -n keep", "{.metadata.uid} {.spec.clusterIP} {.spec.ports[0].nodePort}"},
		{"service/kubernetes -n default", "{.metadata.uid} {.spec.clusterIP}"},
	}
	before := map[string]string{}
	for _, p := range probes {
		args := append([]string{"get"}, strings.Fields(p.what)...)
		before[p.what] = k.ok(append(args, "-o", "jsonpath="+p.jsonpath)...)
	}
	if f := strings.Fields(before["deployment/web -n keep"]); len(f) != 4 || f[2] != "2" || f[3] != "5" {
		t.Errorf("deployment before restart: %q, want generation 2 and 5 replicas", before["deployment/web -n keep"])
	}

	c.Restart()

	for _, p := range probes {
		args := append([]string{"get"}, strings.Fields(p.what)...)
		if got := k.ok(append(args, "-o", "jsonpath="+p.jsonpath)...); got != before[p.what] {
			t.Errorf("%s after restart:\n got %q\nwant %q", p.what, got, before[p.what])
		}
	}
	if deleted.code == 0 {
		r := k.fails("get", "configmap", "doomed", "-n", "keep")
		wantExactLines(t, r.stderr, `Error from server (NotFound): configmaps "doomed" not found`)
	}

	// The allocations survived too: a new Service does not get the
	// same cluster IP or node port.
	wantLines(t, k.ok("create", "service", "nodeport", "second", "-n", "keep", "--tcp=80:8080"), "service/second created")
	second := k.ok("get", "service", "second", "-n", "keep", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}")
	first := strings.Fields(before["service/web -n keep"])
	if f := strings.Fields(second); len(f) != 2 || len(first) != 3 || f[0] == first[1] || f[1] == first[2] {
		t.Errorf("service created after restart got %q; the one from before holds %q", second, before["service/web -n keep"])
	}
	// Writes still work and keep optimistic concurrency.
	wantLines(t, k.ok("label", "configmap", "settings", "-n", "keep", "after=restart"), "configmap/settings labeled")
}

func TestPersistenceProcess(t *testing.T) {
	t.Parallel()
	requireKubectl(t)
	scenarioPersistence(t, startProcess(t))
}

func TestPersistenceInProcess(t *testing.T) {
	t.Parallel()
	requireKubectl(t)
	scenarioPersistence(t, startInProcess(t))
}
