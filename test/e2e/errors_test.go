package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// errorCase is one bad request made with kubectl: the files it needs, the
// command, and what kubectl must print on stderr (exit code 1 always).
type errorCase struct {
	name  string
	files map[string]string
	setup [][]string // commands run (and required to succeed) first
	args  []string
	// stderr must be exactly these lines, or match the pattern.
	stderr  []string
	pattern string
	// gone names an object (kubectl get arguments) that must not exist
	// afterwards: bad input changes nothing.
	gone []string
	// noNamespace: do not add -n <namespace> (the case sets its own).
	noNamespace bool
}

func manifest(kind, apiVersion, name, ns, body string) string {
	return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n" + body
}

func errorCases(ns string) []errorCase {
	const brokenJSON = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"`
	const unknownField = "spec:\n  foo: bar\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: [{name: a, image: nginx}]\n"
	long := strings.Repeat("a", 64)
	return []errorCase{
		{
			name:   "malformed JSON on create",
			files:  map[string]string{"broken.json": brokenJSON + "\n"},
			args:   []string{"create", "--raw", "/api/v1/namespaces/" + ns + "/configmaps", "-f", "broken.json"},
			stderr: []string{`Error from server (BadRequest): the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Con ...)`},
			gone:   []string{"configmap", "broken"},
		},
		{
			name:   "malformed JSON on update",
			files:  map[string]string{"broken.json": brokenJSON + "\n"},
			setup:  [][]string{{"create", "configmap", "target", "--from-literal=keep=me"}},
			args:   []string{"replace", "--raw", "/api/v1/namespaces/" + ns + "/configmaps/target", "-f", "broken.json"},
			stderr: []string{`Error from server (BadRequest): the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Con ...)`},
		},
		{
			name:   "JSON of the wrong type",
			files:  map[string]string{"typed.json": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typed"},"data":{"a":1}}`},
			args:   []string{"create", "--raw", "/api/v1/namespaces/" + ns + "/configmaps", "-f", "typed.json"},
			stderr: []string{`Error from server (BadRequest): ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string`},
			gone:   []string{"configmap", "typed"},
		},
		{
			name:    "malformed YAML (kubectl parses it)",
			files:   map[string]string{"broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n data: [\n"},
			args:    []string{"create", "-f", "broken.yaml"},
			pattern: `^error: error parsing broken\.yaml: error converting YAML to JSON: yaml: line \d+: .+\n$`,
		},
		{
			name:   "name that is not a DNS subdomain",
			args:   []string{"create", "configmap", "Bad_Name"},
			stderr: []string{`error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		},
		{
			name:    "service name that is not a DNS label",
			files:   map[string]string{"svc.yaml": manifest("Service", "v1", "1-svc", ns, "spec:\n  ports: [{port: 80}]\n")},
			args:    []string{"create", "-f", "svc.yaml"},
			pattern: `^The Service "1-svc" is invalid: metadata\.name: Invalid value: "1-svc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character \(e\.g\. 'my-name',\s+or 'abc-123', regex used for validation is '\[a-z\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?'\)\n$`,
			gone:    []string{"service", "1-svc"},
		},
		{
			name:   "namespace name that is not a DNS label",
			args:   []string{"create", "namespace", "bad.ns"},
			stderr: []string{`The Namespace "bad.ns" is invalid: metadata.name: Invalid value: "bad.ns": must not contain dots`},
		},
		{
			name:    "namespace name with capitals",
			args:    []string{"create", "namespace", "BadNS"},
			pattern: `^The Namespace "BadNS" is invalid: metadata\.name: Invalid value: "BadNS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character \(e\.g\. 'my-name',\s+or '123-abc', regex used for validation is '\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?'\)\n$`,
		},
		{
			name:    "label value over 63 characters",
			files:   map[string]string{"label.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: long-label\n  namespace: " + ns + "\n  labels:\n    x: " + long + "\n"},
			args:    []string{"create", "-f", "label.yaml"},
			pattern: `^The ConfigMap "long-label" is invalid: metadata\.labels: Invalid value: "` + long + `": must be no more than 63 (bytes|characters)\n$`,
			gone:    []string{"configmap", "long-label"},
		},
		{
			name:   "pod without containers",
			files:  map[string]string{"pod.yaml": manifest("Pod", "v1", "no-containers", ns, "spec:\n  containers: []\n")},
			args:   []string{"create", "-f", "pod.yaml"},
			stderr: []string{`The Pod "no-containers" is invalid: spec.containers: Required value`},
			gone:   []string{"pod", "no-containers"},
		},
		{
			name:   "duplicate container names",
			files:  map[string]string{"pod.yaml": manifest("Pod", "v1", "dup-names", ns, "spec:\n  containers:\n  - {name: app, image: nginx}\n  - {name: app, image: busybox}\n")},
			args:   []string{"create", "-f", "pod.yaml"},
			stderr: []string{`The Pod "dup-names" is invalid: spec.containers[1].name: Duplicate value: "app"`},
			gone:   []string{"pod", "dup-names"},
		},
		{
			name: "duplicate container port names and host ports",
			files: map[string]string{"pod.yaml": manifest("Pod", "v1", "dup-ports", ns, "spec:\n  containers:\n  - name: app\n    image: nginx\n    ports:\n"+
				"    - {containerPort: 80, name: http}\n    - {containerPort: 81, name: http}\n    - {containerPort: 82, hostPort: 8080}\n    - {containerPort: 83, hostPort: 8080}\n")},
			args: []string{"create", "-f", "pod.yaml"},
			stderr: []string{
				`The Pod "dup-ports" is invalid:`,
				`* spec.containers[0].ports[1].name: Duplicate value: "http"`,
				`* spec.containers[0].ports[3].hostPort: Duplicate value: "TCP//8080"`,
			},
			gone: []string{"pod", "dup-ports"},
		},
		{
			name:    "duplicate service ports",
			files:   map[string]string{"svc.yaml": manifest("Service", "v1", "dup-svc-ports", ns, "spec:\n  ports:\n  - {name: a, port: 80}\n  - {name: b, port: 80}\n")},
			args:    []string{"create", "-f", "svc.yaml"},
			pattern: `^The Service "dup-svc-ports" is invalid: spec\.ports\[1\]: Duplicate value: .*80.*\n$`,
			gone:    []string{"service", "dup-svc-ports"},
		},
		{
			name: "selector that does not match the template's labels",
			files: map[string]string{"deploy.yaml": manifest("Deployment", "apps/v1", "mismatch", ns,
				"spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n      containers: [{name: a, image: nginx}]\n")},
			args:    []string{"create", "-f", "deploy.yaml"},
			pattern: "^The Deployment \"mismatch\" is invalid: spec\\.template\\.metadata\\.labels: Invalid value: .*\"app\":\"b\".*: `selector` does not match template `labels`\\n$",
			gone:    []string{"deployment", "mismatch"},
		},
		{
			name:   "unknown field, strict validation (create)",
			files:  map[string]string{"unknown.yaml": manifest("Deployment", "apps/v1", "unknown", ns, unknownField)},
			args:   []string{"create", "-f", "unknown.yaml"},
			stderr: []string{`Error from server (BadRequest): error when creating "unknown.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"`},
			gone:   []string{"deployment", "unknown"},
		},
		{
			name:   "unknown field, strict validation (apply)",
			files:  map[string]string{"unknown.yaml": manifest("Deployment", "apps/v1", "unknown", ns, unknownField)},
			args:   []string{"apply", "-f", "unknown.yaml"},
			stderr: []string{`Error from server (BadRequest): error when creating "unknown.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"`},
			gone:   []string{"deployment", "unknown"},
		},
		{
			name:   "AlreadyExists (create -f)",
			files:  map[string]string{"exists.yaml": manifest("ConfigMap", "v1", "exists", ns, "data: {a: b}\n")},
			setup:  [][]string{{"create", "-f", "exists.yaml"}},
			args:   []string{"create", "-f", "exists.yaml"},
			stderr: []string{`Error from server (AlreadyExists): error when creating "exists.yaml": configmaps "exists" already exists`},
		},
		{
			name:   "AlreadyExists (create deployment)",
			setup:  [][]string{{"create", "deployment", "twice", "--image=nginx"}},
			args:   []string{"create", "deployment", "twice", "--image=nginx"},
			stderr: []string{`error: failed to create deployment: deployments.apps "twice" already exists`},
		},
		{
			name:   "NotFound (configmap)",
			args:   []string{"get", "configmap", "nope"},
			stderr: []string{`Error from server (NotFound): configmaps "nope" not found`},
		},
		{
			name:   "NotFound (deployment, patch)",
			args:   []string{"patch", "deployment", "nope", "-p", `{"spec":{"replicas":2}}`},
			stderr: []string{`Error from server (NotFound): deployments.apps "nope" not found`},
		},
		{
			name:   "NotFound (cluster-scoped)",
			args:   []string{"get", "namespace", "no-such-namespace"},
			stderr: []string{`Error from server (NotFound): namespaces "no-such-namespace" not found`},
		},
		{
			name:        "namespace that does not exist (create -f)",
			files:       map[string]string{"orphan.yaml": manifest("ConfigMap", "v1", "orphan", "missing-ns", "data: {a: b}\n")},
			args:        []string{"create", "-f", "orphan.yaml"},
			stderr:      []string{`Error from server (NotFound): error when creating "orphan.yaml": namespaces "missing-ns" not found`},
			noNamespace: true,
		},
		{
			name:        "namespace that does not exist (create configmap)",
			args:        []string{"create", "configmap", "orphan", "--namespace=missing-ns"},
			stderr:      []string{`error: failed to create configmap: namespaces "missing-ns" not found`},
			noNamespace: true,
		},
		{
			name:    "immutable field on update",
			setup:   [][]string{{"create", "deployment", "fixed", "--image=nginx"}},
			args:    []string{"patch", "deployment", "fixed", "--type=merge", "-p", `{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}`},
			pattern: `^The Deployment "fixed" is invalid: spec\.selector: Invalid value: .*: field is immutable\n$`,
		},
		{
			name:   "node port out of range",
			files:  map[string]string{"svc.yaml": manifest("Service", "v1", "far-port", ns, "spec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 40000}]\n")},
			args:   []string{"create", "-f", "svc.yaml"},
			stderr: []string{`The Service "far-port" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767`},
			gone:   []string{"service", "far-port"},
		},
		{
			name:    "cluster IP outside the service CIDR",
			files:   map[string]string{"svc.yaml": manifest("Service", "v1", "far-ip", ns, "spec:\n  clusterIP: 192.168.0.10\n  ports: [{port: 80}]\n")},
			args:    []string{"create", "-f", "svc.yaml"},
			pattern: `^The Service "far-ip" is invalid: spec\.clusterIPs: Invalid value: .*192\.168\.0\.10.*: failed to allocate IP 192\.168\.0\.10: .*\n$`,
			gone:    []string{"service", "far-ip"},
		},
	}
}

// scenarioErrors: every error case of the issue through kubectl, each
// with Kubernetes' message and exit code 1, and without side effects.
func scenarioErrors(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-errors")
	for _, tc := range errorCases(ns) {
		t.Run(tc.name, func(t *testing.T) {
			k := newKubectl(t, c)
			for name, content := range tc.files {
				k.write(name, content)
			}
			for _, args := range tc.setup {
				k.ok(append(args, "-n", ns)...)
			}
			args := tc.args
			if !tc.noNamespace {
				args = append(args, "-n", ns)
			}
			r := k.fails(args...)
			if tc.stderr != nil {
				wantExactLines(t, r.stderr, tc.stderr...)
			}
			if tc.pattern != "" && !regexp.MustCompile(tc.pattern).MatchString(r.stderr) {
				t.Errorf("stderr does not match %q:\n%s", tc.pattern, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if tc.gone != nil {
				g := k.fails(append([]string{"get"}, append(tc.gone, "-n", ns)...)...)
				wantContains(t, g.stderr, "(NotFound)")
			}
		})
	}

	t.Run("update of a stale copy (Conflict)", func(t *testing.T) {
		k := newKubectl(t, c)
		k.ok("create", "configmap", "conflicted", "--from-literal=v=1", "-n", ns)
		k.write("old.yaml", k.ok("get", "configmap", "conflicted", "-n", ns, "-o", "yaml"))
		k.ok("patch", "configmap", "conflicted", "-n", ns, "--type=merge", "-p", `{"data":{"v":"2"}}`)
		r := k.fails("replace", "-f", "old.yaml")
		wantExactLines(t, r.stderr, `Error from server (Conflict): error when replacing "old.yaml": Operation cannot be fulfilled on configmaps "conflicted": the object has been modified; please apply your changes to the latest version and try again`)
		if got := k.ok("get", "configmap", "conflicted", "-n", ns, "-o", "jsonpath={.data.v}"); got != "2" {
			t.Errorf("after a refused replace: v = %q, want 2", got)
		}
		// Without a resourceVersion the update is unconditional.
		var unversioned []string
		for _, line := range strings.Split(k.ok("get", "configmap", "conflicted", "-n", ns, "-o", "yaml"), "\n") {
			if !strings.HasPrefix(line, "  resourceVersion:") {
				unversioned = append(unversioned, strings.Replace(line, "v: \"2\"", "v: \"3\"", 1))
			}
		}
		k.write("unversioned.yaml", strings.Join(unversioned, "\n"))
		wantExactLines(t, k.ok("replace", "-f", "unversioned.yaml"), "configmap/conflicted replaced")
		if got := k.ok("get", "configmap", "conflicted", "-n", ns, "-o", "jsonpath={.data.v}"); got != "3" {
			t.Errorf("after an unconditional replace: v = %q, want 3", got)
		}
	})

	t.Run("unknown field, other validation levels", func(t *testing.T) {
		k := newKubectl(t, c)
		body := "spec:\n  foo: bar\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: [{name: a, image: nginx}]\n"
		k.write("warn.yaml", manifest("Deployment", "apps/v1", "unknown-warn", ns, body))
		r := k.run("create", "-f", "warn.yaml", "--validate=warn")
		if r.code != 0 {
			t.Fatalf("--validate=warn: want success, got:\n%s", r)
		}
		wantExactLines(t, r.stdout, "deployment.apps/unknown-warn created")
		wantExactLines(t, r.stderr, `Warning: unknown field "spec.foo"`)
		k.write("ignore.yaml", manifest("Deployment", "apps/v1", "unknown-ignore", ns, body))
		r = k.run("create", "-f", "ignore.yaml", "--validate=false")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("--validate=false: want success without warnings, got:\n%s", r)
		}
		wantExactLines(t, r.stdout, "deployment.apps/unknown-ignore created")
	})

	t.Run("duplicate container ports are a warning", func(t *testing.T) {
		k := newKubectl(t, c)
		k.write("pod.yaml", manifest("Pod", "v1", "same-port", ns, "spec:\n  containers:\n  - name: app\n    image: nginx\n    ports:\n    - {containerPort: 80}\n    - {containerPort: 80}\n"))
		r := k.run("create", "-f", "pod.yaml")
		if r.code != 0 {
			t.Fatalf("want success, got:\n%s", r)
		}
		wantExactLines(t, r.stdout, "pod/same-port created")
		wantExactLines(t, r.stderr, "Warning: spec.containers[0].ports[1]: duplicate port definition with spec.containers[0].ports[0]")
	})

	t.Run("request body over 3 MiB (413)", func(t *testing.T) {
		k := newKubectl(t, c)
		big, _ := json.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "huge", "namespace": ns},
			"data":     map[string]string{"blob": strings.Repeat("x", 3<<20)},
		})
		k.write("huge.json", string(big))
		r := k.fails("create", "-f", "huge.json")
		wantExactLines(t, r.stderr, `Error from server (RequestEntityTooLarge): error when creating "huge.json": Request entity too large: limit is 3145728`)
		r = k.fails("create", "--raw", "/api/v1/namespaces/"+ns+"/configmaps", "-f", "huge.json")
		wantExactLines(t, r.stderr, `Error from server (RequestEntityTooLarge): Request entity too large: limit is 3145728`)
		k.fails("get", "configmap", "huge", "-n", ns)

		// Under the cap but over a ConfigMap's 1 MiB: a validation error.
		large, _ := json.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "large", "namespace": ns},
			"data":     map[string]string{"blob": strings.Repeat("x", 2<<20)},
		})
		k.write("large.json", string(large))
		r = k.fails("create", "-f", "large.json")
		wantContains(t, r.stderr, `The ConfigMap "large" is invalid: `, "Too long: may not be more than 1048576 bytes")
	})

	t.Run("malformed YAML sent to the server", func(t *testing.T) {
		code, body := rawRequest(t, c, http.MethodPost, "/api/v1/namespaces/"+ns+"/configmaps", "application/yaml",
			[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n data: [\n"))
		var st metav1.Status
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("response is not a Status: %v\n%s", err, body)
		}
		if code != http.StatusBadRequest || st.Reason != metav1.StatusReasonBadRequest ||
			!strings.HasPrefix(st.Message, "the object provided is unrecognized (must be of type ConfigMap): error converting YAML to JSON: yaml: line ") {
			t.Errorf("malformed YAML: %d %s, want 400 BadRequest \"the object provided is unrecognized (must be of type ConfigMap): error converting YAML to JSON: yaml: line ...\"", code, body)
		}
	})
}
