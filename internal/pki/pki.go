// Package pki creates and maintains the cluster's certificate authority,
// the API server's serving certificate, the administrator's client
// certificate, the API server's client certificate for node agents and the
// admin kubeconfig under the server's data directory.
//
// Ensure is idempotent: on restart it loads what is on disk, keeps the CA
// (clients trust it), and reissues a leaf certificate only when it is
// missing, unusable, close to expiry or no longer covers the names the
// server must answer to.
package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Defaults applied by Ensure when the corresponding Config field is empty.
const (
	DefaultServiceCIDR  = "10.43.0.0/16"
	DefaultAPIServerURL = "https://127.0.0.1:6443"
)

// File names, relative to Config.Dir.
const (
	TLSDirName      = "tls"
	CACertFile      = "ca.crt"
	CAKeyFile       = "ca.key"
	ServingCertFile = "serving.crt"
	ServingKeyFile  = "serving.key"
	AdminCertFile   = "admin.crt"
	AdminKeyFile    = "admin.key"
	KubeconfigFile  = "admin.kubeconfig"
	// KubeletClientCertFile and KubeletClientKeyFile hold the API
	// server's client certificate for node agents (logs, exec, ...).
	KubeletClientCertFile = "apiserver-kubelet-client.crt"
	KubeletClientKeyFile  = "apiserver-kubelet-client.key"
)

// Identity carried by the administrator's client certificate. O=system:masters
// is the group Kubernetes authorization treats as unconditionally allowed.
const (
	AdminUser  = "system:admin"
	AdminGroup = "system:masters"
)

// KubeletClientUser is the identity the API server presents to node agents.
// It is in AdminGroup, so an agent that authorizes by group lets it through.
const KubeletClientUser = "skiff-apiserver-kubelet-client"

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is how close to expiry a leaf may get before Ensure
	// replaces it, so a long-running server never serves an expired cert
	// after a routine restart.
	renewBefore = 90 * 24 * time.Hour
	// backdate tolerates clients whose clocks run slightly behind ours.
	backdate = time.Hour
)

