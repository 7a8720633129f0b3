package e2e

import (
	"context"
	"encoding/base64"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// scenarioCreate: kubectl's generators (create deployment, configmap,
// secret, namespace, service, ...) and run --dry-run=server.
func scenarioCreate(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-create")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "deployment", "d1", "--image=nginx:1.27", "--replicas=2", "--port=80"}, "deployment.apps/d1 created"},
		{[]string{"create", "configmap", "c1", "--from-literal=a=b", "--from-literal=c=d"}, "configmap/c1 created"},
		{[]string{"create", "secret", "generic", "s1", "--from-literal=password=q"}, "secret/s1 created"},
		{[]string{"create", "secret", "docker-registry", "reg", "--docker-server=r.example.com", "--docker-username=u", "--docker-password=p"}, "secret/reg created"},
		{[]string{"create", "service", "clusterip", "svc1", "--tcp=80:8080"}, "service/svc1 created"},
		{[]string{"create", "service", "clusterip", "headless", "--clusterip=None", "--tcp=80"}, "service/headless created"},
		{[]string{"create", "service", "nodeport", "np1", "--tcp=80:8080", "--node-port=30123"}, "service/np1 created"},
		{[]string{"create", "service", "loadbalancer", "lb1", "--tcp=443:8443"}, "service/lb1 created"},
		{[]string{"create", "service", "externalname", "ext", "--external-name=db.example.com"}, "service/ext created"},
		{[]string{"create", "serviceaccount", "robot"}, "serviceaccount/robot created"},
		{[]string{"create", "role", "pod-reader", "--verb=get,list", "--resource=pods,deployments.apps"}, "role.rbac.authorization.k8s.io/pod-reader created"},
		{[]string{"create", "rolebinding", "robot-reads", "--role=pod-reader", "--serviceaccount=" + ns + ":robot"}, "rolebinding.rbac.authorization.k8s.io/robot-reads created"},
		{[]string{"create", "ingress", "ing", "--rule=app.example.com/*=svc1:80"}, "ingress.networking.k8s.io/ing created"},
		{[]string{"create", "poddisruptionbudget", "pdb", "--selector=app=d1", "--min-available=1"}, "poddisruptionbudget.policy/pdb created"},
		{[]string{"create", "job", "j1", "--image=busybox:1.36", "--", "true"}, "job.batch/j1 created"},
		{[]string{"create", "cronjob", "cj1", "--image=busybox:1.36", "--schedule=*/5 * * * *", "--", "true"}, "cronjob.batch/cj1 created"},
		{[]string{"create", "quota", "q1", "--hard=pods=10,configmaps=20"}, "resourcequota/q1 created"},
		{[]string{"autoscale", "deployment", "d1", "--min=1", "--max=3", "--cpu-percent=50"}, "horizontalpodautoscaler.autoscaling/d1 autoscaled"},
	} {
		t.Run(strings.Join(tc.args[:min(3, len(tc.args))], " "), func(t *testing.T) {
			k := newKubectl(t, c)
			wantExactLines(t, k.ok(append(tc.args, "-n", ns)...), tc.want)
		})
	}

	check := func(what, jsonpath, want string) {
		t.Helper()
		if got := k.ok("get", what, "-n", ns, "-o", "jsonpath="+jsonpath); got != want {
			t.Errorf("%s %s = %q, want %q", what, jsonpath, got, want)
		}
	}
	check("deployment/d1", "{.spec.replicas} {.spec.selector.matchLabels.app} {.spec.template.spec.containers[0].ports[0].containerPort}", "2 d1 80")
	check("configmap/c1", "{.data.a} {.data.c}", "b d")
	check("secret/s1", "{.type} {.data.password}", "Opaque "+base64.StdEncoding.EncodeToString([]byte("q")))
	check("secret/reg", "{.type}", "kubernetes.io/dockerconfigjson")
	check("service/svc1", "{.spec.type} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}", "ClusterIP 80 8080 svc1")
	check("service/headless", "{.spec.clusterIP}", "None")
	check("service/np1", "{.spec.type} {.spec.ports[0].nodePort}", "NodePort 30123")
	check("service/ext", "{.spec.type} {.spec.externalName} {.spec.clusterIP}", "ExternalName db.example.com ")
	check("role/pod-reader", "{.rules[0].resources} {.rules[1].apiGroups}", `["pods"] ["apps"]`)
	for _, svc := range []string{"svc1", "np1", "lb1"} {
		ip, err := netip.ParseAddr(k.ok("get", "service", svc, "-n", ns, "-o", "jsonpath={.spec.clusterIP}"))
		if err != nil || !netip.MustParsePrefix("10.43.0.0/16").Contains(ip) {
			t.Errorf("service %s clusterIP %v (%v), want one from 10.43.0.0/16", svc, ip, err)
		}
	}
	lbPort := k.ok("get", "service", "lb1", "-n", ns, "-o", "jsonpath={.spec.ports[0].nodePort}")
	if !regexp.MustCompile(`^3[0-2][0-9]{3}$`).MatchString(lbPort) {
		t.Errorf("LoadBalancer service got nodePort %q, want one in 30000-32767", lbPort)
	}

	t.Run("node port taken", func(t *testing.T) {
		k := k.with(t)
		r := k.fails("create", "service", "nodeport", "np2", "--tcp=80:8080", "--node-port=30123", "-n", ns)
		wantExactLines(t, r.stderr, `error: failed to create NodePort service: Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30123: provided port is already allocated`)
	})

	t.Run("dry run", func(t *testing.T) {
		k := newKubectl(t, c)
		wantExactLines(t, k.ok("run", "r1", "--image=nginx:1.27", "--dry-run=server", "-n", ns), "pod/r1 created (server dry run)")
		out := k.ok("run", "r1", "--image=nginx:1.27", "--dry-run=server", "-n", ns, "-o", "jsonpath={.spec.dnsPolicy} {.spec.containers[0].imagePullPolicy} {.metadata.labels.run}")
		if out != "ClusterFirst IfNotPresent r1" {
			t.Errorf("dry-run pod as the server would store it: %q, want defaults applied", out)
		}
		r := k.fails("get", "pod", "r1", "-n", ns)
		wantExactLines(t, r.stderr, `Error from server (NotFound): pods "r1" not found`)
		wantExactLines(t, k.ok("create", "deployment", "dd", "--image=nginx", "--dry-run=server", "-n", ns), "deployment.apps/dd created (server dry run)")
		k.fails("get", "deployment", "dd", "-n", ns)
		// A client-side dry run prints the object without asking the server.
		wantExactLines(t, k.ok("create", "configmap", "local", "--dry-run=client", "-o", "name", "-n", ns), "configmap/local")
	})
}

