package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestSecurity checks authentication, authorization, admission, secrets at
// rest and the audit log with the real kubectl against one `skiff server`
// process running its controllers (service accounts, CSR signing, role
// aggregation, namespace deletion).
func TestSecurity(t *testing.T) {
	requireKubectl(t)
	c := startServer(t, "--disable-scheduler", "--disable-agent", "--disable-dns", "--disable-ingress")
	k := newKubectl(t, c)
	// The default roles are aggregated by a controller: wait for view to
	// have its rules before relying on it.
	waitFor(t, 30*time.Second, "the view ClusterRole to be aggregated", func() error {
		out := k.ok("get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}")
		if !strings.Contains(out, "pods") {
			return fmt.Errorf("view rules: %q", out)
		}
		return nil
	})
	scenarios := []struct {
		name string
		run  func(*testing.T, *processCluster)
	}{
		{"service account with view", scenarioViewServiceAccount},
		{"role with resourceNames", scenarioResourceNames},
		{"user certificate through a CSR", scenarioCSRUser},
		{"unauthenticated and forbidden", scenarioRefusals},
		{"node credentials", scenarioNodeAuthorizer},
		{"terminating namespace", scenarioTerminatingNamespace},
		{"restricted namespace", scenarioPodSecurity},
		{"secrets encrypted in etcd", scenarioSecretsAtRest},
		{"escalation", scenarioEscalation},
	}
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.run(t, c)
			})
		}
	})
	// Every decision above is in the audit log.
	t.Run("audit log", func(t *testing.T) { scenarioAuditLog(t, c) })
}

// waitFor polls cond until it returns nil or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func scenarioViewServiceAccount(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-view")
	k.ok("create", "serviceaccount", "reader", "-n", "sec-view")
	k.ok("create", "rolebinding", "reader-view", "--clusterrole=view", "--serviceaccount=sec-view:reader", "-n", "sec-view")
	k.ok("create", "secret", "generic", "hidden", "--from-literal=k=v", "-n", "sec-view")
	as := "--as=system:serviceaccount:sec-view:reader"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "pods"}, "yes"},
		{[]string{"get", "deployments.apps"}, "yes"},
		{[]string{"create", "pods"}, "no"},
		{[]string{"get", "secrets"}, "no"},
		{[]string{"delete", "configmaps"}, "no"},
		{[]string{"list", "pods", "-n", "default"}, "no"},
	} {
		args := append([]string{"auth", "can-i", as, "-n", "sec-view"}, tc.args...)
		r := k.run(args...)
		if got := strings.TrimSpace(r.stdout); got != tc.want {
			t.Errorf("can-i %v: %q, want %q\n%s", tc.args, got, tc.want, r)
		}
	}
	list := k.ok("auth", "can-i", "--list", as, "-n", "sec-view")
	if !regexpMatch(`(?m)^pods\s+\[\]\s+\[\]\s+\[get list watch\]`, list) || strings.Contains(list, "secrets ") {
		t.Errorf("can-i --list as the view account:\n%s", list)
	}
	// The same answers with the account's own token.
	token := strings.TrimSpace(k.ok("create", "token", "reader", "-n", "sec-view", "--duration=15m"))
	sa := newKubectl(t, pathCluster{c, credentialKubeconfig(t, c, token, nil, nil)})
	if out := sa.ok("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); out != "system:serviceaccount:sec-view:reader" {
		t.Errorf("whoami with the token: %q", out)
	}
	sa.ok("get", "pods", "-n", "sec-view")
	r := sa.fails("run", "nope", "--image=skiff.local/busybox:1.36", "-n", "sec-view")
	if !strings.Contains(r.stderr, `pods is forbidden: User "system:serviceaccount:sec-view:reader" cannot create resource "pods" in API group "" in the namespace "sec-view"`) {
		t.Errorf("create with a view token:\n%s", r)
	}
	r = sa.fails("get", "secret", "hidden", "-n", "sec-view")
	if !strings.Contains(r.stderr, `secrets "hidden" is forbidden`) {
		t.Errorf("reading a secret with a view token:\n%s", r)
	}
	if out := strings.TrimSpace(sa.run("auth", "can-i", "list", "pods", "-n", "sec-view").stdout); out != "yes" {
		t.Errorf("can-i with the token itself: %q", out)
	}
}