// Config says where the PKI lives and which names the serving certificate
// must cover.
type Config struct {
	// Dir is the server's data directory. Certificates and keys go to
	// Dir/tls, the admin kubeconfig to Dir/admin.kubeconfig. Required.
	Dir string
	// ServiceCIDR is the service IP range, e.g. "10.43.0.0/16"; a
	// comma-separated dual-stack pair is accepted. The first address of
	// each range (the "kubernetes" service IP) becomes a serving SAN.
	// Empty means DefaultServiceCIDR.
	ServiceCIDR string
	// ExtraSANs are additional serving-certificate names: entries that
	// parse as IP addresses become IP SANs, the rest DNS SANs.
	ExtraSANs []string
	// APIServerURL is the server URL written to the admin kubeconfig.
	// Empty means DefaultAPIServerURL.
	APIServerURL string
	// Logger receives RenewLoop's renewals and failures; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Bundle is the loaded PKI: the CA able to sign further certificates, the
// serving certificate and the administrator's credentials. RenewLoop
// replaces leaf certificates while the server runs: read the current ones
// through CurrentServingCert, CurrentKubeletClientCert, AdminCredentials
// and the TLS configurations, which follow renewals; the exported leaf
// fields keep what Ensure loaded. A Bundle must not be copied.
type Bundle struct {
	// CA is the cluster CA certificate and CAKey its private key.
	CA    *x509.Certificate
	CAKey crypto.Signer
	// CAPool holds only CA; use it to verify client certificates.
	CAPool *x509.CertPool
	// ServingCert is the API server's certificate and key as Ensure
	// loaded it; Leaf is set.
	ServingCert tls.Certificate
	// AdminCertPEM and AdminKeyPEM are the administrator's client
	// credentials (CN=system:admin, O=system:masters) as Ensure loaded
	// them.
	AdminCertPEM, AdminKeyPEM []byte
	// KubeletClientCert is the API server's client certificate for
	// node agents (CN=skiff-apiserver-kubelet-client, O=system:masters)
	// as Ensure loaded it; Leaf is set.
	KubeletClientCert tls.Certificate
	// KubeconfigPath is where the admin kubeconfig was written.
	KubeconfigPath string

	caPEM []byte
	now   func() time.Time

	// Current leaves, replaced by RenewLoop; nil until set, which means
	// the exported field's value.
	serving       atomic.Pointer[tls.Certificate]
	kubeletClient atomic.Pointer[tls.Certificate]
	admin         atomic.Pointer[leafMaterial]
}

// CAPEM returns the PEM encoding of the CA certificate, as clients need it
// for certificate-authority-data. The caller must not modify it.
func (b *Bundle) CAPEM() []byte { return b.caPEM }

// Ensure creates whatever part of the PKI is missing under cfg.Dir, loads
// the rest and returns it. It never replaces an existing CA: a CA
// certificate whose key is missing or does not match is an error. Leaf
// certificates are reissued when missing, unparsable, not signed by the
// CA, expiring within 90 days, or (serving cert) lacking a required SAN.
// The kubeconfig is rewritten only when its content would change.
func Ensure(cfg Config) (*Bundle, error) {
	return ensure(cfg, systemEnv())
}

func ensure(cfg Config, e env) (*Bundle, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("pki: data directory is required")
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = DefaultServiceCIDR
	}
	if cfg.APIServerURL == "" {
		cfg.APIServerURL = DefaultAPIServerURL
	}
	sans, err := requiredSANs(cfg, e)
	if err != nil {
		return nil, err
	}
	tlsDir := filepath.Join(cfg.Dir, TLSDirName)
	if err := ensureDir(tlsDir); err != nil {
		return nil, err
	}
	now := e.now()
	ca, err := loadOrCreateCA(tlsDir, now)
	if err != nil {
		return nil, err
	}

	serving, err := ensureLeaf(tlsDir, ServingCertFile, ServingKeyFile, ca, now, servingSpec(sans), expiresWithin(renewBefore))
	if err != nil {
		return nil, fmt.Errorf("pki: serving certificate: %w", err)
	}
	admin, err := ensureLeaf(tlsDir, AdminCertFile, AdminKeyFile, ca, now, adminSpec, expiresWithin(renewBefore))
	if err != nil {
		return nil, fmt.Errorf("pki: admin certificate: %w", err)
	}

	kubeletClient, err := ensureLeaf(tlsDir, KubeletClientCertFile, KubeletClientKeyFile, ca, now, kubeletClientSpec, expiresWithin(renewBefore))
	if err != nil {
		return nil, fmt.Errorf("pki: kubelet client certificate: %w", err)
	}

	kubeconfigPath := filepath.Join(cfg.Dir, KubeconfigFile)
	if err := ensureKubeconfig(kubeconfigPath, cfg.APIServerURL, ca.certPEM, admin.certPEM, admin.keyPEM); err != nil {
		return nil, err
	}

	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	b := &Bundle{
		CA:                ca.cert,
		CAKey:             ca.key,
		CAPool:            pool,
		ServingCert:       serving.pair,
		AdminCertPEM:      admin.certPEM,
		AdminKeyPEM:       admin.keyPEM,
		KubeletClientCert: kubeletClient.pair,
		KubeconfigPath:    kubeconfigPath,
		caPEM:             ca.certPEM,
		now:               e.now,
	}
	b.serving.Store(&serving.pair)
	b.kubeletClient.Store(&kubeletClient.pair)
	b.admin.Store(&admin)
	return b, nil
}

// Specs of the server's own leaf certificates.
var (
	adminSpec = leafSpec{
		commonName: AdminUser,
		orgs:       []string{AdminGroup},
		usage:      x509.ExtKeyUsageClientAuth,
	}
	kubeletClientSpec = leafSpec{
		commonName: KubeletClientUser,
		orgs:       []string{AdminGroup},
		usage:      x509.ExtKeyUsageClientAuth,
	}
)

// servingSpec is the API server's serving certificate for sans.
func servingSpec(sans sanSet) leafSpec {
	return leafSpec{
		commonName: "skiff-apiserver",
		usage:      x509.ExtKeyUsageServerAuth,
		dnsNames:   sans.dns,
		ips:        sans.ips,
	}
}
