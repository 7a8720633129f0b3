package e2e

import (
	"strings"
	"testing"
)

// kubectlImage is busybox plus the real kubectl (built by `make images`).
const kubectlImage = "skiff.local/kubectl:1.32"

// scenarioPodServiceAccount: a pod's mounted token lets kubectl, run inside
// the pod with the in-cluster configuration, act with exactly its
// ServiceAccount's rights (here the view ClusterRole in its namespace).
func scenarioPodServiceAccount(t *testing.T, c *nodeCluster) {
	k, ns := c.scenario(t, "node-satoken")
	k.ok("create", "serviceaccount", "reader", "-n", ns)
	k.ok("create", "rolebinding", "reader-view", "--clusterrole=view", "--serviceaccount="+ns+":reader", "-n", ns)
	k.apply(ns, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: __NS__
spec:
  serviceAccountName: reader
  containers:
  - name: kubectl
    image: `+kubectlImage+`
    command: [sh, -c, '`+sleeperCommand+`']
`, "pod/client created")
	k.waitPodReady(ns, "client")
	const dir = "/var/run/secrets/kubernetes.io/serviceaccount"
	wantExactLines(t, k.execIn(ns, "client", "cat", dir+"/namespace"), ns)
	if out := k.execIn(ns, "client", "cat", dir+"/ca.crt"); !strings.Contains(out, "BEGIN CERTIFICATE") {
		t.Errorf("mounted ca.crt: %q", out)
	}
	if out := k.execIn(ns, "client", "sh", "-c", "echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"); !strings.HasSuffix(strings.TrimSpace(out), ":443") {
		t.Errorf("KUBERNETES_SERVICE_HOST/PORT in the pod: %q", out)
	}
	user := "system:serviceaccount:" + ns + ":reader"
	wantExactLines(t, k.execIn(ns, "client", "kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"), user)
	wantExactLines(t, k.execIn(ns, "client", "kubectl", "get", "pods", "-o", "name"), "pod/client")
	r := k.run("exec", "client", "-n", ns, "--", "kubectl", "create", "configmap", "nope")
	if r.code == 0 || !strings.Contains(r.stderr, `User "`+user+`" cannot create resource "configmaps"`) {
		t.Errorf("creating with a view token inside the pod:\n%s", r)
	}
	r = k.run("exec", "client", "-n", ns, "--", "kubectl", "get", "secrets")
	if r.code == 0 || !strings.Contains(r.stderr, `cannot list resource "secrets"`) {
		t.Errorf("listing secrets with a view token inside the pod:\n%s", r)
	}
}
