package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/munnerz/goautoneg"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"

	"github.com/skiff-io/skiff/internal/registry"
)

// Paths the service answers.
const (
	pathV2 = "/openapi/v2"
	pathV3 = "/openapi/v3"
)

// Media types of the documents. Kubernetes accepts two spellings of each
// protobuf type and answers with the dotted one.
const (
	mediaJSON         = "application/json"
	subtypeJSON       = "json"
	protoV2           = "com.github.proto-openapi.spec.v2.v1.0+protobuf"
	protoV2Deprecated = "com.github.proto-openapi.spec.v2@v1.0+protobuf"
	protoV3           = "com.github.proto-openapi.spec.v3.v1.0+protobuf"
	protoV3Deprecated = "com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// Service serves the OpenAPI v2 and v3 documents describing a fixed set of
// resources. Documents are built on their first request and kept only in
// serialized, compressed form. A Service is safe for concurrent use.
type Service struct {
	resources []*registry.Resource
	scheme    *runtime.Scheme

	v2 func() (*document, error)
	v3 func() (*v3Documents, error)
}

// v3Documents are the per-group-version documents by key ("api/v1",
// "apis/apps/v1") and the index pointing at them.
type v3Documents struct {
	index  *document
	groups map[string]*document
}

// New returns a Service describing resources. It does no work up front:
// the documents are built when first requested.
func New(resources []*registry.Resource) *Service {
	s := &Service{
		resources: append([]*registry.Resource(nil), resources...),
		scheme:    scheme.Scheme,
	}
	s.v2 = sync.OnceValues(s.buildV2)
	s.v3 = sync.OnceValues(s.buildV3)
	return s
}

// ServeHTTP answers GET and HEAD requests for /openapi/v2, /openapi/v3 (the
// index of group versions) and /openapi/v3/<group version path>, e.g.
// /openapi/v3/apis/apps/v1. Other paths get 404.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if p != pathV2 && p != pathV3 && !strings.HasPrefix(p, pathV3+"/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case p == pathV2:
		s.serveV2(w, r)
	case p == pathV3:
		s.serveV3Index(w, r)
	default:
		s.serveV3Group(w, r, strings.TrimPrefix(p, pathV3+"/"))
	}
}

func (s *Service) serveV2(w http.ResponseWriter, r *http.Request) {
	d, err := s.v2()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Add("Vary", "Accept")
	switch negotiate(r.Header.Get("Accept"), protoV2, protoV2Deprecated) {
	case subtypeJSON:
		d.serve(w, r, mediaJSON, d.json)
	case protoV2:
		s.serveProto(w, r, d, "application/"+protoV2)
	default:
		http.Error(w, "only application/json and application/"+protoV2+" are available", http.StatusNotAcceptable)
	}
}

func (s *Service) serveV3Index(w http.ResponseWriter, r *http.Request) {
	docs, err := s.v3()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	docs.index.serve(w, r, mediaJSON, docs.index.json)
}

func (s *Service) serveV3Group(w http.ResponseWriter, r *http.Request, key string) {
	docs, err := s.v3()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d, found := docs.groups[key]
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Add("Vary", "Accept")
	format := negotiate(r.Header.Get("Accept"), protoV3, protoV3Deprecated)
	if format == "" {
		http.Error(w, "only application/json and application/"+protoV3+" are available", http.StatusNotAcceptable)
		return
	}
	// A URL with the current hash names content that never changes, so
	// clients may cache it indefinitely; a stale hash is redirected.
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != d.etag {
			http.Redirect(w, r, serverRelativeURL(key, d.etag), http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", d.lastModified.AddDate(1, 0, 0).Format(http.TimeFormat))
	}
	if format == subtypeJSON {
		d.serve(w, r, mediaJSON, d.json)
		return
	}
	s.serveProto(w, r, d, "application/"+protoV3)
}

func (s *Service) serveProto(w http.ResponseWriter, r *http.Request, d *document, contentType string) {
	pb, err := d.proto()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d.serve(w, r, contentType, pb)
}

// negotiate picks the format an Accept header prefers: "json", proto (when
// the client accepts proto or its deprecated spelling) or "" when neither is
// acceptable. A missing header accepts anything, and JSON wins ties.
func negotiate(accept, proto, protoDeprecated string) string {
	if accept == "" {
		accept = "*/*"
	}
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Q <= 0 || (c.Type != "application" && c.Type != "*") {
			continue
		}
		switch c.SubType {
		case subtypeJSON, "*":
			return subtypeJSON
		case proto, protoDeprecated:
			return proto
		}
	}
	return ""
}

func serverRelativeURL(key, etag string) string {
	return (&url.URL{Path: pathV3 + "/" + key, RawQuery: url.Values{"hash": {etag}}.Encode()}).String()
}

func (s *Service) buildV2() (*document, error) {
	defer releaseMemory()
	docs, err := apiDocuments(s.resources, s.scheme)
	if err != nil {
		return nil, err
	}
	raw, err := buildV2(allContainers(docs), newKindIndex(s.scheme, servedGroupVersions(s.resources)))
	if err != nil {
		return nil, err
	}
	return newDocument(raw, handler.ToProtoBinary, releaseMemory)
}

func (s *Service) buildV3() (*v3Documents, error) {
	defer releaseMemory()
	docs, err := apiDocuments(s.resources, s.scheme)
	if err != nil {
		return nil, err
	}
	b := newV3Builder(newKindIndex(s.scheme, servedGroupVersions(s.resources)))
	out := &v3Documents{groups: make(map[string]*document, len(docs))}
	index := handler3.OpenAPIV3Discovery{Paths: make(map[string]handler3.OpenAPIV3DiscoveryGroupVersion, len(docs))}
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		raw, err := b.build(docs[key])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		d, err := newDocument(raw, handler3.ToV3ProtoBinary, releaseMemory)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out.groups[key] = d
		releaseMemory()
		index.Paths[key] = handler3.OpenAPIV3DiscoveryGroupVersion{ServerRelativeURL: serverRelativeURL(key, d.etag)}
	}
	raw, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("encoding OpenAPI v3 index: %w", err)
	}
	out.index, err = newDocument(raw, nil, releaseMemory)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// releaseMemory returns the memory a document build used to the operating
// system at once. Building allocates a few hundred megabytes of short-lived
// spec structures; without this the process keeps them mapped for minutes,
// well above the server's idle memory budget.
func releaseMemory() {
	debug.FreeOSMemory()
}