// scenarioLabelAnnotate: kubectl label/annotate, --overwrite, removal.
func scenarioLabelAnnotate(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-label")
	k.ok("create", "deployment", "d", "--image=nginx", "-n", ns)

	wantExactLines(t, k.ok("label", "deployment", "d", "env=prod", "-n", ns), "deployment.apps/d labeled")
	r := k.fails("label", "deployment", "d", "env=dev", "-n", ns)
	wantExactLines(t, r.stderr, "error: 'env' already has a value (prod), and --overwrite is false")
	wantExactLines(t, k.ok("label", "deployment", "d", "env=dev", "--overwrite", "-n", ns), "deployment.apps/d labeled")
	wantExactLines(t, k.ok("label", "deployment", "d", "env=dev", "-n", ns), "deployment.apps/d not labeled")
	wantExactLines(t, k.ok("label", "deployment", "d", "team=a", "-n", ns), "deployment.apps/d labeled")
	wantExactLines(t, k.ok("label", "deployment", "d", "team-", "-n", ns), "deployment.apps/d unlabeled")
	if got := k.ok("get", "deployment", "d", "-n", ns, "-o", "jsonpath={.metadata.labels}"); got != `{"app":"d","env":"dev"}` {
		t.Errorf("labels = %s", got)
	}

	if got := k.ok("get", "deployment", "d", "-n", ns, "-o", "jsonpath={.metadata.generation}"); got != "1" {
		t.Errorf("generation after label changes = %s, want 1 (labels are not spec)", got)
	}
	wantExactLines(t, k.ok("annotate", "deployment", "d", "note=hello world", "-n", ns), "deployment.apps/d annotated")
	r = k.fails("annotate", "deployment", "d", "note=bye", "-n", ns)
	wantExactLines(t, r.stderr, "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hello world)")
	wantExactLines(t, k.ok("annotate", "deployment", "d", "note=bye", "--overwrite", "-n", ns), "deployment.apps/d annotated")
	// As in Kubernetes, a Deployment's generation follows its annotations
	// too (they are copied to its ReplicaSets).
	if got := k.ok("get", "deployment", "d", "-n", ns, "-o", "jsonpath={.metadata.annotations.note} {.metadata.generation}"); got != "bye 3" {
		t.Errorf("annotation and generation = %q, want \"bye 3\"", got)
	}
	wantExactLines(t, k.ok("annotate", "deployment", "d", "note-", "-n", ns), "deployment.apps/d annotated")

	// Label many objects by selector, and with --all.
	k.ok("create", "configmap", "a", "-n", ns)
	k.ok("create", "configmap", "b", "-n", ns)
	out := k.ok("label", "configmaps", "a", "b", "group=g", "-n", ns)
	wantExactLines(t, out, "configmap/a labeled", "configmap/b labeled")
	wantExactLines(t, k.ok("get", "configmaps", "-l", "group=g", "-o", "name", "-n", ns), "configmap/a", "configmap/b")
}