func scenarioResourceNames(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-names")
	k.ok("create", "configmap", "allowed", "--from-literal=a=1", "-n", "sec-names")
	k.ok("create", "configmap", "other", "--from-literal=b=2", "-n", "sec-names")
	k.ok("create", "role", "one-config", "--verb=get,update", "--resource=configmaps", "--resource-name=allowed", "-n", "sec-names")
	k.ok("create", "rolebinding", "alice-one", "--role=one-config", "--user=alice", "-n", "sec-names")
	k.ok("get", "configmap", "allowed", "-n", "sec-names", "--as=alice")
	r := k.fails("get", "configmap", "other", "-n", "sec-names", "--as=alice")
	if !strings.Contains(r.stderr, `configmaps "other" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "sec-names"`) {
		t.Errorf("other configmap:\n%s", r)
	}
	r = k.fails("get", "configmaps", "-n", "sec-names", "--as=alice")
	if !strings.Contains(r.stderr, `cannot list resource "configmaps"`) {
		t.Errorf("listing configmaps:\n%s", r)
	}
	for args, want := range map[string]string{"get configmap/allowed": "yes", "get configmap/other": "no", "update configmap/allowed": "yes", "delete configmap/allowed": "no"} {
		if got := strings.TrimSpace(k.run(append([]string{"auth", "can-i", "--as=alice", "-n", "sec-names"}, strings.Fields(args)...)...).stdout); got != want {
			t.Errorf("can-i %s: %q, want %q", args, got, want)
		}
	}
}

func scenarioCSRUser(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	csrPEM, keyPEM := newCSR(t, "carol", "qa-team")
	manifest := fmt.Sprintf(`apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: carol
spec:
  request: %s
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
`, base64.StdEncoding.EncodeToString(csrPEM))
	k.runEnv(nil, manifest, "apply", "-f", "-")
	if out := k.ok("get", "csr", "carol"); !strings.Contains(out, "Pending") || !strings.Contains(out, "kubernetes.io/kube-apiserver-client") {
		t.Errorf("csr before approval:\n%s", out)
	}
	k.ok("certificate", "approve", "carol")
	var certPEM []byte
	waitFor(t, 30*time.Second, "the certificate to be issued", func() error {
		out := k.ok("get", "csr", "carol", "-o", "jsonpath={.status.certificate}")
		if out == "" {
			return fmt.Errorf("no certificate yet")
		}
		var err error
		certPEM, err = base64.StdEncoding.DecodeString(out)
		return err
	})
	if out := k.ok("get", "csr", "carol"); !strings.Contains(out, "Approved,Issued") {
		t.Errorf("csr after approval:\n%s", out)
	}
	carol := newKubectl(t, pathCluster{c, credentialKubeconfig(t, c, "", certPEM, keyPEM)})
	out := carol.ok("auth", "whoami")
	if !strings.Contains(out, "carol") || !strings.Contains(out, "qa-team") || !strings.Contains(out, "system:authenticated") {
		t.Errorf("whoami as carol:\n%s", out)
	}
	r := carol.fails("get", "pods", "-n", "default")
	if !strings.Contains(r.stderr, `User "carol" cannot list resource "pods"`) {
		t.Errorf("carol listing pods:\n%s", r)
	}
}

// scenarioRefusals: no credentials and a forged token get 401, a known
// user without rights 403; health and version stay public.
func scenarioRefusals(t *testing.T, c *processCluster) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	anon := rest.AnonymousClientConfig(cfg)
	client, err := rest.HTTPClientFor(anon)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Join([]string{
		base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"x"}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:kube-system:default","aud":["https://kubernetes.default.svc.cluster.local"],"exp":4102444800}`)),
		base64.RawURLEncoding.EncodeToString([]byte("not a signature")),
	}, ".")
	for _, tc := range []struct {
		name, path, token string
		code              int
	}{
		{"anonymous list", "/api/v1/namespaces", "", http.StatusUnauthorized},
		{"forged token", "/api/v1/namespaces", forged, http.StatusUnauthorized},
		{"garbage token", "/api/v1/namespaces", "abc.def", http.StatusUnauthorized},
		{"anonymous version", "/version", "", http.StatusOK},
		{"anonymous readyz", "/readyz", "", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var st struct{ Kind, Reason string }
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		if tc.code == http.StatusUnauthorized && (st.Kind != "Status" || st.Reason != "Unauthorized") {
			t.Errorf("%s: body %+v, want an Unauthorized Status", tc.name, st)
		}
	}
	k := newKubectl(t, c)
	r := k.fails("get", "secrets", "-n", "default", "--as=mallory")
	if !strings.Contains(r.stderr, `Error from server (Forbidden): secrets is forbidden: User "mallory" cannot list resource "secrets" in API group "" in the namespace "default"`) {
		t.Errorf("mallory listing secrets:\n%s", r)
	}
}

