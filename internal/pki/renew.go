package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// renewCheckInterval is how often RenewLoop looks at the leaves: far
// shorter than any renewal window, so no check is ever missed.
const renewCheckInterval = time.Hour

// renewWhileRunning is due once less than a third of the leaf's life, or
// less than renewBefore, is left: well before Ensure at a restart would
// replace it, and long before clients could see it expire.
func renewWhileRunning(cert *x509.Certificate, now time.Time) bool {
	left := cert.NotAfter.Sub(now)
	return left < cert.NotAfter.Sub(cert.NotBefore)/3 || left < renewBefore
}

// RenewLoop keeps the server's own certificates (serving, API server to
// agent client, admin) fresh until ctx ends: at once and then every hour
// it re-issues each one that has less than a third of its life (or 90
// days) left, writes it where Ensure keeps it, rewrites the admin
// kubeconfig, and swaps it in: ServerTLSConfig and KubeletClientTLSConfig
// pick the new certificates up for new connections. The serving
// certificate is also re-issued when the names it must cover changed. cfg
// must be the Config the Bundle was loaded with. Failures are logged to
// cfg.Logger and retried at the next check; RenewLoop returns nil when
// ctx ends.
func (b *Bundle) RenewLoop(ctx context.Context, cfg Config) error {
	return b.renewLoop(ctx, cfg, systemEnv(), clock.RealClock{})
}

func (b *Bundle) renewLoop(ctx context.Context, cfg Config, e env, clk clock.WithTicker) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	t := clk.NewTicker(renewCheckInterval)
	defer t.Stop()
	for {
		if err := b.renewOnce(cfg, e, log); err != nil {
			log.Error("renewing the server's certificates failed; retrying in an hour", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// renewOnce re-issues the leaves that are due and swaps them in.
func (b *Bundle) renewOnce(cfg Config, e env, log *slog.Logger) error {
	if cfg.Dir == "" {
		return errors.New("pki: data directory is required")
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = DefaultServiceCIDR
	}
	if cfg.APIServerURL == "" {
		cfg.APIServerURL = DefaultAPIServerURL
	}
	sans, err := requiredSANs(cfg, e)
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.Dir, TLSDirName)
	ca := caMaterial{cert: b.CA, key: b.CAKey, certPEM: b.caPEM}
	now := e.now()
	var errs []error

	serving, err := ensureLeaf(dir, ServingCertFile, ServingKeyFile, ca, now, servingSpec(sans), renewWhileRunning)
	if err != nil {
		errs = append(errs, fmt.Errorf("pki: serving certificate: %w", err))
	} else if swapIfNew(&b.serving, serving.pair) {
		log.Info("renewed the API server's serving certificate", "expires", serving.pair.Leaf.NotAfter)
	}
	kubeletClient, err := ensureLeaf(dir, KubeletClientCertFile, KubeletClientKeyFile, ca, now, kubeletClientSpec, renewWhileRunning)
	if err != nil {
		errs = append(errs, fmt.Errorf("pki: kubelet client certificate: %w", err))
	} else if swapIfNew(&b.kubeletClient, kubeletClient.pair) {
		log.Info("renewed the API server's client certificate for agents", "expires", kubeletClient.pair.Leaf.NotAfter)
	}
	admin, err := ensureLeaf(dir, AdminCertFile, AdminKeyFile, ca, now, adminSpec, renewWhileRunning)
	if err != nil {
		errs = append(errs, fmt.Errorf("pki: admin certificate: %w", err))
	} else {
		// Rewritten only when its content changes; also repairs a
		// kubeconfig whose certificate was renewed before a failed write.
		if err := ensureKubeconfig(filepath.Join(cfg.Dir, KubeconfigFile), cfg.APIServerURL, b.caPEM, admin.certPEM, admin.keyPEM); err != nil {
			errs = append(errs, err)
		}
		if cur := b.admin.Load(); cur == nil || string(cur.certPEM) != string(admin.certPEM) {
			b.admin.Store(&admin)
			log.Info("renewed the admin certificate and kubeconfig", "expires", admin.pair.Leaf.NotAfter)
		}
	}
	return errors.Join(errs...)
}

// swapIfNew stores pair in p unless p already holds that certificate,
// and reports whether it did.
func swapIfNew(p *atomic.Pointer[tls.Certificate], pair tls.Certificate) bool {
	if cur := p.Load(); cur != nil && cur.Leaf != nil && cur.Leaf.Equal(pair.Leaf) {
		return false
	}
	p.Store(&pair)
	return true
}

// CurrentServingCert returns the API server's current serving
// certificate. The caller must not modify it.
func (b *Bundle) CurrentServingCert() *tls.Certificate {
	if c := b.serving.Load(); c != nil {
		return c
	}
	return &b.ServingCert
}

// CurrentKubeletClientCert returns the API server's current client
// certificate for node agents. The caller must not modify it.
func (b *Bundle) CurrentKubeletClientCert() *tls.Certificate {
	if c := b.kubeletClient.Load(); c != nil {
		return c
	}
	return &b.KubeletClientCert
}

// AdminCredentials returns the administrator's current client
// certificate and key (PEM). The caller must not modify them.
func (b *Bundle) AdminCredentials() (certPEM, keyPEM []byte) {
	if a := b.admin.Load(); a != nil {
		return a.certPEM, a.keyPEM
	}
	return b.AdminCertPEM, b.AdminKeyPEM
}
