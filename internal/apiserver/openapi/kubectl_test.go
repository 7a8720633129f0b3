package openapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiff-io/skiff/internal/registry"
)

// fakeAPIServer serves just enough of the Kubernetes API for kubectl to run
// against the OpenAPI service: legacy discovery, 404 for every object and an
// echo for creates, recording the query of each write.
type fakeAPIServer struct {
	resources []*registry.Resource
	openapi   http.Handler

	mu     sync.Mutex
	writes []string // "METHOD path?query"
}

func (f *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/openapi/"):
		f.openapi.ServeHTTP(w, r)
	case r.URL.Path == "/api":
		writeJSON(w, http.StatusOK, &metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}},
		})
	case r.URL.Path == "/apis":
		writeJSON(w, http.StatusOK, f.groups())
	case r.Method == http.MethodGet && f.resourceList(r.URL.Path) != nil:
		writeJSON(w, http.StatusOK, f.resourceList(r.URL.Path))
	case r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut:
		f.mu.Lock()
		f.writes = append(f.writes, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		f.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	default:
		writeJSON(w, http.StatusNotFound, &metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound,
			Message: "not found",
		})
	}
}

func (f *fakeAPIServer) groups() *metav1.APIGroupList {
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	index := map[string]int{}
	for _, r := range f.resources {
		if r.Group == "" {
			continue
		}
		gv := metav1.GroupVersionForDiscovery{GroupVersion: r.GroupVersion().String(), Version: r.Version}
		i, ok := index[r.Group]
		if !ok {
			index[r.Group] = len(list.Groups)
			list.Groups = append(list.Groups, metav1.APIGroup{Name: r.Group, PreferredVersion: gv})
			i = index[r.Group]
		}
		g := &list.Groups[i]
		if !containsVersion(g.Versions, gv) {
			g.Versions = append(g.Versions, gv)
		}
	}
	return list
}

func containsVersion(list []metav1.GroupVersionForDiscovery, gv metav1.GroupVersionForDiscovery) bool {
	for _, v := range list {
		if v == gv {
			return true
		}
	}
	return false
}

func (f *fakeAPIServer) resourceList(path string) *metav1.APIResourceList {
	var gv schema.GroupVersion
	switch parts := strings.Split(strings.Trim(path, "/"), "/"); {
	case len(parts) == 2 && parts[0] == "api":
		gv = schema.GroupVersion{Version: parts[1]}
	case len(parts) == 3 && parts[0] == "apis":
		gv = schema.GroupVersion{Group: parts[1], Version: parts[2]}
	default:
		return nil
	}
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for _, r := range f.resources {
		if r.GroupVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: r.Resource, SingularName: strings.ToLower(r.Kind), Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: registry.Verbs,
		})
		for _, s := range r.Subresources {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: r.Resource + "/" + s.Name, Namespaced: r.Namespaced, Kind: r.Kind, Verbs: s.Verbs,
			})
		}
	}
	if len(list.APIResources) == 0 {
		return nil
	}
	return list
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// kubectlEnv starts the fake API server and returns a function running
// kubectl against it.
func kubectlEnv(t *testing.T) (*fakeAPIServer, func(args ...string) (string, error)) {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	rs := resources(servedFixtures())
	fake := &fakeAPIServer{resources: rs, openapi: New(rs)}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return fake, func(args ...string) (string, error) {
		args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(dir, "cache")}, args...)
		out, err := exec.Command(path, args...).CombinedOutput()
		return string(out), err
	}
}

func TestKubectlExplain(t *testing.T) {
	_, kubectl := kubectlEnv(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"explain", "pods.spec.containers"}, []string{"KIND:       Pod", "FIELD: containers <[]Container>", "imagePullPolicy"}},
		{[]string{"explain", "deployments.spec.strategy", "--recursive"}, []string{"GROUP:      apps", "rollingUpdate", "maxSurge"}},
		{[]string{"explain", "horizontalpodautoscalers.spec", "--api-version", "autoscaling/v2"}, []string{"VERSION:    v2", "scaleTargetRef"}},
		{[]string{"explain", "ingresses"}, []string{"GROUP:      networking.k8s.io", "spec"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := kubectl(tt.args...)
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", tt.args, err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestKubectlServerSideValidation checks that kubectl, validating by
// default, detects server-side field validation from the documents: it then
// leaves unknown fields to the server (sending fieldValidation=Strict)
// instead of rejecting them itself after validating against the schema.
func TestKubectlServerSideValidation(t *testing.T) {
	fake, kubectl := kubectlEnv(t)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  unknownField: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b}
unknownField: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
	}{
		{[]string{"create", "-f", manifest}},
		{[]string{"apply", "-f", manifest}},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			fake.mu.Lock()
			fake.writes = nil
			fake.mu.Unlock()
			out, err := kubectl(tt.args...)
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", tt.args, err, out)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if len(fake.writes) != 2 {
				t.Fatalf("writes = %v, want 2", fake.writes)
			}
			for _, w := range fake.writes {
				if !strings.Contains(w, "fieldValidation=Strict") {
					t.Errorf("write %q does not ask for server-side validation", w)
				}
			}
		})
	}
}