// scenarioNodeAuthorizer: a node's credentials read the Secret of a pod
// bound to it, not the Secret of a pod on another node.
func scenarioNodeAuthorizer(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-node")
	for _, n := range []string{"1", "2"} {
		k.ok("create", "secret", "generic", "s"+n, "--from-literal=k=v", "-n", "sec-node")
		pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: p%[1]s, namespace: sec-node}
spec:
  nodeName: sec-node-%[1]s
  containers: [{name: c, image: skiff.local/busybox:1.36}]
  volumes: [{name: s, secret: {secretName: s%[1]s}}]
`, n)
		k.runEnv(nil, pod, "apply", "-f", "-")
	}
	csrPEM, keyPEM := newCSR(t, "system:node:sec-node-1", "system:nodes")
	manifest := fmt.Sprintf(`apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: sec-node-1}
spec:
  request: %s
  signerName: kubernetes.io/kube-apiserver-client-kubelet
  usages: [digital signature, key encipherment, client auth]
`, base64.StdEncoding.EncodeToString(csrPEM))
	k.runEnv(nil, manifest, "apply", "-f", "-")
	k.ok("certificate", "approve", "sec-node-1")
	var certPEM []byte
	waitFor(t, 30*time.Second, "the node certificate", func() error {
		out := k.ok("get", "csr", "sec-node-1", "-o", "jsonpath={.status.certificate}")
		if out == "" {
			return fmt.Errorf("not issued")
		}
		var err error
		certPEM, err = base64.StdEncoding.DecodeString(out)
		return err
	})
	node := newKubectl(t, pathCluster{c, credentialKubeconfig(t, c, "", certPEM, keyPEM)})
	node.ok("get", "secret", "s1", "-n", "sec-node")
	r := node.fails("get", "secret", "s2", "-n", "sec-node")
	if !strings.Contains(r.stderr, `secrets "s2" is forbidden: User "system:node:sec-node-1" cannot get resource "secrets"`) {
		t.Errorf("node reading another node's secret:\n%s", r)
	}
	r = node.fails("get", "secrets", "-n", "sec-node")
	if !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("node listing secrets:\n%s", r)
	}
	r = node.fails("delete", "pod", "p2", "-n", "sec-node", "--wait=false")
	if !strings.Contains(r.stderr, "forbidden") && !strings.Contains(r.stderr, "not allowed") {
		t.Errorf("node deleting another node's pod:\n%s", r)
	}
}

func scenarioTerminatingNamespace(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-term")
	// A finalizer holds the namespace in Terminating.
	k.runEnv(nil, `apiVersion: v1
kind: ConfigMap
metadata: {name: held, namespace: sec-term, finalizers: [example.com/hold]}
`, "apply", "-f", "-")
	k.ok("delete", "namespace", "sec-term", "--wait=false")
	waitFor(t, 30*time.Second, "the namespace to terminate", func() error {
		if out := k.ok("get", "namespace", "sec-term", "-o", "jsonpath={.status.phase}"); out != "Terminating" {
			return fmt.Errorf("phase %q", out)
		}
		return nil
	})
	r := k.fails("create", "configmap", "late", "-n", "sec-term")
	if !strings.Contains(r.stderr, "unable to create new content in namespace sec-term because it is being terminated") {
		t.Errorf("create in a terminating namespace:\n%s", r)
	}
	k.ok("patch", "configmap", "held", "-n", "sec-term", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
}

func scenarioPodSecurity(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-restricted")
	k.ok("label", "namespace", "sec-restricted", "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")
	privileged := `apiVersion: v1
kind: Pod
metadata: {name: root, namespace: sec-restricted}
spec:
  containers:
  - name: c
    image: skiff.local/busybox:1.36
    securityContext: {privileged: true}
