package certs

import (
	"crypto/x509"
	"net"
	"slices"
	"time"
)

// Fractions of a certificate's life that drive renewal, as the kubelet
// uses them: a stored certificate is reused on start while more than
// reuseRemaining of its life is left, and a running agent renews it once
// renewMin to renewMin+renewJitter of its life has passed (jittered so
// nodes started together do not renew together).
const (
	reuseRemaining = 0.3
	renewMin       = 0.7
	renewJitter    = 0.2
)

// lifetime is how long cert is valid in all.
func lifetime(cert *x509.Certificate) time.Duration { return cert.NotAfter.Sub(cert.NotBefore) }

// reusable reports whether a stored certificate may be used as it is at
// now: it is valid and more than reuseRemaining of its life is left.
func reusable(cert *x509.Certificate, now time.Time) bool {
	if now.Before(cert.NotBefore) || !now.Before(cert.NotAfter) {
		return false
	}
	return float64(cert.NotAfter.Sub(now)) > reuseRemaining*float64(lifetime(cert))
}

// renewalTime is when a running agent renews cert, for a jitter draw r in
// [0, 1).
func renewalTime(cert *x509.Certificate, r float64) time.Time {
	frac := renewMin + renewJitter*r
	return cert.NotBefore.Add(time.Duration(frac * float64(lifetime(cert))))
}

// fits reports whether cert is the certificate r asks for: the node's
// identity, signed by the CA, and (serving) covering every host.
func fits(cert *x509.Certificate, r request, ca *x509.CertPool) bool {
	if cert.Subject.CommonName != NodeUser(r.nodeName) || !slices.Contains(cert.Subject.Organization, NodesGroup) {
		return false
	}
	usage := x509.ExtKeyUsageClientAuth
	if r.kind == servingKind {
		usage = x509.ExtKeyUsageServerAuth
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: cert.NotBefore.Add(lifetime(cert) / 2)}); err != nil {
		return false
	}
	if r.kind != servingKind {
		return true
	}
	for _, h := range r.hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				return false
			}
		} else if h != "" && !slices.Contains(cert.DNSNames, h) {
			return false
		}
	}
	return true
}
