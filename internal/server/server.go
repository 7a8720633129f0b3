// Package server composes the control plane that `skiff server` runs:
// certificates, etcd, the object store, the API server and (as they are
// built) the scheduler, controllers and node agent, with one readiness
// signal for all of them.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/skiff-io/skiff/internal/join"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/admission"
	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/apiserver/openapi"
	"github.com/skiff-io/skiff/internal/apiserver/patch"
	"github.com/skiff-io/skiff/internal/audit"
	"github.com/skiff-io/skiff/internal/auth/serviceaccount"
	"github.com/skiff-io/skiff/internal/encryption"
	"github.com/skiff-io/skiff/internal/etcd"
	"github.com/skiff-io/skiff/internal/pki"
	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/all"
	"github.com/skiff-io/skiff/internal/storage"
	"github.com/skiff-io/skiff/internal/version"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// Config is what `skiff server`'s flags set.
type Config struct {
	DataDir     string
	BindAddress string // address the API server listens on ("" = all)
	HTTPSPort   int    // 0 picks a free port (tests)
	// EtcdServers, when set, are an external etcd cluster's client URLs.
	EtcdServers    []string
	EtcdClientPort int
	EtcdPeerPort   int
	ServiceCIDR    string
	// ClusterCIDR is the range nodes' pod CIDRs are carved from.
	ClusterCIDR   string
	NodePortRange string // "30000-32767"
	TLSSANs       []string

	DisableAgent, DisableScheduler, DisableControllers bool
	DisableDNS, DisableIngress                         bool
	// Audit configures the audit log.
	Audit AuditConfig
	// Components run once the API server is ready, unless their role is
	// disabled.
	Components []Component
	Logger     *slog.Logger
}

// AuditConfig is what the --audit-* flags set.
type AuditConfig struct {
	// LogPath is the audit log ("" = <data-dir>/audit/audit.log, "-" =
	// standard output, "none" = no audit log).
	LogPath    string
	PolicyFile string // "" = the default policy
	MaxSizeMB  int
	MaxBackups int
	MaxAgeDays int
}

func (a AuditConfig) validate() error {
	for _, f := range []struct {
		flag string
		v    int
	}{{"--audit-log-maxsize", a.MaxSizeMB}, {"--audit-log-maxbackup", a.MaxBackups}, {"--audit-log-maxage", a.MaxAgeDays}} {
		if f.v < 0 {
			return fmt.Errorf("%s must not be negative, got %d", f.flag, f.v)
		}
	}
	return nil
}

// Server is a running control plane.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ready chan struct{}

	mu         sync.Mutex
	url        string
	kubeconfig string
	// tokens is the service account token issuer, set in Run before any
	// component starts.
	tokens *serviceaccount.Issuer
	// auditPolicy is --audit-policy-file's policy (nil: the default).
	auditPolicy *audit.Policy
}

