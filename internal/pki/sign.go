package pki

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// SignCSR issues a certificate for the key and identity in csr, signed by
// the cluster CA, and returns it PEM-encoded. The certificate carries the
// request's subject and subject alternative names (DNS, IP, email, URI),
// the given extended usages and key usage, and nothing else the request
// asks for: the caller (a signer controller) has already decided the
// request is acceptable. It is valid from now (backdated like every leaf
// this package issues, for clients whose clocks lag) for duration, but
// never beyond the CA's own expiry. The request's self-signature is
// checked again so that a key the requester does not hold is never
// certified.
func (b *Bundle) SignCSR(csr *x509.CertificateRequest, usages []x509.ExtKeyUsage, keyUsage x509.KeyUsage, duration time.Duration) ([]byte, error) {
	if csr == nil {
		return nil, errors.New("pki: no certificate request to sign")
	}
	if duration <= 0 {
		return nil, fmt.Errorf("pki: certificate duration must be positive, got %v", duration)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pki: certificate request signature: %w", err)
	}
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	start := now()
	notAfter := start.Add(duration)
	if notAfter.After(b.CA.NotAfter) {
		notAfter = b.CA.NotAfter
	}
	if !notAfter.After(start) {
		return nil, fmt.Errorf("pki: CA certificate %q expired at %s", b.CA.Subject.CommonName, b.CA.NotAfter.Format(time.RFC3339))
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               csr.Subject,
		NotBefore:             start.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           usages,
		BasicConstraintsValid: true,
		DNSNames:              csr.DNSNames,
		IPAddresses:           csr.IPAddresses,
		EmailAddresses:        csr.EmailAddresses,
		URIs:                  csr.URIs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, b.CA, csr.PublicKey, b.CAKey)
	if err != nil {
		return nil, fmt.Errorf("pki: signing certificate for %q: %w", csr.Subject.CommonName, err)
	}
	return encodeCert(der), nil
}
