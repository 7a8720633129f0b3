package e2e

import (
	"strings"
	"testing"
)

// appManifest is a typical application: every document kubectl has to map
// through discovery and validate against the OpenAPI schema.
const appManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
          name: http
        envFrom:
        - configMapRef: {name: web-config}
        volumeMounts:
        - {name: data, mountPath: /data}
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: NS
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: NS
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: NS
type: Opaque
data:
  password: czNjcmV0
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: NS
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port: {name: http}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: NS
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: NS
rules:
- apiGroups: [""]
  resources: ["pods", "configmaps"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: NS
subjects:
- kind: ServiceAccount
  name: web
  namespace: NS
roleRef:
  kind: Role
  name: reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: NS
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - ports:
    - port: 80
      protocol: TCP
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: NS
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests: {storage: 1Gi}
`

var appObjects = []string{
	"deployment.apps/web", "service/web", "configmap/web-config", "secret/web-secret",
	"ingress.networking.k8s.io/web", "serviceaccount/web", "role.rbac.authorization.k8s.io/reader",
	"rolebinding.rbac.authorization.k8s.io/reader", "networkpolicy.networking.k8s.io/web",
	"persistentvolumeclaim/data",
}

func withVerb(objs []string, verb func(string) string) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o + " " + verb(o)
	}
	return out
}

// scenarioApply: client-side apply of a multi-document manifest, re-apply
// (unchanged), a change (configured), and kubectl diff before and after.
func scenarioApply(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-apply")
	manifest := strings.ReplaceAll(appManifest, "NS", ns)
	k.write("app.yaml", manifest)

	wantExactLines(t, k.ok("apply", "-f", "app.yaml"), withVerb(appObjects, func(string) string { return "created" })...)
	r := k.run("diff", "-f", "app.yaml")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("kubectl diff of an applied manifest: want exit 0 and no output, got:\n%s", r)
	}
	wantExactLines(t, k.ok("apply", "-f", "app.yaml"), withVerb(appObjects, func(string) string { return "unchanged" })...)

	changed := strings.Replace(manifest, "replicas: 2", "replicas: 3", 1)
	changed = strings.Replace(changed, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1)
	k.write("app.yaml", changed)
	r = k.run("diff", "-f", "app.yaml")
	if r.code != 1 {
		t.Fatalf("kubectl diff of a changed manifest: want exit 1, got:\n%s", r)
	}
	wantLines(t, r.stdout, "-  replicas: 2", "+  replicas: 3", "-  LOG_LEVEL: info", "+  LOG_LEVEL: debug")
	wantContains(t, r.stdout, "apps.v1.Deployment."+ns+".web", "v1.ConfigMap."+ns+".web-config")
	if strings.Contains(r.stdout, "v1.Service."+ns+".web") {
		t.Errorf("kubectl diff shows the unchanged Service:\n%s", r.stdout)
	}
	// diff is a dry run: nothing changed.
	if got := k.ok("get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas} {.metadata.generation}"); got != "2 1" {
		t.Errorf("after kubectl diff: replicas and generation = %q, want \"2 1\"", got)
	}

	wantExactLines(t, k.ok("apply", "-f", "app.yaml"), withVerb(appObjects, func(o string) string {
		if o == "deployment.apps/web" || o == "configmap/web-config" {
			return "configured"
		}
		return "unchanged"
	})...)
	if got := k.ok("get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas} {.metadata.generation}"); got != "3 2" {
		t.Errorf("after apply: replicas and generation = %q, want \"3 2\"", got)
	}
	if got := k.ok("get", "configmap", "web-config", "-n", ns, "-o", "jsonpath={.data.LOG_LEVEL}"); got != "debug" {
		t.Errorf("configmap LOG_LEVEL = %q, want debug", got)
	}
	r = k.run("diff", "-f", "app.yaml")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("kubectl diff after applying the change: want exit 0 and no output, got:\n%s", r)
	}

	// A field dropped from the manifest is removed (three-way merge with
	// the last-applied-configuration annotation).
	dropped := strings.Replace(changed, "  labels: {app: web, tier: front}", "  labels: {app: web}", 1)
	k.write("app.yaml", dropped)
	wantLines(t, k.ok("apply", "-f", "app.yaml"), "deployment.apps/web configured")
	if got := k.ok("get", "deployment", "web", "-n", ns, "-o", "jsonpath={.metadata.labels}"); got != `{"app":"web"}` {
		t.Errorf("labels after removing tier from the manifest = %s, want {\"app\":\"web\"}", got)
	}
}

// scenarioServerSideApply: apply --server-side, a conflict with another
// field manager, and --force-conflicts.
func scenarioServerSideApply(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-ssa")
	cm := `apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
  namespace: ` + ns + `
data:
  owner: OWNER
  mine: "yes"
`
	k.write("first.yaml", strings.Replace(cm, "OWNER", "first", 1))
	k.write("second.yaml", strings.Replace(strings.Replace(cm, "OWNER", "second", 1), "  mine: \"yes\"\n", "", 1))

	wantExactLines(t, k.ok("apply", "--server-side", "-f", "first.yaml"), "configmap/shared serverside-applied")
	wantExactLines(t, k.ok("apply", "--server-side", "-f", "first.yaml"), "configmap/shared serverside-applied")
	if got := k.ok("get", "configmap", "shared", "-n", ns, "-o", "jsonpath={.metadata.managedFields[*].manager}/{.metadata.managedFields[*].operation}"); got != "kubectl/Apply" {
		t.Errorf("managedFields managers/operations = %q, want kubectl/Apply", got)
	}

	r := k.fails("apply", "--server-side", "--field-manager=other", "-f", "second.yaml")
	wantContains(t, r.stderr, `Apply failed with 1 conflict: conflict with "kubectl": .data.owner`, "--force-conflicts")
	if got := k.ok("get", "configmap", "shared", "-n", ns, "-o", "jsonpath={.data.owner}"); got != "first" {
		t.Errorf("after a refused apply, owner = %q, want first", got)
	}

	wantExactLines(t, k.ok("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "second.yaml"),
		"configmap/shared serverside-applied")
	if got := k.ok("get", "configmap", "shared", "-n", ns, "-o", "jsonpath={.data.owner} {.data.mine}"); got != "second yes" {
		t.Errorf("after forced apply, data = %q, want \"second yes\"", got)
	}
	managers := k.ok("get", "configmap", "shared", "-n", ns, "-o", `jsonpath={range .metadata.managedFields[*]}{.manager}:{.operation};{end}`)
	if managers != "kubectl:Apply;other:Apply;" && managers != "other:Apply;kubectl:Apply;" {
		t.Errorf("managedFields after forced apply = %q, want kubectl (still owning .data.mine) and other, both Apply", managers)
	}

	// The first manager now conflicts in turn, and co-owning (same value)
	// does not conflict.
	r = k.fails("apply", "--server-side", "-f", "first.yaml")
	wantContains(t, r.stderr, `conflict with "other": .data.owner`)
	k.write("agree.yaml", strings.Replace(cm, "OWNER", "second", 1))
	wantExactLines(t, k.ok("apply", "--server-side", "-f", "agree.yaml"), "configmap/shared serverside-applied")

	// A dry run changes nothing.
	k.write("dry.yaml", strings.Replace(cm, "OWNER", "dry", 1))
	wantExactLines(t, k.ok("apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "dry.yaml"),
		"configmap/shared serverside-applied (server dry run)")
	if got := k.ok("get", "configmap", "shared", "-n", ns, "-o", "jsonpath={.data.owner}"); got != "second" {
		t.Errorf("after a dry-run apply, owner = %q, want second", got)
	}
}
