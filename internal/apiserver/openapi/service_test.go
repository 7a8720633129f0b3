package openapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	protoschema "k8s.io/kube-openapi/pkg/util/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/skiff-io/skiff/internal/registry"
)

// testServer serves a Service describing the fixtures.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(resources(servedFixtures())))
	t.Cleanup(srv.Close)
	return srv
}

// fetch sends a request with the given headers, without the transport's
// transparent gzip handling, and returns the response and its raw body.
func fetch(t *testing.T, srv *httptest.Server, method, path string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func get(t *testing.T, srv *httptest.Server, path, accept string) []byte {
	t.Helper()
	resp, body := fetch(t, srv, http.MethodGet, path, map[string]string{"Accept": accept})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

func v3Index(t *testing.T, srv *httptest.Server) handler3.OpenAPIV3Discovery {
	t.Helper()
	var idx handler3.OpenAPIV3Discovery
	if err := json.Unmarshal(get(t, srv, "/openapi/v3", "application/json"), &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

func v3Doc(t *testing.T, srv *httptest.Server, key string) *spec3.OpenAPI {
	t.Helper()
	entry, found := v3Index(t, srv).Paths[key]
	if !found {
		t.Fatalf("index has no %s", key)
	}
	var doc spec3.OpenAPI
	if err := json.Unmarshal(get(t, srv, entry.ServerRelativeURL, "application/json"), &doc); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return &doc
}

func TestV2Document(t *testing.T) {
	srv := testServer(t)
	var sw spec.Swagger
	if err := json.Unmarshal(get(t, srv, "/openapi/v2", "application/json"), &sw); err != nil {
		t.Fatal(err)
	}
	pod, found := sw.Definitions["io.k8s.api.core.v1.Pod"]
	if !found {
		t.Fatal("no io.k8s.api.core.v1.Pod definition")
	}
	var gvks []map[string]string
	if err := pod.Extensions.GetObject(gvkExtension, &gvks); err != nil || len(gvks) != 1 ||
		gvks[0]["group"] != "" || gvks[0]["version"] != "v1" || gvks[0]["kind"] != "Pod" {
		t.Errorf("Pod %s = %v (%v)", gvkExtension, gvks, err)
	}
	if _, found := sw.Definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]; !found {
		t.Error("no ObjectMeta definition")
	}
	if ios := sw.Definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]; ios.Format != "int-or-string" {
		t.Errorf("IntOrString is not the v2 int-or-string schema: %+v", ios.SchemaProps)
	}
	tests := []struct {
		path, method, id string
	}{
		{"/api/v1/namespaces/{namespace}/pods", "post", "createCoreV1NamespacedPod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}", "patch", "patchCoreV1NamespacedPod"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patch", "patchAppsV1NamespacedDeployment"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "put", "replaceAppsV1NamespacedDeployment"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch", "patchAppsV1NamespacedDeploymentScale"},
	}
	for _, tt := range tests {
		item, found := sw.Paths.Paths[tt.path]
		if !found {
			t.Errorf("no path %s", tt.path)
			continue
		}
		op := map[string]*spec.Operation{"post": item.Post, "put": item.Put, "patch": item.Patch}[tt.method]
		if op == nil || op.ID != tt.id {
			t.Errorf("%s %s: operation %+v, want %s", tt.method, tt.path, op, tt.id)
			continue
		}
		if !hasParam(op.Parameters, "fieldValidation") {
			t.Errorf("%s lacks fieldValidation", tt.id)
		}
		if _, found := op.Extensions[gvkExtension]; !found {
			t.Errorf("%s lacks %s", tt.id, gvkExtension)
		}
	}
}

func hasParam(params []spec.Parameter, name string) bool {
	for _, p := range params {
		if p.Name == name && p.In == "query" {
			return true
		}
	}
	return false
}

// TestV2Protobuf checks that the protobuf form decodes as the gnostic
// document kubectl reads and that kubectl's model parser accepts it.
func TestV2Protobuf(t *testing.T) {
	srv := testServer(t)
	for _, accept := range []string{
		"application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
		"application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
	} {
		resp, body := fetch(t, srv, http.MethodGet, "/openapi/v2", map[string]string{"Accept": accept})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", accept, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" {
			t.Errorf("%s: Content-Type %q", accept, ct)
		}
		var doc openapi_v2.Document
		if err := proto.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", accept, err)
		}
		models, err := protoschema.NewOpenAPIData(&doc)
		if err != nil {
			t.Fatal(err)
		}
		pod, ok := models.LookupModel("io.k8s.api.core.v1.Pod").(*protoschema.Kind)
		if !ok {
			t.Fatalf("Pod model is %T", models.LookupModel("io.k8s.api.core.v1.Pod"))
		}
		if _, found := pod.Fields["spec"]; !found {
			t.Errorf("Pod model has no spec field")
		}
		if gvk, found := pod.GetExtensions()[gvkExtension]; !found {
			t.Errorf("Pod model lacks %s: %v", gvkExtension, gvk)
		}
	}
}

func TestV3Index(t *testing.T) {
	srv := testServer(t)
	idx := v3Index(t, srv)
	want := []string{"api", "api/v1", "apis", "version"}
	for _, f := range servedFixtures() {
		if f.group != "" {
			want = append(want, "apis/"+f.group, "apis/"+f.group+"/"+f.version)
		}
	}
	for _, key := range want {
		entry, found := idx.Paths[key]
		if !found {
			t.Errorf("index lacks %s", key)
			continue
		}
		if !strings.HasPrefix(entry.ServerRelativeURL, "/openapi/v3/"+key+"?hash=") {
			t.Errorf("%s: URL %s", key, entry.ServerRelativeURL)
		}
	}
	if len(idx.Paths) != len(uniq(want)) {
		t.Errorf("index has %d entries, want %d: %v", len(idx.Paths), len(uniq(want)), sortedKeys(idx.Paths))
	}
}

func uniq(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

func TestV3PatchStrategyExtensions(t *testing.T) {
	doc := v3Doc(t, testServer(t), "api/v1")
	podSpec, found := doc.Components.Schemas["io.k8s.api.core.v1.PodSpec"]
	if !found {
		t.Fatal("no PodSpec schema")
	}
	containers := podSpec.Properties["containers"]
	want := map[string]interface{}{
		"x-kubernetes-patch-strategy":  "merge",
		"x-kubernetes-patch-merge-key": "name",
		"x-kubernetes-list-type":       "map",
	}
	for k, v := range want {
		if got := containers.Extensions[k]; got != v {
			t.Errorf("PodSpec.containers %s = %v, want %v", k, got, v)
		}
	}
	var keys []string
	if err := containers.Extensions.GetObject("x-kubernetes-list-map-keys", &keys); err != nil || len(keys) != 1 || keys[0] != "name" {
		t.Errorf("PodSpec.containers list-map-keys = %v (%v)", keys, err)
	}
	// v3 references with siblings are wrapped in allOf, as Kubernetes does.
	if meta := doc.Components.Schemas["io.k8s.api.core.v1.Pod"].Properties["metadata"]; len(meta.AllOf) != 1 ||
		meta.AllOf[0].Ref.String() != "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
		t.Errorf("Pod.metadata = %+v", meta.SchemaProps)
	}
}

// TestV3FieldValidationDetection replays kubectl's check for server-side
// field validation on every served kind: some PATCH operation tagged with
// the kind must declare the fieldValidation query parameter.
func TestV3FieldValidationDetection(t *testing.T) {
	srv := testServer(t)
	docs := map[string]*spec3.OpenAPI{}
	for _, r := range resources(servedFixtures()) {
		if r.NewList == nil {
			continue // create-only kinds have no PATCH
		}
		key := docKey(r.GroupVersion())
		if docs[key] == nil {
			docs[key] = v3Doc(t, srv, key)
		}
		found := false
		for _, item := range docs[key].Paths.Paths {
			if item.Patch == nil {
				continue
			}
			var gvk map[string]string
			if err := item.Patch.Extensions.GetObject(gvkExtension, &gvk); err != nil ||
				gvk["group"] != r.Group || gvk["version"] != r.Version || gvk["kind"] != r.Kind {
				continue
			}
			declared := false
			for _, p := range item.Patch.Parameters {
				declared = declared || (p.Name == "fieldValidation" && p.In == "query")
			}
			if !declared {
				t.Errorf("%s: PATCH %s lacks fieldValidation", r.Kind, item.Patch.OperationId)
			}
			found = true
		}
		if !found {
			t.Errorf("%s %s: no PATCH operation tagged with its kind", key, r.Kind)
		}
	}
}

func TestV3Protobuf(t *testing.T) {
	srv := testServer(t)
	url := v3Index(t, srv).Paths["apis/apps/v1"].ServerRelativeURL
	for _, accept := range []string{
		"application/com.github.proto-openapi.spec.v3@v1.0+protobuf",
		"application/com.github.proto-openapi.spec.v3.v1.0+protobuf",
	} {
		resp, body := fetch(t, srv, http.MethodGet, url, map[string]string{"Accept": accept})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v3.v1.0+protobuf" {
			t.Fatalf("%s: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var doc openapi_v3.Document
		if err := proto.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range doc.GetComponents().GetSchemas().GetAdditionalProperties() {
			found = found || s.GetName() == "io.k8s.api.apps.v1.Deployment"
		}
		if !found {
			t.Error("protobuf document lacks the Deployment schema")
		}
	}
}

func TestContentNegotiationAndCaching(t *testing.T) {
	srv := testServer(t)
	appsURL := v3Index(t, srv).Paths["apis/apps/v1"].ServerRelativeURL
	_, v2JSON := fetch(t, srv, http.MethodGet, "/openapi/v2", nil)
	v2ETag := func() string {
		resp, _ := fetch(t, srv, http.MethodHead, "/openapi/v2", nil)
		return resp.Header.Get("Etag")
	}()
	tests := []struct {
		name        string
		method      string
		path        string
		headers     map[string]string
		wantStatus  int
		wantType    string
		wantHeaders map[string]string
	}{
		{"v2 default is JSON", "GET", "/openapi/v2", nil, 200, "application/json", nil},
		{"v2 wildcard", "GET", "/openapi/v2", map[string]string{"Accept": "*/*"}, 200, "application/json", nil},
		{"v2 prefers proto by quality", "GET", "/openapi/v2", map[string]string{"Accept": "application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", nil},
		{"v2 unacceptable", "GET", "/openapi/v2", map[string]string{"Accept": "text/html"}, 406, "", nil},
		{"v2 not modified", "GET", "/openapi/v2", map[string]string{"If-None-Match": v2ETag}, 304, "", map[string]string{"Etag": v2ETag}},
		{"v2 stale etag", "GET", "/openapi/v2", map[string]string{"If-None-Match": `"other"`}, 200, "application/json", nil},
		{"v2 gzip", "GET", "/openapi/v2", map[string]string{"Accept-Encoding": "gzip"}, 200, "application/json", map[string]string{"Content-Encoding": "gzip"}},
		{"v2 head", "HEAD", "/openapi/v2", nil, 200, "application/json", nil},
		{"v2 post", "POST", "/openapi/v2", nil, 405, "", map[string]string{"Allow": "GET, HEAD"}},
		{"v3 index", "GET", "/openapi/v3", nil, 200, "application/json", nil},
		{"v3 hashed", "GET", appsURL, nil, 200, "application/json", map[string]string{"Cache-Control": "public, immutable"}},
		{"v3 unhashed", "GET", "/openapi/v3/apis/apps/v1", nil, 200, "application/json", map[string]string{"Cache-Control": ""}},
		{"v3 stale hash", "GET", "/openapi/v3/apis/apps/v1?hash=0123", nil, 301, "", map[string]string{"Location": appsURL}},
		{"v3 unknown group", "GET", "/openapi/v3/apis/nope/v1", nil, 404, "", nil},
		{"v3 unacceptable", "GET", appsURL, map[string]string{"Accept": "application/xml"}, 406, "", nil},
		{"unrelated path", "GET", "/openapi/v4", nil, 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, srv, tt.method, tt.path, tt.headers)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
			for k, v := range tt.wantHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tt.wantStatus == 200 && tt.method == "GET" && tt.path == "/openapi/v2" && tt.wantType == "application/json" {
				if resp.Header.Get("Content-Encoding") == "gzip" {
					body = gunzip(t, body)
				}
				if !bytes.Equal(body, v2JSON) {
					t.Errorf("body differs from the plain document (%d vs %d bytes)", len(body), len(v2JSON))
				}
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD returned %d bytes", len(body))
			}
		})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocumentsAreDeterministic checks that two services describing the
// same resources publish the same hashes, so clients' caches stay valid
// across server restarts.
func TestDocumentsAreDeterministic(t *testing.T) {
	a, b := v3Index(t, testServer(t)), v3Index(t, testServer(t))
	for key, entry := range a.Paths {
		if b.Paths[key] != entry {
			t.Errorf("%s: %s vs %s", key, entry.ServerRelativeURL, b.Paths[key].ServerRelativeURL)
		}
	}
	ra, _ := fetch(t, testServer(t), http.MethodHead, "/openapi/v2", nil)
	rb, _ := fetch(t, testServer(t), http.MethodHead, "/openapi/v2", nil)
	if ra.Header.Get("Etag") == "" || ra.Header.Get("Etag") != rb.Header.Get("Etag") {
		t.Errorf("v2 ETags %q and %q", ra.Header.Get("Etag"), rb.Header.Get("Etag"))
	}
}

// TestNewIsLazy checks that New builds nothing: resources are only
// instantiated when a document is first requested.
func TestNewIsLazy(t *testing.T) {
	calls := 0
	rs := resources(servedFixtures())
	for _, r := range rs {
		newObj := r.New
		r.New = func() runtime.Object { calls++; return newObj() }
	}
	s := New(rs)
	if calls != 0 {
		t.Fatalf("New instantiated %d objects", calls)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	get(t, srv, "/openapi/v3", "application/json")
	if calls == 0 {
		t.Fatal("serving the index built no document")
	}
	built := calls
	get(t, srv, "/openapi/v3", "application/json")
	get(t, srv, "/openapi/v3/api/v1", "application/json")
	if calls != built {
		t.Errorf("documents were rebuilt: %d more objects", calls-built)
	}
}

func TestBuildErrorIsReported(t *testing.T) {
	rs := []*registry.Resource{{Version: "v1", Resource: "broken", Kind: "Broken"}}
	srv := httptest.NewServer(New(rs))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1"} {
		if resp, body := fetch(t, srv, http.MethodGet, path, nil); resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status %d: %s", path, resp.StatusCode, body)
		}
	}
}

// TestConcurrentFirstRequests checks that requests racing for a document
// that is not built yet all get the same, complete document.
func TestConcurrentFirstRequests(t *testing.T) {
	srv := testServer(t)
	paths := []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1", "/openapi/v3/apis/apps/v1"}
	type result struct {
		path string
		etag string
		code int
	}
	results := make(chan result, 4*len(paths))
	for i := 0; i < 4; i++ {
		for _, p := range paths {
			go func(p string) {
				req, err := http.NewRequest(http.MethodGet, srv.URL+p, nil)
				if err != nil {
					results <- result{path: p}
					return
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					results <- result{path: p}
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				results <- result{p, resp.Header.Get("Etag"), resp.StatusCode}
			}(p)
		}
	}
	etags := map[string]string{}
	for i := 0; i < cap(results); i++ {
		r := <-results
		if r.code != http.StatusOK || r.etag == "" {
			t.Errorf("%s: status %d, etag %q", r.path, r.code, r.etag)
			continue
		}
		if prev, seen := etags[r.path]; seen && prev != r.etag {
			t.Errorf("%s: etags %s and %s", r.path, prev, r.etag)
		}
		etags[r.path] = r.etag
	}
}