// scenarioMutate: kubectl patch (strategic, merge, json, status), scale,
// set image, and generation following spec changes only.
func scenarioMutate(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-mutate")
	k.ok("create", "deployment", "m", "--image=nginx:1.25", "-n", ns)
	get := func(jsonpath string) string {
		t.Helper()
		return k.ok("get", "deployment", "m", "-n", ns, "-o", "jsonpath="+jsonpath)
	}

	// Strategic merge: the container list merges by name.
	wantExactLines(t, k.ok("patch", "deployment", "m", "-n", ns, "-p",
		`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}`), "deployment.apps/m patched")
	if got := get("{.spec.template.spec.containers[*].name} {.metadata.generation}"); got != "sidecar nginx 2" && got != "nginx sidecar 2" {
		t.Errorf("after strategic merge patch: containers and generation = %q, want nginx and sidecar, generation 2", got)
	}
	wantExactLines(t, k.ok("patch", "deployment", "m", "-n", ns, "--type=strategic", "-p",
		`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}`), "deployment.apps/m patched")
	if got := get("{.spec.template.spec.containers[*].name}"); got != "nginx" {
		t.Errorf("after $patch: delete, containers = %q, want nginx", got)
	}

	// Merge patch on metadata only: generation stays.
	wantExactLines(t, k.ok("patch", "deployment", "m", "-n", ns, "--type=merge", "-p", `{"metadata":{"labels":{"patched":"yes"}}}`), "deployment.apps/m patched")
	if got := get("{.metadata.labels.patched} {.metadata.labels.app} {.metadata.generation}"); got != "yes m 3" {
		t.Errorf("after merge patch: %q, want \"yes m 3\"", got)
	}

	// JSON patch.
	wantExactLines(t, k.ok("patch", "deployment", "m", "-n", ns, "--type=json", "-p",
		`[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]`), "deployment.apps/m patched")
	if got := get("{.spec.replicas} {.metadata.annotations.a} {.metadata.generation}"); got != "3 b 4" {
		t.Errorf("after json patch: %q, want \"3 b 4\"", got)
	}
	// The same patch again changes nothing.
	wantExactLines(t, k.ok("patch", "deployment", "m", "-n", ns, "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":3}]`),
		"deployment.apps/m patched (no change)")
	r := k.fails("patch", "deployment", "m", "-n", ns, "--type=json", "-p", `[{"op":"test","path":"/spec/replicas","value":9}]`)
	wantExactLines(t, r.stderr, "The request is invalid: the server rejected our request due to an error in our request")

	// Status subresource: spec and generation untouched.
	wantExactLines(t, k.ok("patch", "deployment", "m", "-n", ns, "--subresource=status", "--type=merge", "-p", `{"status":{"observedGeneration":4,"replicas":7}}`),
		"deployment.apps/m patched")
	if got := get("{.status.replicas} {.spec.replicas} {.metadata.generation}"); got != "7 3 4" {
		t.Errorf("after status patch: %q, want \"7 3 4\"", got)
	}
	// A status change through the main resource is ignored.
	k.ok("patch", "deployment", "m", "-n", ns, "--type=merge", "-p", `{"status":{"replicas":99}}`)
	if got := get("{.status.replicas}"); got != "7" {
		t.Errorf("status.replicas after patching it through the main resource = %q, want 7 (ignored)", got)
	}

	wantExactLines(t, k.ok("scale", "deployment", "m", "--replicas=5", "-n", ns), "deployment.apps/m scaled")
	if got := get("{.spec.replicas} {.metadata.generation}"); got != "5 5" {
		t.Errorf("after scale: replicas and generation %q, want \"5 5\"", got)
	}
	r = k.fails("scale", "deployment", "m", "--current-replicas=2", "--replicas=1", "-n", ns)
	wantContains(t, r.stderr, "Expected replicas to be 2, was 5")
	t.Run("scale table", func(t *testing.T) {
		k := k.with(t)
		scale := parseTable(t, k.ok("get", "deployment", "m", "--subresource=scale", "-n", ns))
		scale.wantHeader(t, "NAME", "DESIRED", "AVAILABLE", "AGE")
		scale.wantRow(t, "m", map[string]string{"DESIRED": "5", "AVAILABLE": "7"})
	})

	wantExactLines(t, k.ok("set", "image", "deployment/m", "nginx=nginx:1.27", "-n", ns), "deployment.apps/m image updated")
	if got := get("{.spec.template.spec.containers[0].image} {.metadata.generation}"); got != "nginx:1.27 6" {
		t.Errorf("after set image: %q, want \"nginx:1.27 6\"", got)
	}
	wantExactLines(t, k.ok("set", "env", "deployment/m", "MODE=test", "-n", ns), "deployment.apps/m env updated")
	wantExactLines(t, k.ok("set", "resources", "deployment/m", "--limits=cpu=200m,memory=64Mi", "-n", ns), "deployment.apps/m resource requirements updated")
	if got := get("{.spec.template.spec.containers[0].env[0].value} {.spec.template.spec.containers[0].resources.limits.cpu}"); got != "test 200m" {
		t.Errorf("after set env/resources: %q", got)
	}
	// A pod's image can change in place; other pod spec fields cannot.
	k.ok("run", "p", "--image=nginx:1.25", "-n", ns)
	wantExactLines(t, k.ok("set", "image", "pod/p", "p=nginx:1.27", "-n", ns), "pod/p image updated")
	r = k.fails("patch", "pod", "p", "-n", ns, "-p", `{"spec":{"restartPolicy":"Never"}}`)
	wantContains(t, r.stderr, `The Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than`)
}

// scenarioEdit: kubectl edit with EDITOR set to a script.
func scenarioEdit(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-edit")
	k.ok("create", "configmap", "conf", "--from-literal=mode=old", "-n", ns)

	editor := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/mode: old/mode: new/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := k.runEnv([]string{"EDITOR=" + editor}, "", "edit", "configmap", "conf", "-n", ns)
	if r.code != 0 {
		t.Fatalf("kubectl edit failed:\n%s", r)
	}
	wantExactLines(t, r.stdout, "configmap/conf edited")
	if got := k.ok("get", "configmap", "conf", "-n", ns, "-o", "jsonpath={.data.mode}"); got != "new" {
		t.Errorf("after edit: mode = %q, want new", got)
	}

	// Nothing to change: kubectl says so and writes nothing.
	r = k.runEnv([]string{"EDITOR=" + editor}, "", "edit", "configmap", "conf", "-n", ns)
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Edit cancelled, no changes made.") {
		t.Errorf("kubectl edit without changes: want exit 0 and \"Edit cancelled, no changes made.\", got:\n%s", r)
	}

	// An edit the server refuses: kubectl reports the error and keeps a
	// copy; the object is unchanged.
	k.ok("create", "deployment", "d", "--image=nginx", "-n", ns)
	bad := filepath.Join(t.TempDir(), "bad-editor.sh")
	if err := os.WriteFile(bad, []byte("#!/bin/sh\nsed -i 's/^  replicas: 1$/  replicas: -1/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	r = k.runEnv([]string{"EDITOR=" + bad}, "", "edit", "deployment", "d", "-n", ns)
	if r.code != 1 {
		t.Fatalf("invalid edit: want exit 1, got:\n%s", r)
	}
	wantLines(t, r.stderr, `error: deployments.apps "d" is invalid`, "error: Edit cancelled, no valid changes were saved.")
	// kubectl keeps the edited copy, annotated with the server's reasons.
	m := regexp.MustCompile(`A copy of your changes has been stored to "([^"]+)"`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("kubectl edit did not keep a copy:\n%s", r.stderr)
	}
	kept, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(m[1])
	wantContains(t, string(kept), `# deployments.apps "d" was not valid:`, "# * spec.replicas: Invalid value: -1: must be greater than or equal to 0")
	if got := k.ok("get", "deployment", "d", "-n", ns, "-o", "jsonpath={.spec.replicas}"); got != "1" {
		t.Errorf("after a refused edit: replicas = %q, want 1", got)
	}
}

