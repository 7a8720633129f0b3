package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"time"
)

// caMaterial is the loaded cluster CA.
type caMaterial struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// loadOrCreateCA loads the CA from dir, creating it only when no CA
// certificate exists. The key is written before the certificate, so a
// certificate on disk always has its key next to it; a key without a
// certificate is an interrupted first start and is replaced.
func loadOrCreateCA(dir string, now time.Time) (caMaterial, error) {
	certPath := filepath.Join(dir, CACertFile)
	keyPath := filepath.Join(dir, CAKeyFile)
	certPEM, err := readOptional(certPath)
	if err != nil {
		return caMaterial{}, fmt.Errorf("pki: CA: %w", err)
	}
	if certPEM == nil {
		certPEM, keyPEM, err := newCA(now)
		if err != nil {
			return caMaterial{}, fmt.Errorf("pki: CA: %w", err)
		}
		if err := WriteFileAtomic(keyPath, keyPEM, secretMode); err != nil {
			return caMaterial{}, fmt.Errorf("pki: CA: %w", err)
		}
		if err := WriteFileAtomic(certPath, certPEM, publicMode); err != nil {
			return caMaterial{}, fmt.Errorf("pki: CA: %w", err)
		}
		return parseCA(certPEM, keyPEM, now)
	}
	keyPEM, err := readOptional(keyPath)
	if err != nil {
		return caMaterial{}, fmt.Errorf("pki: CA: %w", err)
	}
	if keyPEM == nil {
		// Silently minting a new CA would break every client that trusts
		// the old one; the operator has to decide.
		return caMaterial{}, fmt.Errorf("pki: CA certificate %s exists but its key %s is missing", certPath, keyPath)
	}
	return parseCA(certPEM, keyPEM, now)
}

func parseCA(certPEM, keyPEM []byte, now time.Time) (caMaterial, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return caMaterial{}, fmt.Errorf("pki: CA certificate: %w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return caMaterial{}, fmt.Errorf("pki: CA key: %w", err)
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return caMaterial{}, fmt.Errorf("pki: CA key does not match CA certificate")
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return caMaterial{}, fmt.Errorf("pki: CA certificate %q is not allowed to sign certificates", cert.Subject.CommonName)
	}
	if now.After(cert.NotAfter) {
		return caMaterial{}, fmt.Errorf("pki: CA certificate %q expired at %s", cert.Subject.CommonName, cert.NotAfter.Format(time.RFC3339))
	}
	return caMaterial{cert: cert, key: key, certPEM: certPEM}, nil
}
