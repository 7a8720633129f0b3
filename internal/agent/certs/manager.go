package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/skiff-io/skiff/internal/pki"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/connrotation"
	"k8s.io/utils/clock"
)

// Retry pacing after a failed renewal: quick enough to recover before the
// certificate expires, slow enough not to flood the CSR API.
const (
	retryMin = 30 * time.Second
	retryMax = 10 * time.Minute
)

// Config says which node the Manager keeps certificates for and how it
// reaches the cluster.
type Config struct {
	// Server is the API server URL, e.g. https://10.0.0.1:6443. Required.
	Server string
	// CAPEM is the cluster CA the caller has verified (e.g. against the
	// join token's hash). Required.
	CAPEM []byte
	// Dir holds the certificates and keys (created 0700, files 0600).
	// Required.
	Dir string
	// NodeName is the node's name; certificates are for
	// system:node:<NodeName>. Required.
	NodeName string
	// Hosts are the serving certificate's SANs besides NodeName: the
	// node's addresses as its Node status lists them (InternalIP,
	// ExternalIP, Hostname). The CSR approver approves a serving
	// certificate only when every SAN is one of those, so loopback names
	// do not belong here.
	Hosts []string
	// BootstrapToken ("<id>.<secret>") authenticates the first client CSR,
	// and any later one made when the stored client certificate has
	// expired. Empty when only stored certificates may be used.
	BootstrapToken string
	// ApprovalTimeout bounds the wait for each CSR to be approved and
	// signed; zero means DefaultApprovalTimeout.
	ApprovalTimeout time.Duration
	// Clock drives renewal; nil means the real clock.
	Clock clock.Clock
	// Logger receives renewal events; nil means slog.Default().
	Logger *slog.Logger

	// newClient builds the clientset for a REST config; tests replace it.
	newClient func(*rest.Config) (kubernetes.Interface, error)
	// jitter draws the renewal point in [0, 1); tests pin it.
	jitter func() float64
}

// Manager holds a node's current client and serving certificates and
// renews them. Its REST config and GetCertificate always present the
// current ones. All methods are safe for concurrent use.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	caPool    *x509.CertPool
	client    atomic.Pointer[tls.Certificate]
	serving   atomic.Pointer[tls.Certificate]
	dialer    *connrotation.Dialer
	transport *http.Transport
}

// New loads the node's certificates from cfg.Dir. A client certificate
// that is missing, does not fit the node (name, CA) or has 30% or less of
// its life left is replaced through a CSR before New returns, made with
// the current certificate while it is valid and otherwise with
// cfg.BootstrapToken. A stored serving certificate is used when it fits
// (name, CA, SANs) and is still valid; otherwise Run requests one as soon
// as it starts: the approver signs a node's serving certificate only once
// its Node object exists, which the agent creates after New returns.
// Until then GetCertificate fails.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Server == "" || len(cfg.CAPEM) == 0 || cfg.Dir == "" || cfg.NodeName == "" {
		return nil, errors.New("node certificates: Server, CAPEM, Dir and NodeName are required")
	}
	if cfg.ApprovalTimeout <= 0 {
		cfg.ApprovalTimeout = DefaultApprovalTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.newClient == nil {
		cfg.newClient = func(rc *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(rc) }
	}
	if cfg.jitter == nil {
		cfg.jitter = rand.Float64
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.CAPEM) {
		return nil, errors.New("node certificates: no CA certificate in CAPEM")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("node certificates: %w", err)
	}
	if err := pki.WriteFileAtomic(filepath.Join(cfg.Dir, CAFile), cfg.CAPEM, fileMode); err != nil {
		return nil, fmt.Errorf("node certificates: %w", err)
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, caPool: pool}
	m.dialer = connrotation.NewDialer((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
	m.transport = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         m.dialer.DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 25,
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			RootCAs:    pool,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if c := m.client.Load(); c != nil {
					return c, nil
				}
				return &tls.Certificate{}, nil // none yet: the server sees no client certificate
			},
		},
	}
	if err := m.obtainClient(ctx); err != nil {
		return nil, err
	}
	m.loadServing()
	return m, nil
}

func (m *Manager) clientRequest() request {
	return request{kind: clientKind, nodeName: m.cfg.NodeName}
}