// scenarioExplain: kubectl explain reads the server's OpenAPI v3.
func scenarioExplain(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	out := k.ok("explain", "deployment.spec.strategy")
	wantLines(t, out, "GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", "FIELD: strategy <DeploymentStrategy>", "DESCRIPTION:", "FIELDS:")
	wantContains(t, out, "rollingUpdate\t<RollingUpdateDeployment>", "type\t<string>", "Recreate", "RollingUpdate")

	out = k.ok("explain", "deployment.spec.strategy", "--recursive")
	wantContains(t, out, "FIELD: strategy <DeploymentStrategy>", "rollingUpdate\t<RollingUpdateDeployment>",
		"maxSurge\t<IntOrString>", "maxUnavailable\t<IntOrString>", "type\t<string>")

	out = k.ok("explain", "pods")
	wantLines(t, out, "KIND:       Pod", "VERSION:    v1")
	wantContains(t, out, "spec\t<PodSpec>", "status\t<PodStatus>", "metadata\t<ObjectMeta>")
	wantLines(t, k.ok("explain", "ingresses.spec.rules.http.paths.pathType"), "GROUP:      networking.k8s.io", "FIELD: pathType <string>")
	wantLines(t, k.ok("explain", "cronjobs.spec.schedule"), "GROUP:      batch", "FIELD: schedule <string>")
	wantContains(t, k.ok("explain", "cronjobs.spec"), "schedule\t<string> -required-", "jobTemplate\t<JobTemplateSpec> -required-")
	wantLines(t, k.ok("explain", "horizontalpodautoscalers", "--api-version=autoscaling/v2"), "GROUP:      autoscaling", "VERSION:    v2")

	r := k.fails("explain", "deployment.spec.nope")
	wantContains(t, r.stderr, `field "nope" does not exist`)
}

