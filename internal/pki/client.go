package pki

import (
	"crypto/x509"
	"fmt"
	"time"
)

// IssueClientCert signs a new client-authentication certificate with the
// cluster CA for user commonName in groups orgs (the subject's O values),
// valid from now for validity, capped at the CA's expiry. It returns the
// PEM-encoded certificate and its fresh ECDSA private key. Nothing is
// written to disk.
func (b *Bundle) IssueClientCert(commonName string, orgs []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if commonName == "" {
		return nil, nil, fmt.Errorf("pki: client certificate needs a common name")
	}
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	certPEM, keyPEM, err = signLeaf(b.CA, b.CAKey, leafSpec{
		commonName: commonName,
		orgs:       orgs,
		usage:      x509.ExtKeyUsageClientAuth,
	}, now(), validity)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: client certificate: %w", err)
	}
	return certPEM, keyPEM, nil
}
