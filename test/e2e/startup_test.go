package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/version"
)

// scenarioBootstrap checks what a fresh cluster holds and reports, through
// kubectl: the four namespaces, the kubernetes Service, the version, and
// the health endpoints.
func scenarioBootstrap(t *testing.T, c Cluster) {
	k := newKubectl(t, c)

	ns := parseTable(t, k.ok("get", "namespaces"))
	ns.wantHeader(t, "NAME", "STATUS", "AGE")
	for _, name := range []string{"default", "kube-node-lease", "kube-public", "kube-system"} {
		ns.wantRow(t, name, map[string]string{"STATUS": "Active"})
	}

	svc := parseTable(t, k.ok("get", "service", "kubernetes", "--namespace", "default"))
	svc.wantHeader(t, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE")
	svc.wantRow(t, "kubernetes", map[string]string{
		"TYPE": "ClusterIP", "CLUSTER-IP": "10.43.0.1", "EXTERNAL-IP": "<none>", "PORT(S)": "443/TCP",
	})
	// kubectl's own context has no namespace: "default" is implied.
	parseTable(t, k.ok("get", "svc", "kubernetes")).wantRow(t, "kubernetes", map[string]string{"CLUSTER-IP": "10.43.0.1"})

	r := k.run("version")
	if r.code != 0 {
		t.Fatalf("kubectl version failed:\n%s", r)
	}
	wantLines(t, r.stdout, "Server Version: "+wantVersion)
	var v struct {
		ServerVersion version.Info `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(k.ok("version", "--output", "json")), &v); err != nil {
		t.Fatalf("kubectl version -o json: %v", err)
	}
	if v.ServerVersion.GitVersion != wantVersion || v.ServerVersion.Major != "1" || v.ServerVersion.Minor != "37" {
		t.Errorf("serverVersion = %+v, want gitVersion %s, major 1, minor 37", v.ServerVersion, wantVersion)
	}

	var info version.Info
	raw := k.ok("get", "--raw", "/version")
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatalf("/version is not JSON: %v\n%s", err, raw)
	}
	if info.GitVersion != wantVersion || info.Major != "1" || info.Minor != "37" || info.GoVersion == "" || info.Platform == "" {
		t.Errorf("/version = %s", raw)
	}

	for _, path := range []string{"/healthz", "/livez", "/readyz"} {
		if out := k.ok("get", "--raw", path); out != "ok" {
			t.Errorf("%s = %q, want ok", path, out)
		}
	}
}

func TestBootstrapProcess(t *testing.T) {
	t.Parallel()
	requireKubectl(t)
	c := startProcess(t)
	t.Logf("time from process start to /readyz ok: %v", c.readyAfter)
	scenarioBootstrap(t, c)

	// `skiff version` prints the version the server reports.
	out, err := exec.Command(skiffBinary, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("skiff version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), wantVersion) {
		t.Errorf("skiff version printed %q, want it to contain %s", out, wantVersion)
	}
}

func TestBootstrapInProcess(t *testing.T) {
	t.Parallel()
	requireKubectl(t)
	scenarioBootstrap(t, startInProcess(t))
}