func (m *Manager) servingRequest() request {
	hosts := []string{m.cfg.NodeName}
	for _, h := range m.cfg.Hosts {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return request{kind: servingKind, nodeName: m.cfg.NodeName, hosts: hosts}
}

// obtainClient puts the client certificate in place at start: the stored
// one when it can be reused, else a new one.
func (m *Manager) obtainClient(ctx context.Context) error {
	r := m.clientRequest()
	now := m.cfg.Clock.Now()
	pair, _, ok := loadPair(m.cfg.Dir, clientKind)
	if ok && fits(pair.Leaf, r, m.caPool) && reusable(pair.Leaf, now) {
		m.client.Store(pair)
		m.log.Info("using the stored node client certificate", "expires", pair.Leaf.NotAfter)
		return nil
	}
	if ok && fits(pair.Leaf, r, m.caPool) && now.Before(pair.Leaf.NotAfter) {
		// Still valid: the node renews it as itself, as when running.
		m.client.Store(pair)
		err := m.renew(ctx, r)
		if err == nil || m.cfg.BootstrapToken == "" {
			return err
		}
		m.log.Warn("renewing the client certificate as the node failed; using the bootstrap token", "err", err)
	}
	if m.cfg.BootstrapToken == "" {
		return fmt.Errorf("node certificates: no valid client certificate in %s and no bootstrap token to request one", m.cfg.Dir)
	}
	return m.request(ctx, r, m.bootstrapConfig())
}

// loadServing puts a stored serving certificate in place when it is for
// this node, covers its names and is still valid; Run renews it when it
// is past its renewal time (at once if 70% of its life has passed).
func (m *Manager) loadServing() {
	pair, _, ok := loadPair(m.cfg.Dir, servingKind)
	now := m.cfg.Clock.Now()
	if ok && fits(pair.Leaf, m.servingRequest(), m.caPool) && !now.Before(pair.Leaf.NotBefore) && now.Before(pair.Leaf.NotAfter) {
		m.serving.Store(pair)
		m.log.Info("using the stored node serving certificate", "expires", pair.Leaf.NotAfter)
	}
}

// renew requests a new certificate for r authenticated with the current
// client certificate, stores it and swaps it in.
func (m *Manager) renew(ctx context.Context, r request) error {
	return m.request(ctx, r, m.RestConfig())
}

func (m *Manager) request(ctx context.Context, r request, rc *rest.Config) error {
	client, err := m.cfg.newClient(rc)
	if err != nil {
		return fmt.Errorf("node certificates: %w", err)
	}
	certPEM, keyPEM, err := requestCertificate(ctx, client, r, m.cfg.ApprovalTimeout)
	if err != nil {
		return fmt.Errorf("node certificates: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("node certificates: the signed %s certificate: %w", r.kind, err)
	}
	if !fits(pair.Leaf, r, m.caPool) {
		return fmt.Errorf("node certificates: the signed %s certificate is not for %s, not from the cluster CA or lacks requested names", r.kind, NodeUser(r.nodeName))
	}
	if err := savePair(m.cfg.Dir, r.kind, certPEM, keyPEM); err != nil {
		return fmt.Errorf("node certificates: %w", err)
	}
	m.slot(r.kind).Store(&pair)
	if r.kind == clientKind {
		// Open connections authenticated with the old certificate; new
		// ones present the new certificate.
		m.dialer.CloseAll()
	}
	m.log.Info("node certificate issued", "kind", r.kind.String(), "expires", pair.Leaf.NotAfter)
	return nil
}

func (m *Manager) slot(k kind) *atomic.Pointer[tls.Certificate] {
	if k == clientKind {
		return &m.client
	}
	return &m.serving
}

// bootstrapConfig authenticates with the bootstrap token instead of a
// client certificate.
func (m *Manager) bootstrapConfig() *rest.Config {
	return &rest.Config{
		Host:            m.cfg.Server,
		BearerToken:     m.cfg.BootstrapToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: m.cfg.CAPEM},
		UserAgent:       "skiff-agent/" + m.cfg.NodeName + " (bootstrap)",
		Timeout:         30 * time.Second,
	}
}

// RestConfig returns a new REST config for the API server that
// authenticates as the node with its current client certificate, picking
// up renewed certificates without being rebuilt. The caller may set QPS,
// Burst, UserAgent and timeouts, but not TLS or transport options.
func (m *Manager) RestConfig() *rest.Config {
	return &rest.Config{Host: m.cfg.Server, Transport: m.transport, UserAgent: "skiff-agent/" + m.cfg.NodeName}
}

// GetCertificate returns the current serving certificate; use it as
// tls.Config.GetCertificate of the agent's listener.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := m.serving.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("the node's serving certificate has not been issued yet (its CertificateSigningRequest is approved once the Node is registered)")
}

// ClientCertificate and ServingCertificate return the current
// certificates; the caller must not modify them.
func (m *Manager) ClientCertificate() *tls.Certificate { return m.client.Load() }

// ServingCertificate: see ClientCertificate.
func (m *Manager) ServingCertificate() *tls.Certificate { return m.serving.Load() }

// CAPEM returns the cluster CA the Manager trusts.
func (m *Manager) CAPEM() []byte { return m.cfg.CAPEM }

// Run requests the serving certificate if New found none usable, then
// renews both certificates, each once 70-90% (jittered) of its life has
// passed, until ctx ends. A failed request is retried with backoff and
// logged; Run returns nil when ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	reqs := []request{m.clientRequest(), m.servingRequest()}
	due := make([]time.Time, len(reqs))
	backoff := make([]time.Duration, len(reqs))
	for i, r := range reqs {
		due[i] = m.dueTime(r.kind)
	}
	for {
		next := slices.MinFunc(due, time.Time.Compare)
		if wait := next.Sub(m.cfg.Clock.Now()); wait > 0 {
			t := m.cfg.Clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C():
			}
		}
		now := m.cfg.Clock.Now()
		for i, r := range reqs {
			if now.Before(due[i]) {
				continue
			}
			if err := m.renew(ctx, r); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				backoff[i] = nextBackoff(backoff[i])
				due[i] = now.Add(backoff[i])
				m.log.Error("renewing the node certificate failed", "kind", r.kind.String(), "retryIn", backoff[i], "err", err)
				continue
			}
			backoff[i] = 0
			due[i] = m.dueTime(r.kind)
		}
	}
}

// dueTime is when the certificate of kind k is to be renewed: now when
// there is none.
func (m *Manager) dueTime(k kind) time.Time {
	c := m.slot(k).Load()
	if c == nil {
		return m.cfg.Clock.Now()
	}
	return renewalTime(c.Leaf, m.cfg.jitter())
}

// nextBackoff doubles the retry delay between retryMin and retryMax.
func nextBackoff(d time.Duration) time.Duration {
	if d < retryMin {
		return retryMin
	}
	return min(2*d, retryMax)
}