`
	r := k.runEnv(nil, privileged, "apply", "-f", "-")
	if r.code == 0 || !strings.Contains(r.stderr, `violates PodSecurity "restricted:latest"`) || !strings.Contains(r.stderr, "privileged") {
		t.Errorf("privileged pod in a restricted namespace:\n%s", r)
	}
	compliant := `apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: sec-restricted}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: skiff.local/busybox:1.36
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`
	if r := k.runEnv(nil, compliant, "apply", "-f", "-"); r.code != 0 {
		t.Errorf("restricted-compliant pod refused:\n%s", r)
	}
	// Workloads are only warned about (the namespace's warn level).
	r = k.run("create", "deployment", "loose", "--image=skiff.local/busybox:1.36", "-n", "sec-restricted")
	if r.code != 0 || !strings.Contains(r.stderr, `would violate PodSecurity "restricted:latest"`) {
		t.Errorf("deployment in a restricted namespace:\n%s", r)
	}
}

func scenarioSecretsAtRest(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-etcd")
	value := "plaintext-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	k.ok("create", "secret", "generic", "pw", "--from-literal=password="+value, "-n", "sec-etcd")
	if got := k.ok("get", "secret", "pw", "-n", "sec-etcd", "-o", "jsonpath={.data.password}"); got != base64.StdEncoding.EncodeToString([]byte(value)) {
		t.Errorf("secret through the API: %q", got)
	}
	raw := func() []byte {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{fmt.Sprintf("http://127.0.0.1:%d", c.etcdPort)}, DialTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		resp, err := cli.Get(t.Context(), "/registry/core/secrets/sec-etcd/pw")
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("reading etcd: %v %v", resp, err)
		}
		return resp.Kvs[0].Value
	}
	data := raw()
	if bytes.Contains(data, []byte(value)) || bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString([]byte(value)))) {
		t.Fatalf("the secret's value is readable in etcd: %q", data)
	}
	if !bytes.HasPrefix(data, []byte("k8s:enc:aesgcm:v1:")) {
		t.Errorf("etcd value %q is not AES-GCM encrypted", data[:min(len(data), 40)])
	}
	before := string(data[:bytes.IndexByte(data[len("k8s:enc:aesgcm:v1:"):], ':')+len("k8s:enc:aesgcm:v1:")])
	out, err := runSkiff(t, "secrets-encrypt", "rotate", "--kubeconfig", c.Kubeconfig())
	if err != nil {
		t.Fatalf("skiff secrets-encrypt rotate: %v\n%s", err, out)
	}
	data = raw()
	if bytes.HasPrefix(data, []byte(before+":")) || !bytes.HasPrefix(data, []byte("k8s:enc:aesgcm:v1:")) {
		t.Errorf("after rotation the secret is still under %s: %q", before, data[:min(len(data), 40)])
	}
	if got := k.ok("get", "secret", "pw", "-n", "sec-etcd", "-o", "jsonpath={.data.password}"); got != base64.StdEncoding.EncodeToString([]byte(value)) {
		t.Errorf("secret after rotation: %q", got)
	}
}

// scenarioEscalation: a namespace admin cannot grant what they do not
// hold.
func scenarioEscalation(t *testing.T, c *processCluster) {
	k := newKubectl(t, c)
	k.ok("create", "namespace", "sec-esc")
	k.ok("create", "rolebinding", "dana-admin", "--clusterrole=admin", "--user=dana", "-n", "sec-esc")
	// admin may create roles with rules it holds...
	k.ok("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", "sec-esc", "--as=dana")
	// ...but not one touching nodes, nor bind cluster-admin.
	r := k.fails("create", "role", "node-reader", "--verb=get", "--resource=nodes", "-n", "sec-esc", "--as=dana")
	if !strings.Contains(r.stderr, "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("escalating role:\n%s", r)
	}
	r = k.fails("create", "rolebinding", "dana-root", "--clusterrole=cluster-admin", "--user=dana", "-n", "sec-esc", "--as=dana")
	if !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("binding cluster-admin:\n%s", r)
	}
}

func scenarioAuditLog(t *testing.T, c *processCluster) {
	path := filepath.Join(c.dataDir, "audit", "audit.log")
	var events []map[string]any
	waitFor(t, 10*time.Second, "audit events", func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		events = events[:0]
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal(line, &ev); err != nil {
				return fmt.Errorf("audit line %q: %w", line, err)
			}
			events = append(events, ev)
		}
		if len(events) == 0 {
			return fmt.Errorf("empty")
		}
		return nil
	})
	find := func(what string, match func(ev map[string]any) bool) {
		for _, ev := range events {
			if match(ev) {
				return
			}
		}
		t.Errorf("no audit event for %s among %d", what, len(events))
	}
	str := func(ev map[string]any, path string) string { s, _ := lookup(ev, path).(string); return s }
	annotation := func(ev map[string]any, key string) string {
		ann, _ := ev["annotations"].(map[string]any)
		s, _ := ann[key].(string)
		return s
	}
	code := func(ev map[string]any) float64 { f, _ := lookup(ev, "responseStatus.code").(float64); return f }
	find("mallory's 403", func(ev map[string]any) bool {
		return str(ev, "impersonatedUser.username") == "mallory" && code(ev) == 403 && annotation(ev, "authorization.k8s.io/decision") == "forbid"
	})
	find("the anonymous 401", func(ev map[string]any) bool { return code(ev) == 401 })
	find("the service account's pod list", func(ev map[string]any) bool {
		return str(ev, "user.username") == "system:serviceaccount:sec-view:reader" && str(ev, "verb") == "list" && code(ev) == 200
	})
	find("the refused privileged pod", func(ev map[string]any) bool {
		return str(ev, "objectRef.namespace") == "sec-restricted" && str(ev, "objectRef.resource") == "pods" && code(ev) == 403
	})
	find("the created secret", func(ev map[string]any) bool {
		return str(ev, "objectRef.namespace") == "sec-etcd" && str(ev, "verb") == "create" && code(ev) == 201
	})
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