// scenarioDelete: kubectl delete by name, -f, -l, --all, dry run, and of
// things that are not there.
func scenarioDelete(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-delete")
	for _, name := range []string{"one", "two", "three", "four", "five"} {
		k.ok("create", "configmap", name, "-n", ns)
	}
	k.ok("label", "configmaps", "three", "four", "doomed=yes", "-n", ns)

	wantExactLines(t, k.ok("delete", "configmap", "one", "-n", ns, "--dry-run=server"), `configmap "one" deleted (server dry run)`)
	k.ok("get", "configmap", "one", "-n", ns)
	wantExactLines(t, k.ok("delete", "configmap", "one", "-n", ns), `configmap "one" deleted`)
	r := k.fails("get", "configmap", "one", "-n", ns)
	wantExactLines(t, r.stderr, `Error from server (NotFound): configmaps "one" not found`)
	r = k.fails("delete", "configmap", "one", "-n", ns)
	wantExactLines(t, r.stderr, `Error from server (NotFound): configmaps "one" not found`)
	wantExactLines(t, k.ok("delete", "configmap", "one", "-n", ns, "--ignore-not-found"))

	k.write("two.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n  namespace: "+ns+"\n")
	wantExactLines(t, k.ok("delete", "-f", "two.yaml"), `configmap "two" deleted`)

	wantExactLines(t, k.ok("delete", "configmaps", "-l", "doomed=yes", "-n", ns), `configmap "four" deleted`, `configmap "three" deleted`)
	wantExactLines(t, k.ok("get", "configmaps", "-n", ns, "-o", "name", "--field-selector", "metadata.name!=kube-root-ca.crt"), "configmap/five")

	// Deleting a Deployment with each propagation policy kubectl offers.
	for _, cascade := range []string{"background", "foreground", "orphan"} {
		k.ok("create", "deployment", "d-"+cascade, "--image=nginx", "-n", ns)
		wantExactLines(t, k.ok("delete", "deployment", "d-"+cascade, "--cascade="+cascade, "-n", ns, "--wait=false"), `deployment.apps "d-`+cascade+`" deleted`)
	}

	// A Service's cluster IP and node port are released on delete.
	k.ok("create", "service", "nodeport", "np", "--tcp=80", "--node-port=30555", "-n", ns)
	k.ok("delete", "service", "np", "-n", ns)
	wantExactLines(t, k.ok("create", "service", "nodeport", "np-again", "--tcp=80", "--node-port=30555", "-n", ns), "service/np-again created")

	// A finalizer holds the object until it is removed.
	k.write("held.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: "+ns+"\n  finalizers: [example.com/hold]\n")
	k.ok("create", "-f", "held.yaml")
	wantExactLines(t, k.ok("delete", "configmap", "held", "-n", ns, "--wait=false"), `configmap "held" deleted`)
	if got := k.ok("get", "configmap", "held", "-n", ns, "-o", "jsonpath={.metadata.finalizers[0]} {.metadata.deletionTimestamp}"); !strings.HasPrefix(got, "example.com/hold 20") {
		t.Errorf("deleted object with a finalizer: %q, want it kept with a deletionTimestamp", got)
	}
	k.ok("patch", "configmap", "held", "-n", ns, "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	r = k.fails("get", "configmap", "held", "-n", ns)
	wantContains(t, r.stderr, `configmaps "held" not found`)

	wantLines(t, k.ok("delete", "configmaps", "--all", "-n", ns), `configmap "five" deleted`)
	r = k.run("get", "configmaps", "-n", ns, "--field-selector", "metadata.name!=kube-root-ca.crt")
	if r.code != 0 || strings.TrimSpace(r.stderr) != "No resources found in "+ns+" namespace." {
		t.Errorf("after delete --all: want \"No resources found in %s namespace.\", got:\n%s", ns, r)
	}
}

// scenarioWait: kubectl wait --for=jsonpath and --for=delete, satisfied
// by changes made while it waits.
func scenarioWait(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-wait")
	k.ok("create", "configmap", "w", "--from-literal=state=starting", "-n", ns)

	wantExactLines(t, k.ok("wait", "--for=jsonpath={.data.state}=starting", "configmap/w", "-n", ns, "--timeout=30s"), "configmap/w condition met")

	ctx, cancel := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel()
	w := k.start(ctx, nil, "wait", "--for=jsonpath={.data.state}=ready", "configmap/w", "-n", ns, "--timeout=60s", "-v=6")
	// Change the object only once kubectl watches it, so the change
	// reaches it through the watch.
	w.waitStderr(t, "watch=true", commandDeadline)
	k.ok("patch", "configmap", "w", "-n", ns, "--type=merge", "-p", `{"data":{"state":"ready"}}`)
	w.waitLine(t, regexp.MustCompile(`^configmap/w condition met$`), commandDeadline)
	if err := w.wait(t, commandDeadline); err != nil {
		t.Errorf("kubectl wait: %v\n%s", err, w.stderr.String())
	}

	r := k.run("wait", "--for=jsonpath={.data.state}=never", "configmap/w", "-n", ns, "--timeout=1s")
	if r.code != 1 || !strings.Contains(r.stderr, "timed out waiting for the condition on configmaps/w") {
		t.Errorf("wait that times out: want exit 1 and \"timed out waiting for the condition on configmaps/w\", got:\n%s", r)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel2()
	d := k.start(ctx2, nil, "wait", "--for=delete", "configmap/w", "-n", ns, "--timeout=60s", "-v=6")
	d.waitStderr(t, "watch=true", commandDeadline)
	k.ok("delete", "configmap", "w", "-n", ns)
	d.waitLine(t, regexp.MustCompile(`^configmap/w condition met$`), commandDeadline)
	if err := d.wait(t, time.Minute); err != nil {
		t.Errorf("kubectl wait --for=delete: %v", err)
	}
}
