package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// leafMaterial is a loaded or freshly issued leaf certificate.
type leafMaterial struct {
	certPEM, keyPEM []byte
	pair            tls.Certificate
}

// renewalDue decides from a leaf's validity whether it is time to replace
// it at now.
type renewalDue func(cert *x509.Certificate, now time.Time) bool

// expiresWithin is due when at most d of the leaf's validity is left.
func expiresWithin(d time.Duration) renewalDue {
	return func(cert *x509.Certificate, now time.Time) bool { return !now.Add(d).Before(cert.NotAfter) }
}

// ensureLeaf returns the leaf stored under certFile/keyFile in dir if it
// still satisfies spec and due says it is not time to renew it, and
// otherwise issues and stores a new one.
func ensureLeaf(dir, certFile, keyFile string, ca caMaterial, now time.Time, spec leafSpec, due renewalDue) (leafMaterial, error) {
	certPath := filepath.Join(dir, certFile)
	keyPath := filepath.Join(dir, keyFile)
	certPEM, err := readOptional(certPath)
	if err != nil {
		return leafMaterial{}, err
	}
	keyPEM, err := readOptional(keyPath)
	if err != nil {
		return leafMaterial{}, err
	}
	if certPEM != nil && keyPEM != nil {
		if leaf, ok := usableLeaf(certPEM, keyPEM, ca.cert, now, spec, due); ok {
			return leaf, nil
		}
	}

	certPEM, keyPEM, err = signLeaf(ca.cert, ca.key, spec, now, leafValidity)
	if err != nil {
		return leafMaterial{}, err
	}
	// Key first: should we stop in between, the new key does not match
	// the old certificate and the next start reissues both.
	if err := WriteFileAtomic(keyPath, keyPEM, secretMode); err != nil {
		return leafMaterial{}, err
	}
	if err := WriteFileAtomic(certPath, certPEM, publicMode); err != nil {
		return leafMaterial{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return leafMaterial{}, fmt.Errorf("loading issued certificate: %w", err)
	}
	return leafMaterial{certPEM: certPEM, keyPEM: keyPEM, pair: pair}, nil
}

// usableLeaf reports whether the stored pair can keep being used: key and
// certificate match, the CA signed it, it is valid now and not due for
// renewal, and it says what spec requires.
func usableLeaf(certPEM, keyPEM []byte, ca *x509.Certificate, now time.Time, spec leafSpec, due renewalDue) (leafMaterial, bool) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil || pair.Leaf == nil {
		return leafMaterial{}, false
	}
	cert := pair.Leaf
	if cert.CheckSignatureFrom(ca) != nil {
		return leafMaterial{}, false
	}
	if now.Before(cert.NotBefore) {
		return leafMaterial{}, false
	}
	// A leaf already running to the CA's own expiry cannot be improved by
	// reissuing; doing so anyway would churn it on every start.
	if due(cert, now) && cert.NotAfter.Before(ca.NotAfter) {
		return leafMaterial{}, false
	}
	if cert.Subject.CommonName != spec.commonName || !slices.Contains(cert.ExtKeyUsage, spec.usage) {
		return leafMaterial{}, false
	}
	for _, o := range spec.orgs {
		if !slices.Contains(cert.Subject.Organization, o) {
			return leafMaterial{}, false
		}
	}
	if !(sanSet{dns: spec.dnsNames, ips: spec.ips}).coveredBy(cert.DNSNames, cert.IPAddresses) {
		return leafMaterial{}, false
	}
	return leafMaterial{certPEM: certPEM, keyPEM: keyPEM, pair: pair}, true
}
