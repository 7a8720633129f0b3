// Package apiserver serves the Kubernetes REST API over HTTP: discovery,
// OpenAPI, and create/read/update/patch/delete/watch of every registered
// resource, with Kubernetes' semantics, status codes and error texts.
package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"github.com/skiff-io/skiff/internal/auth/user"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/storage"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
)

// FieldManager applies patches and tracks managedFields. Implementations
// must be safe for concurrent use and must not modify the objects they are
// given.
type FieldManager interface {
	// Patch applies a JSON, merge or strategic merge patch to current.
	Patch(current runtime.Object, patchType types.PatchType, patch []byte, strict bool) (runtime.Object, error)
	// Apply performs server-side apply; live is nil when the object does
	// not exist yet.
	Apply(live runtime.Object, gvk schema.GroupVersionKind, patch []byte, manager string, force bool, subresource string) (runtime.Object, error)
	// UpdateManagedFields records what manager changed from live (nil on
	// create) to newObj.
	UpdateManagedFields(live, newObj runtime.Object, gvk schema.GroupVersionKind, manager string, subresource string) (runtime.Object, error)
}

// Admission is consulted before an object is written. Admit may change
// a.Object (e.g. allocate a Service's cluster IP) and returns an API error
// to refuse the request. Done is called exactly once for every write Admit
// allowed (and for every deletion), with stored telling whether the write
// happened, so that what Admit reserved can be kept or returned.
type Admission interface {
	Admit(a *Attributes) error
	Done(a *Attributes, stored bool)
}

// Attributes describe a write for admission.
type Attributes struct {
	Resource    *registry.Resource
	Verb        string // create, update, delete
	Subresource string
	Namespace   string
	Name        string
	// User made the request (nil for in-process writes without one).
	User   *user.Info
	Object runtime.Object // new state (nil on delete)
	Old    runtime.Object // previous state (nil on create)
	DryRun bool
	// Warnings are sent to the client as Warning headers when the write
	// is admitted (PodSecurity's warn mode, for example).
	Warnings []string
	ctx      context.Context
}

// Context is the request's context (the user, audit annotations);
// context.Background() for writes outside a request.
func (a *Attributes) Context() context.Context {
	if a.ctx == nil {
		return context.Background()
	}
	return a.ctx

}

// Config configures the API server.
type Config struct {
	Store     *storage.Store
	Resources []*registry.Resource
	Scheme    *runtime.Scheme
	// OpenAPI serves /openapi/v2 and /openapi/v3.
	OpenAPI      http.Handler
	FieldManager FieldManager
	Admission    []Admission
	Version      version.Info
	// Ready reports whether the server should answer /readyz with ok.
	Ready  func() error
	Logger *slog.Logger
	// Extra handles paths the API server does not know (may be nil).
	Extra map[string]http.Handler
	// AgentClientTLS is the client TLS configuration for node agents
	// (pods/log, exec, attach, portforward, nodes/proxy): the API server's
	// client certificate and the CA that signed the agents' serving
	// certificates. Nil answers those subresources with 503.
	AgentClientTLS *tls.Config
	// Reviewer answers the review resources; Tokens issues service
	// account tokens. Nil answers them with 503.
	Reviewer Reviewer
	Tokens   TokenIssuer
}

// Server is the API server's HTTP handler.
type Server struct {
	cfg       Config
	log       *slog.Logger
	handlers  map[string]*resourceHandler // "group/version/resource"
	discovery *discovery
	dec       *decoder
	mux       *http.ServeMux
	started   time.Time
	agents    *agentProxy
}

// New builds the handler for every resource in cfg.Resources, registering
// their storage with cfg.Store (before the store runs).
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Scheme == nil || cfg.FieldManager == nil {
		return nil, fmt.Errorf("apiserver: Store, Scheme and FieldManager are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		handlers: map[string]*resourceHandler{},
		dec:      newDecoder(cfg.Scheme),
		started:  time.Now(),
	}
	owners := map[schema.GroupResource]*registry.Resource{}
	for _, res := range cfg.Resources {
		if res.StorageResource == nil {
			owners[schema.GroupResource{Group: res.Group, Resource: res.Resource}] = res
		}
	}
	for _, res := range cfg.Resources {
		h, err := newResourceHandler(s, res, owners)
		if err != nil {
			return nil, err
		}
		s.handlers[res.Group+"/"+res.Version+"/"+res.Resource] = h
	}
	getPod, getNode := s.storeGetters()
	s.agents = newAgentProxy(getPod, getNode, cfg.AgentClientTLS, cfg.Logger)
	s.discovery = newDiscovery(cfg.Resources)
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// lookup returns the handler serving the request's resource.
func (s *Server) lookup(info requestInfo) (*resourceHandler, bool) {
	h, ok := s.handlers[info.Group+"/"+info.Version+"/"+info.Resource]
	return h, ok
}

func (s *Server) routes() {
	health := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && s.cfg.Ready != nil {
			if err := s.cfg.Ready(); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		s.mux.HandleFunc(p, health)
		s.mux.HandleFunc(p+"/", health)
	}
	s.mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, output{}, s.cfg.Version)
	})
	if s.cfg.OpenAPI != nil {
		s.mux.Handle("/openapi/", s.cfg.OpenAPI)
	}
	for p, h := range s.cfg.Extra {
		s.mux.Handle(p, h)
	}
	s.mux.HandleFunc("/api", s.serveAPI)
	s.mux.HandleFunc("/api/", s.serveAPI)
	s.mux.HandleFunc("/apis", s.serveAPI)
	s.mux.HandleFunc("/apis/", s.serveAPI)
	s.mux.HandleFunc("/", s.serveRoot)
}

// ServeHTTP serves every API path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A bug in one handler must not take the server down or leak a
		// stack trace to the client.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "path", r.URL.Path, "panic", v)
			writeError(w, apierrors.NewInternalError(fmt.Errorf("internal error while serving %s", r.URL.Path)))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeError(w, apierrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{}, "", "the server could not find the requested resource", 0, false))
		return
	}
	paths := []string{"/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"}
	for _, g := range s.discovery.groupVersions() {
		paths = append(paths, "/apis/"+g)
	}
	writeJSON(w, http.StatusOK, output{}, map[string][]string{"paths": paths})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if s.discovery.serve(w, r) {
		return
	}
	info, ok := parseRequestInfo(r)
	if !ok {
		notFound(w)
		return
	}
	h, ok := s.lookup(info)
	if !ok {
		notFound(w)
		return
	}
	h.serve(w, r, info)
}

func notFound(w http.ResponseWriter) {
	writeError(w, apierrors.NewGenericServerResponse(http.StatusNotFound, "", schema.GroupResource{}, "", "the server could not find the requested resource", 0, false))
}

func groupResourceOf(resource string) schema.GroupResource {
	g, r, _ := strings.Cut(resource, "/")
	if r == "" {
		return schema.GroupResource{Resource: g}
	}
	return schema.GroupResource{Group: g, Resource: r}
}
