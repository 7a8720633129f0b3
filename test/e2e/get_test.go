package e2e

import (
	"context"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const getManifest = `apiVersion: v1
kind: Pod
metadata:
  name: p1
  namespace: NS
  labels: {app: x, tier: back}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: p2
  namespace: NS
  labels: {app: "y"}
spec:
  containers:
  - name: one
    image: nginx
  - name: two
    image: registry.example.com/tools:latest
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: NS
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
---
apiVersion: v1
kind: Service
metadata:
  name: np
  namespace: NS
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {port: 80, nodePort: 30999}
`

// scenarioGet: kubectl get's tables (with Kubernetes' columns), -o wide,
// yaml, json, jsonpath, name, label and field selectors, -A,
// --show-labels and paging.
func scenarioGet(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-get")
	k.write("objects.yaml", strings.ReplaceAll(getManifest, "NS", ns))
	wantExactLines(t, k.ok("apply", "-f", "objects.yaml"),
		"pod/p1 created", "pod/p2 created", "deployment.apps/web created", "service/web created", "service/np created")

	t.Run("pods", func(t *testing.T) {
		k := k.with(t)
		tb := parseTable(t, k.ok("get", "pods", "-n", ns))
		tb.wantHeader(t, "NAME", "READY", "STATUS", "RESTARTS", "AGE")
		tb.wantRow(t, "p1", map[string]string{"READY": "0/1", "STATUS": "Pending", "RESTARTS": "0"})
		tb.wantRow(t, "p2", map[string]string{"READY": "0/2", "STATUS": "Pending", "RESTARTS": "0"})
		if len(tb.rows) != 2 {
			t.Errorf("want 2 pods, got %v", tb.rows)
		}
		wide := parseTable(t, k.ok("get", "pods", "-n", ns, "-o", "wide"))
		wide.wantHeader(t, "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
		wide.wantRow(t, "p1", map[string]string{"IP": "<none>", "NODE": "<none>", "NOMINATED NODE": "<none>", "READINESS GATES": "<none>"})
		labels := parseTable(t, k.ok("get", "pods", "-n", ns, "--show-labels"))
		labels.wantHeader(t, "NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS")
		labels.wantRow(t, "p1", map[string]string{"LABELS": "app=x,tier=back"})
		labels.wantRow(t, "p2", map[string]string{"LABELS": "app=y"})
	})

	t.Run("services", func(t *testing.T) {
		k := k.with(t)
		tb := parseTable(t, k.ok("get", "services", "-n", ns))
		tb.wantHeader(t, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE")
		tb.wantRow(t, "web", map[string]string{"TYPE": "ClusterIP", "EXTERNAL-IP": "<none>", "PORT(S)": "80/TCP,443/TCP"})
		tb.wantRow(t, "np", map[string]string{"TYPE": "NodePort", "EXTERNAL-IP": "<none>", "PORT(S)": "80:30999/TCP"})
		for _, name := range []string{"web", "np"} {
			ip, err := netip.ParseAddr(tb.row(t, "NAME", name)["CLUSTER-IP"])
			if err != nil || !netip.MustParsePrefix("10.43.0.0/16").Contains(ip) || ip.String() == "10.43.0.1" {
				t.Errorf("service %s CLUSTER-IP = %v, want a fresh address in 10.43.0.0/16", name, ip)
			}
		}
		wide := parseTable(t, k.ok("get", "services", "-n", ns, "-o", "wide"))
		wide.wantHeader(t, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR")
		wide.wantRow(t, "web", map[string]string{"SELECTOR": "app=web"})
	})

	t.Run("deployments", func(t *testing.T) {
		k := k.with(t)
		tb := parseTable(t, k.ok("get", "deployments", "-n", ns))
		tb.wantHeader(t, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")
		tb.wantRow(t, "web", map[string]string{"READY": "0/2", "UP-TO-DATE": "0", "AVAILABLE": "0"})
		wide := parseTable(t, k.ok("get", "deployments", "-n", ns, "-o", "wide"))
		wide.wantHeader(t, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR")
		wide.wantRow(t, "web", map[string]string{"CONTAINERS": "nginx,sidecar", "IMAGES": "nginx:1.27,busybox:1.36", "SELECTOR": "app=web"})
	})

	t.Run("output formats", func(t *testing.T) {
		k := k.with(t)
		var d map[string]any
		if err := yaml.Unmarshal([]byte(k.ok("get", "deployment", "web", "-n", ns, "-o", "yaml")), &d); err != nil {
			t.Fatalf("-o yaml: %v", err)
		}
		for path, want := range map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment", "metadata.name": "web", "metadata.namespace": ns,
			"metadata.generation": float64(1), "spec.replicas": float64(2), "spec.revisionHistoryLimit": float64(10),
			"spec.progressDeadlineSeconds": float64(600), "spec.strategy.type": "RollingUpdate",
			"spec.strategy.rollingUpdate.maxSurge": "25%", "spec.strategy.rollingUpdate.maxUnavailable": "25%",
			"spec.template.spec.restartPolicy": "Always", "spec.template.spec.dnsPolicy": "ClusterFirst",
			"spec.template.spec.schedulerName": "default-scheduler", "spec.template.spec.terminationGracePeriodSeconds": float64(30),
		} {
			if got := lookup(d, path); got != want {
				t.Errorf("-o yaml: %s = %#v, want %#v", path, got, want)
			}
		}
		for _, path := range []string{"metadata.uid", "metadata.resourceVersion", "metadata.creationTimestamp"} {
			if s, _ := lookup(d, path).(string); s == "" {
				t.Errorf("-o yaml: %s is empty", path)
			}
		}

		var pod map[string]any
		if err := json.Unmarshal([]byte(k.ok("get", "pod", "p2", "-n", ns, "-o", "json")), &pod); err != nil {
			t.Fatalf("-o json: %v", err)
		}
		for path, want := range map[string]any{
			"apiVersion": "v1", "kind": "Pod", "spec.restartPolicy": "Always", "spec.dnsPolicy": "ClusterFirst",
			"spec.schedulerName": "default-scheduler", "spec.terminationGracePeriodSeconds": float64(30),
			"status.phase": "Pending", "status.qosClass": "BestEffort",
		} {
			if got := lookup(pod, path); got != want {
				t.Errorf("-o json: %s = %#v, want %#v", path, got, want)
			}
		}
		// imagePullPolicy follows the tag: none or latest -> Always.
		pulls := k.ok("get", "pod", "p2", "-n", ns, "-o", "jsonpath={.spec.containers[*].imagePullPolicy}")
		if pulls != "Always Always" {
			t.Errorf("imagePullPolicy for nginx and :latest = %q, want \"Always Always\"", pulls)
		}
		if got := k.ok("get", "pod", "p1", "-n", ns, "-o", "jsonpath={.spec.containers[0].imagePullPolicy}"); got != "IfNotPresent" {
			t.Errorf("imagePullPolicy for busybox:1.36 = %q, want IfNotPresent", got)
		}
		wantExactLines(t, k.ok("get", "pods", "-n", ns, "-o", "name"), "pod/p1", "pod/p2")
		wantExactLines(t, k.ok("get", "deployment", "web", "-n", ns, "-o", "name"), "deployment.apps/web")
		if got := k.ok("get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}"); got != "p1 p2" {
			t.Errorf("jsonpath over the list = %q, want \"p1 p2\"", got)
		}
		cc := parseTable(t, k.ok("get", "pods", "-n", ns, "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image"))
		cc.wantHeader(t, "NAME", "IMAGE")
		cc.wantRow(t, "p1", map[string]string{"IMAGE": "busybox:1.36"})
	})

	t.Run("service account admission", func(t *testing.T) {
		k := k.with(t)
		// Kubernetes' ServiceAccount admission gives a pod without one
		// the namespace's "default" service account.
		if got := k.ok("get", "pod", "p1", "-n", ns, "-o", "jsonpath={.spec.serviceAccountName}"); got != "default" {
			t.Errorf("pod spec.serviceAccountName = %q, want default", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		k := k.with(t)
		// describe finds a pod's events with involvedObject field
		// selectors.
		uid := k.ok("get", "pod", "p1", "-n", ns, "-o", "jsonpath={.metadata.uid}")
		k.write("event.yaml", "apiVersion: v1\nkind: Event\nmetadata: {name: p1.e2e, namespace: "+ns+"}\n"+
			"involvedObject: {apiVersion: v1, kind: Pod, name: p1, namespace: "+ns+", uid: "+uid+"}\n"+
			"reason: Testing\nmessage: hello from e2e\ntype: Normal\nsource: {component: e2e}\ncount: 1\n")
		k.ok("create", "-f", "event.yaml")
		out := k.ok("describe", "pod", "p1", "-n", ns)
		for _, re := range []string{`(?m)^Name:\s+p1$`, `(?m)^Namespace:\s+` + ns + `$`, `(?m)^Status:\s+Pending$`,
			`(?m)^Labels:\s+app=x$`, `(?m)^\s+Image:\s+busybox:1\.36$`, `(?m)^QoS Class:\s+BestEffort$`,
			`(?m)^\s+Normal\s+Testing\s+\S+\s+e2e\s+hello from e2e$`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("kubectl describe pod lacks %s:\n%s", re, out)
			}
		}
		wantExactLines(t, k.ok("get", "events", "-n", ns, "-o", "name", "--field-selector", "involvedObject.kind=Pod,involvedObject.name=p1,reason=Testing"), "event/p1.e2e")
		out = k.ok("describe", "deployment", "web", "-n", ns)
		for _, re := range []string{`(?m)^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$`,
			`(?m)^StrategyType:\s+RollingUpdate$`, `(?m)^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("kubectl describe deployment lacks %s:\n%s", re, out)
			}
		}
	})

	t.Run("selectors", func(t *testing.T) {
		k := k.with(t)
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"-l", "app=x"}, []string{"pod/p1"}},
			{[]string{"-l", "app!=x"}, []string{"pod/p2"}},
			{[]string{"-l", "app in (x,y)"}, []string{"pod/p1", "pod/p2"}},
			{[]string{"-l", "tier"}, []string{"pod/p1"}},
			{[]string{"-l", "!tier"}, []string{"pod/p2"}},
			{[]string{"-l", "app=x,tier notin (front)"}, []string{"pod/p1"}},
			{[]string{"--field-selector", "metadata.name=p2"}, []string{"pod/p2"}},
			{[]string{"--field-selector", "metadata.name!=p2"}, []string{"pod/p1"}},
			{[]string{"--field-selector", "status.phase=Pending"}, []string{"pod/p1", "pod/p2"}},
			{[]string{"--field-selector", "metadata.namespace=" + ns + ",spec.nodeName="}, []string{"pod/p1", "pod/p2"}},
			{[]string{"-l", "app=y", "--field-selector", "status.phase=Pending"}, []string{"pod/p2"}},
		} {
			args := append([]string{"get", "pods", "-n", ns, "-o", "name"}, tc.args...)
			wantExactLines(t, k.ok(args...), tc.want...)
		}
		r := k.run("get", "pods", "-n", ns, "--field-selector", "status.phase=Running")
		if r.code != 0 || r.stdout != "" || strings.TrimSpace(r.stderr) != "No resources found in "+ns+" namespace." {
			t.Errorf("empty selection: want exit 0, no stdout and \"No resources found in %s namespace.\", got:\n%s", ns, r)
		}
		r = k.run("get", "pods", "-n", ns, "--field-selector", "spec.nope=x")
		if r.code != 1 || !strings.Contains(r.stderr, `field label not supported: spec.nope`) {
			t.Errorf("unknown field selector: want exit 1 and \"field label not supported: spec.nope\", got:\n%s", r)
		}
	})

	t.Run("all namespaces", func(t *testing.T) {
		k := k.with(t)
		tb := parseTable(t, k.ok("get", "pods", "-A"))
		tb.wantHeader(t, "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE")
		var mine []string
		for _, r := range tb.rows {
			if r["NAMESPACE"] == ns {
				mine = append(mine, r["NAME"])
			}
		}
		if strings.Join(mine, ",") != "p1,p2" {
			t.Errorf("-A rows in %s: %v, want p1,p2", ns, mine)
		}
		svc := parseTable(t, k.ok("get", "services", "--all-namespaces", "--field-selector", "metadata.name=kubernetes"))
		if len(svc.rows) != 1 || svc.rows[0]["NAMESPACE"] != "default" {
			t.Errorf("services -A named kubernetes: %v", svc.rows)
		}
	})

	t.Run("paging", func(t *testing.T) {
		k := k.with(t)
		var want []string
		for _, name := range []string{"page-a", "page-b", "page-c", "page-d", "page-e"} {
			k.ok("create", "configmap", name, "-n", ns)
			want = append(want, "configmap/"+name)
		}
		wantExactLines(t, k.ok("get", "configmaps", "-n", ns, "--chunk-size=2", "-o", "name", "--field-selector", "metadata.name!=kube-root-ca.crt"), want...)
		tb := parseTable(t, k.ok("get", "configmaps", "-n", ns, "--chunk-size=1", "--field-selector", "metadata.name!=kube-root-ca.crt"))
		if len(tb.rows) != len(want) {
			t.Errorf("table over pages has %d rows, want %d", len(tb.rows), len(want))
		}
	})
}

// lookup follows a dotted path through decoded JSON.
func lookup(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// scenarioWatch: `kubectl get -w` prints objects created, changed and
// deleted after it started.
func scenarioWatch(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-watch")
	k.ok("create", "configmap", "before", "-n", ns)

	ctx, cancel := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel()
	w := k.start(ctx, nil, "get", "configmaps", "-n", ns, "--watch", "--field-selector", "metadata.name!=kube-root-ca.crt")
	// The initial list is printed first; what follows comes from the watch.
	w.waitLine(t, regexp.MustCompile(`^NAME\s+DATA\s+AGE$`), commandDeadline)
	w.waitLine(t, regexp.MustCompile(`^before\s+0\s+\S+$`), commandDeadline)

	k.ok("create", "configmap", "watched", "-n", ns, "--from-literal=a=b")
	w.waitLine(t, regexp.MustCompile(`^watched\s+1\s+\S+$`), commandDeadline)
	k.ok("patch", "configmap", "before", "-n", ns, "--type=merge", "-p", `{"data":{"x":"1","y":"2"}}`)
	w.waitLine(t, regexp.MustCompile(`^before\s+2\s+\S+$`), commandDeadline)

	// With --output-watch-events the event types are shown; the initial
	// list comes as ADDED events, then the watch's own events follow.
	ctx2, cancel2 := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel2()
	ev := k.start(ctx2, nil, "get", "configmaps", "-n", ns, "--watch", "--output-watch-events", "--field-selector", "metadata.name!=kube-root-ca.crt")
	ev.waitLine(t, regexp.MustCompile(`^EVENT\s+NAME\s+DATA\s+AGE$`), commandDeadline)
	ev.waitLine(t, regexp.MustCompile(`^ADDED\s+watched\s+1\s+\S+$`), commandDeadline)
	k.ok("label", "configmap", "watched", "-n", ns, "seen=yes")
	ev.waitLine(t, regexp.MustCompile(`^MODIFIED\s+watched\s+1\s+\S+$`), commandDeadline)
	if r := k.run("delete", "configmap", "watched", "-n", ns); r.code == 0 {
		ev.waitLine(t, regexp.MustCompile(`^DELETED\s+watched\s+1\s+\S+$`), commandDeadline)
	} else {
		t.Errorf("delete failed:\n%s", r)
	}
}