// New checks cfg and returns a Server; nothing starts until Run.
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: data dir is required")
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = pki.DefaultServiceCIDR
	}
	if cfg.ClusterCIDR == "" {
		cfg.ClusterCIDR = "10.42.0.0/16"
	}
	if _, _, err := net.ParseCIDR(cfg.ClusterCIDR); err != nil {
		return nil, fmt.Errorf("--cluster-cidr %q: %w", cfg.ClusterCIDR, err)
	}
	if cfg.NodePortRange == "" {
		cfg.NodePortRange = "30000-32767"
	}
	if _, _, err := parsePortRange(cfg.NodePortRange); err != nil {
		return nil, err
	}
	if _, _, err := net.ParseCIDR(cfg.ServiceCIDR); err != nil {
		return nil, fmt.Errorf("--service-cidr %q: %w", cfg.ServiceCIDR, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	srv := &Server{cfg: cfg, log: cfg.Logger, ready: make(chan struct{})}
	if err := cfg.Audit.validate(); err != nil {
		return nil, err
	}
	// A bad policy file stops the server before anything starts.
	if cfg.Audit.PolicyFile != "" {
		p, err := audit.LoadPolicy(cfg.Audit.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("--audit-policy-file: %w", err)
		}
		srv.auditPolicy = p
	}
	return srv, nil
}

func parsePortRange(s string) (int, int, error) {
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a <= 0 || b > 65535 || a > b {
		return 0, 0, fmt.Errorf("invalid node port range %q: want LOW-HIGH", s)
	}
	return a, b, nil
}

// Ready is closed once the API server answers and the bootstrap objects
// exist.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// URL is the API server's https URL (known once Run has started listening).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// AdminKubeconfig is the path of the admin kubeconfig.
func (s *Server) AdminKubeconfig() string {
	return filepath.Join(s.cfg.DataDir, "admin.kubeconfig")
}

// Run starts every component and blocks until ctx ends, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	start := time.Now()
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.BindAddress, strconv.Itoa(s.cfg.HTTPSPort)))
	if err != nil {
		return fmt.Errorf("listening for the API server: %w", err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	pkiCfg := pki.Config{Dir: s.cfg.DataDir, ServiceCIDR: s.cfg.ServiceCIDR, ExtraSANs: s.cfg.TLSSANs, APIServerURL: url, Logger: s.log}
	bundle, err := pki.Ensure(pkiCfg)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	token, err := join.LoadOrCreateToken(s.cfg.DataDir, bundle.CAPEM(), s.log)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.url, s.kubeconfig = url, bundle.KubeconfigPath
	s.mu.Unlock()

	db, err := etcd.New(etcd.Config{DataDir: filepath.Join(s.cfg.DataDir, "etcd"), Servers: s.cfg.EtcdServers,
		ClientPort: s.cfg.EtcdClientPort, PeerPort: s.cfg.EtcdPeerPort})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	encryptionCfg, err := encryption.Ensure(s.cfg.DataDir)
	if err != nil {
		db.Close()
		return fmt.Errorf("secrets encryption: %w", err)
	}
	store, err := storage.New(storage.Config{Client: db.Client(), Logger: s.log, TransformerFor: encryptionCfg.Transformer})
	if err != nil {
		db.Close()
		return err
	}
	st := registerStores(store)
	sec, err := newSecurity(s.cfg.DataDir, st)
	if err != nil {
		db.Close()
		return err
	}
	s.tokens = sec.issuer
	auditCfg, auditLog, err := s.auditFilterConfig()
	if err != nil {
		db.Close()
		return err
	}
	// The audit log outlives the other goroutines, so that the requests
	// answered while shutting down are still recorded.
	auditCtx, stopAudit := context.WithCancel(context.Background())
	auditDone := make(chan struct{})
	defer func() {
		stopAudit()
		<-auditDone
	}()
	go func() {
		defer close(auditDone)
		if auditLog == nil {
			return
		}
		if err := auditLog.Run(auditCtx); err != nil {
			s.log.Error("audit log", "err", err)
		}
	}()
	secretsCtrl := encryption.NewController(encryptionCfg, st.secrets, s.log)
	fields := newFieldManager()
	api, err := s.newAPIServer(store, fields, bundle, sec, map[string]http.Handler{
		"/.well-known/openid-configuration": serviceaccount.DiscoveryHandler(sec.issuer, url),
		"/openid/v1/jwks":                   serviceaccount.DiscoveryHandler(sec.issuer, url),
		"/skiff/v1/secrets-encrypt/":        encryption.Handler(secretsCtrl),
	})
	if err != nil {
		db.Close()
		return err
	}
	// Parsing the managed-fields schema takes a while: do it while the
	// caches load rather than on the first write.
	go fields.Prepare()
	run("storage", store.Run)
	select {
	case <-store.Ready():
	case <-ctx.Done():
		db.Close()
		return nil
	}
	run("certificate-renewal", func(ctx context.Context) error { return bundle.RenewLoop(ctx, pkiCfg) })
	// Secrets written before encryption was on are encrypted now.
	run("secrets-encryption", func(ctx context.Context) error {
		if n, err := secretsCtrl.RewriteStale(ctx); err != nil {
			s.log.Error("encrypting existing secrets", "err", err)
		} else if n > 0 {
			s.log.Info("encrypted existing secrets", "count", n)
		}
		return nil
	})

	srv := &http.Server{
		Handler:           join.CACertsHandler(bundle.CAPEM(), sec.handler(api, auditCfg)),
		TLSConfig:         bundle.ServerTLSConfig(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	run("https", func(ctx context.Context) error {
		if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	loopback, err := s.loopbackClient(bundle, url)
	if err != nil {
		cancel()
	} else if err = bootstrap(ctx, loopback, s.cfg.ServiceCIDR, port, s.securityDefaults(token)); err == nil {
		s.log.Info("skiff server ready", "url", url, "kubeconfig", bundle.KubeconfigPath, "startup", time.Since(start).Round(time.Millisecond))
		close(s.ready)
		for _, c := range s.cfg.Components {
			if !s.cfg.enabled(c) {
				continue
			}
			run(c.Name, func(ctx context.Context) error { return s.runComponent(ctx, loopback, c) })
		}
	}
	if err != nil {
		errc <- fmt.Errorf("bootstrap: %w", err)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Watches never finish on their own: close what is left.
		srv.Close()
	}
	wg.Wait()
	db.Close()
	return runErr
}

// newAPIServer builds the API server and its collaborators.
// runComponent runs c with the server's credentials, under leader election
// when it asks for it.
func (s *Server) runComponent(ctx context.Context, lb *loopback, c Component) error {
	cfg := lb.restConfig()
	if c.User != "" {
		id, err := lb.as(c.User, c.Groups)
		if err != nil {
			return fmt.Errorf("credentials for %s: %w", c.Name, err)
		}
		cfg = id.restConfig()
	}
	env := Env{Config: cfg, CAPEM: lb.caPEM, PKI: lb.bundle, DataDir: s.cfg.DataDir, Tokens: s.tokens, Logger: s.log.With("component", c.Name)}
	env.Config.UserAgent = c.Name
	if !c.LeaderElected {
		return c.Run(ctx, env)
	}
	return s.whileLeading(ctx, lb, c.Name, func(ctx context.Context) error { return c.Run(ctx, env) })
}

// newFieldManager returns the patch and managed-fields manager, defaulting
// objects with their resource's strategy.
func newFieldManager() *patch.Manager {
	byKind := map[schema.GroupVersionKind]*registry.Resource{}
	for _, r := range all.Resources() {
		byKind[r.GroupVersionKind()] = r
	}
	return patch.NewManager(scheme.Scheme, patch.WithDefaulter(func(obj runtime.Object) {
		if r := byKind[obj.GetObjectKind().GroupVersionKind()]; r != nil {
			r.Strategy.Default(obj)
		}
	}))
}

func (s *Server) newAPIServer(store *storage.Store, fields *patch.Manager, bundle *pki.Bundle, sec *security, extra map[string]http.Handler) (*apiserver.Server, error) {
	resources := all.Resources()
	st := sec.st
	lo, hi, _ := parsePortRange(s.cfg.NodePortRange)
	alloc, err := admission.NewServiceAllocator(s.cfg.ServiceCIDR, lo, hi, func() ([]*corev1.Service, error) {
		return list[*corev1.Service](st.services, "")
	})
	if err != nil {
		return nil, err
	}
	lifecycle := &admission.NamespaceLifecycle{Get: func(name string) (*corev1.Namespace, error) {
		return get[*corev1.Namespace](context.Background(), st.namespaces, "", name)
	}}
	// Kubernetes' order: mutating plug-ins first, quota last so that it
	// charges for the final object.
	chain := []apiserver.Admission{lifecycle, &admission.LimitRanger{Ranges: admission.StoreLister{Store: st.limitRanges}}, sec.serviceAccounts}
	chain = append(chain, sec.admission...)
	chain = append(chain,
		&admission.Priority{Classes: admission.StoreLister{Store: st.priorityClasses}},
		admission.DefaultTolerations{},
		&admission.DefaultStorageClass{Classes: admission.StoreLister{Store: st.storageClasses}},
		admission.CSRRequester{},
		alloc,
		&admission.ResourceQuota{Quotas: st.quotas},
	)
	return apiserver.New(apiserver.Config{
		Store:          store,
		Resources:      resources,
		Scheme:         scheme.Scheme,
		OpenAPI:        openapi.New(resources),
		FieldManager:   fields,
		Admission:      chain,
		Version:        version.Info(),
		Logger:         s.log,
		AgentClientTLS: bundle.KubeletClientTLSConfig(),
		Reviewer:       sec.reviewer,
		Tokens:         tokenIssuer{issuer: sec.issuer, st: sec.st},
		Extra:          extra,
		Ready: func() error {
			select {
			case <-s.ready:
				return nil
			default:
				return errors.New("not ready")
			}
		},
	})
}

// loopbackClient returns credentials for the server's own in-process
// clients: a fresh certificate in system:masters, never written to disk.
func (s *Server) loopbackClient(bundle *pki.Bundle, url string) (*loopback, error) {
	certPEM, keyPEM, err := bundle.IssueClientCert("system:apiserver", []string{"system:masters"}, 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &loopback{url: url, caPEM: bundle.CAPEM(), certPEM: certPEM, keyPEM: keyPEM, cert: cert, bundle: bundle}, nil
}
