package e2e

import (
	"context"
	"encoding/base64"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scenarioNodeReady: the agent's Node is Ready, reports the machine's CPUs
// and containerd as its runtime, and has a pod CIDR from the cluster range.
func scenarioNodeReady(t *testing.T, c *nodeCluster) {
	k := c.k.with(t)
	if got, want := k.get("", "node/"+agentNodeName, "{.status.capacity.cpu}"), strconv.Itoa(runtime.NumCPU()); got != want {
		t.Errorf("node capacity cpu = %q, want %s (runtime.NumCPU)", got, want)
	}
	parseTable(t, k.ok("get", "nodes")).wantRow(t, agentNodeName, map[string]string{"STATUS": "Ready"})
	wide := parseTable(t, k.ok("get", "node", agentNodeName, "-o", "wide")).row(t, "NAME", agentNodeName)
	if rt := wide["CONTAINER-RUNTIME"]; !strings.HasPrefix(rt, "containerd://") {
		t.Errorf("CONTAINER-RUNTIME = %q, want containerd://<version>", rt)
	}
	if ip := wide["INTERNAL-IP"]; ip == "" || ip == "<none>" {
		t.Errorf("INTERNAL-IP = %q, want the node's address", ip)
	}
	cidr := k.get("", "node/"+agentNodeName, "{.spec.podCIDR}")
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil || !netip.MustParsePrefix(nodeClusterCIDR).Contains(prefix.Addr()) {
		t.Errorf("node podCIDR = %q, want a range of the cluster CIDR %s", cidr, nodeClusterCIDR)
	}
}

// scenarioRunToCompletion: `kubectl run` of a command that ends; the pod
// Succeeds and its output is in `kubectl logs`.
func scenarioRunToCompletion(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-hello")
	wantExactLines(t, k.ok("run", "hello", "-n", ns, "--image="+busyboxImage, "--restart=Never", "--",
		"sh", "-c", "echo hello from skiff"), "pod/hello created")
	k.waitFor(ns, "pod/hello", "jsonpath={.status.phase}=Succeeded")
	wantExactLines(t, k.ok("logs", "hello", "-n", ns), "hello from skiff")
	parseTable(t, k.ok("get", "pod", "hello", "-n", ns)).wantRow(t, "hello", map[string]string{
		"READY": "0/1", "STATUS": "Completed", "RESTARTS": "0"})
	if got := k.get(ns, "pod/hello", "{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}"); got != "Completed 0" {
		t.Errorf("terminated reason and exit code = %q, want \"Completed 0\"", got)
	}
	if got := k.get(ns, "pod/hello", "{.spec.nodeName}"); got != agentNodeName {
		t.Errorf("pod ran on %q, want %s", got, agentNodeName)
	}
}

// scenarioExec: exec with and without stdin, exit codes, kubectl cp both
// ways, and kubectl logs -f following a running container.
func scenarioExec(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-exec")
	wantExactLines(t, k.ok("run", "shell", "-n", ns, "--image="+busyboxImage, "--restart=Never", "--", "sh", "-c", sleeperCommand), "pod/shell created")
	wantExactLines(t, k.ok("run", "ticker", "-n", ns, "--image="+busyboxImage, "--restart=Never", "--",
		"sh", "-c", `trap "exit 0" TERM; i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done`), "pod/ticker created")
	k.waitPodReady(ns, "shell")

	wantExactLines(t, k.execIn(ns, "shell", "cat", "/etc/hostname"), "shell")

	r := k.runEnv(nil, "12345", "exec", "-i", "shell", "-n", ns, "--", "sh", "-c", "cat | wc -c")
	if r.code != 0 {
		t.Errorf("exec -i: want success, got:\n%s", r)
	} else {
		wantExactLines(t, strings.TrimSpace(r.stdout), "5")
	}

	r = k.run("exec", "shell", "-n", ns, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.code != 3 {
		t.Errorf("exec of a command exiting 3: kubectl exit code %d, want 3:\n%s", r.code, r)
	}
	wantExactLines(t, r.stdout, "out")
	wantLines(t, r.stderr, "err", "command terminated with exit code 3")

	r = k.run("exec", "shell", "-n", ns, "--", "no-such-command")
	if r.code == 0 {
		t.Errorf("exec of a missing command succeeded:\n%s", r)
	}

	// kubectl cp out of the pod and into it (tar through exec).
	k.ok("cp", ns+"/shell:/etc/hostname", "hostname.txt")
	if data, err := os.ReadFile(filepath.Join(k.dir, "hostname.txt")); err != nil || string(data) != "shell\n" {
		t.Errorf("kubectl cp out of the pod: %q (%v), want \"shell\\n\"", data, err)
	}
	k.write("upload.txt", "uploaded by kubectl cp\n")
	k.ok("cp", "upload.txt", ns+"/shell:/tmp/upload.txt")
	wantExactLines(t, k.execIn(ns, "shell", "cat", "/tmp/upload.txt"), "uploaded by kubectl cp")

	// kubectl logs -f streams lines as the container writes them.
	k.waitPodReady(ns, "ticker")
	ctx, cancel := context.WithTimeout(context.Background(), podDeadline)
	defer cancel()
	follow := k.start(ctx, nil, "logs", "-f", "ticker", "-n", ns)
	follow.waitLine(t, regexp.MustCompile(`^tick 3$`), 30*time.Second)
	if got := follow.output(); !strings.HasPrefix(got, "tick 0\ntick 1\ntick 2\n") {
		t.Errorf("kubectl logs -f printed:\n%s\nwant tick 0, 1, 2, 3 in order", got)
	}
	select {
	case <-follow.done:
		t.Errorf("kubectl logs -f ended while the container runs: %v\n%s", follow.err, follow.stderr.String())
	default:
	}
	cancel()
	<-follow.done

	// kubectl attach streams the running process's output from now on.
	ctx, cancel = context.WithTimeout(context.Background(), podDeadline)
	defer cancel()
	attach := k.start(ctx, nil, "attach", "ticker", "-n", ns)
	line := attach.waitLine(t, regexp.MustCompile(`^tick \d+$`), 30*time.Second)
	if n, _ := strconv.Atoi(strings.TrimPrefix(line, "tick ")); n < 3 {
		t.Errorf("kubectl attach printed %q first, want a line written after it attached (tick 3 was already out)", line)
	}
	cancel()
	<-attach.done
}

// scenarioInitContainer: an init container prepares a file in an emptyDir
// that the app container then prints.
func scenarioInitContainer(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-init")
	k.apply(ns, "init.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: init
  namespace: __NS__
spec:
  restartPolicy: Never
  volumes:
  - name: work
    emptyDir: {}
  initContainers:
  - name: prepare
    image: `+busyboxImage+`
    command: [sh, -c, 'echo "prepared by $(hostname)" > /work/msg; echo init done']
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [cat, /work/msg]
    volumeMounts: [{name: work, mountPath: /work}]
`, "pod/init created")
	k.waitFor(ns, "pod/init", "jsonpath={.status.phase}=Succeeded")
	wantExactLines(t, k.ok("logs", "init", "-n", ns, "-c", "app"), "prepared by init")
	wantExactLines(t, k.ok("logs", "init", "-n", ns, "-c", "prepare"), "init done")
	if got := k.get(ns, "pod/init", "{.status.initContainerStatuses[0].state.terminated.reason}"); got != "Completed" {
		t.Errorf("init container terminated reason = %q, want Completed", got)
	}
	if got := k.get(ns, "pod/init", `{.status.conditions[?(@.type=="Initialized")].status}`); got != "True" {
		t.Errorf("Initialized condition = %q, want True", got)
	}
}

// scenarioConfigMap: a ConfigMap as environment (one key, and all keys
// with a prefix) and as a volume; a change reaches the volume but not the
// environment of the running container.
func scenarioConfigMap(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-configmap")
	wantExactLines(t, k.ok("create", "configmap", "settings", "-n", ns, "--from-literal=key=value1", "--from-literal=color=blue"),
		"configmap/settings created")
	k.apply(ns, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: configured
  namespace: __NS__
spec:
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [sh, -c, '`+sleeperCommand+`']
    env:
    - name: FROM_KEY
      valueFrom:
        configMapKeyRef: {name: settings, key: key}
    envFrom:
    - prefix: CFG_
      configMapRef: {name: settings}
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes:
  - name: cfg
    configMap: {name: settings}
`, "pod/configured created")
	k.waitPodReady(ns, "configured")
	wantExactLines(t, k.execIn(ns, "configured", "sh", "-c", `echo "$FROM_KEY $CFG_key $CFG_color"`), "value1 value1 blue")
	wantExactLines(t, k.execIn(ns, "configured", "cat", "/cfg/key"), "value1")
	wantExactLines(t, k.execIn(ns, "configured", "ls", "/cfg"), "color", "key")

	wantExactLines(t, k.ok("patch", "configmap", "settings", "-n", ns, "--type=merge", "-p", `{"data":{"key":"value2"}}`),
		"configmap/settings patched")
	eventually(t, 60*time.Second, "the new ConfigMap value in the volume", func() (bool, string) {
		r := k.run("exec", "configured", "-n", ns, "--", "cat", "/cfg/key")
		return r.code == 0 && r.stdout == "value2", r.String()
	})
	// The environment is fixed when the container starts.
	wantExactLines(t, k.execIn(ns, "configured", "sh", "-c", `echo "$FROM_KEY"`), "value1")
}

// scenarioSecret: a Secret mounted as files (with a file mode) and as an
// environment variable holds the decoded values.
func scenarioSecret(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-secret")
	const password = "s3cr3t! with spaces"
	wantExactLines(t, k.ok("create", "secret", "generic", "token", "-n", ns, "--from-literal=password="+password, "--from-literal=user=admin"),
		"secret/token created")
	k.apply(ns, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: holder
  namespace: __NS__
spec:
  containers:
  - name: app
    image: `+busyboxImage+`
    command: [sh, -c, '`+sleeperCommand+`']
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {name: token, key: password}
    volumeMounts: [{name: secret, mountPath: /secret, readOnly: true}]
  volumes:
  - name: secret
    secret: {secretName: token, defaultMode: 256}
`, "pod/holder created")
	k.waitPodReady(ns, "holder")
	encoded := k.get(ns, "secret/token", "{.data.password}")
	decoded, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || string(decoded) != password {
		t.Fatalf("secret data.password = %q (%v), want base64 of %q", encoded, err, password)
	}
	if got := k.execIn(ns, "holder", "cat", "/secret/password"); got != string(decoded) {
		t.Errorf("mounted secret file = %q, want %q", got, decoded)
	}
	if got := k.execIn(ns, "holder", "cat", "/secret/user"); got != "admin" {
		t.Errorf("mounted secret file user = %q, want admin", got)
	}
	wantExactLines(t, k.execIn(ns, "holder", "stat", "-L", "-c", "%a", "/secret/password"), "400")
	wantExactLines(t, k.execIn(ns, "holder", "sh", "-c", `echo "$PASSWORD"`), password)
	r := k.run("exec", "holder", "-n", ns, "--", "touch", "/secret/new")
	if r.code == 0 {
		t.Errorf("writing into a read-only secret volume succeeded")
	}
}
