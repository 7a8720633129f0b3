package pki

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// IssueServingCert signs a new server-authentication certificate with the
// cluster CA, e.g. for a node agent's HTTPS API. hosts become the subject
// alternative names: entries that parse as IP addresses become IP SANs, the
// rest DNS SANs (duplicates and empty entries are dropped). The certificate
// is valid from now for validity, capped at the CA's expiry. It returns the
// PEM-encoded certificate and its fresh ECDSA private key. Nothing is
// written to disk.
func (b *Bundle) IssueServingCert(commonName string, hosts []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if commonName == "" {
		return nil, nil, fmt.Errorf("pki: serving certificate needs a common name")
	}
	var sans sanSet
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if ip, err := netip.ParseAddr(h); err == nil {
			sans.addIP(ip)
			continue
		}
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("pki: serving certificate host %q is neither an IP address nor a DNS name", h)
		}
		sans.addDNS(h)
	}
	if len(sans.dns) == 0 && len(sans.ips) == 0 {
		return nil, nil, fmt.Errorf("pki: serving certificate for %q needs at least one host", commonName)
	}
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	certPEM, keyPEM, err = signLeaf(b.CA, b.CAKey, leafSpec{
		commonName: commonName,
		usage:      x509.ExtKeyUsageServerAuth,
		dnsNames:   sans.dns,
		ips:        sans.ips,
	}, now(), validity)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: serving certificate: %w", err)
	}
	return certPEM, keyPEM, nil
}
