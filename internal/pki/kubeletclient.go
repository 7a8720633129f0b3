package pki

import "crypto/tls"

// KubeletClientTLSConfig returns a new TLS configuration for the API
// server's connections to node agents: it presents the current kubelet
// client certificate (following RenewLoop's renewals), trusts only the
// cluster CA for the agents' serving certificates, requires TLS 1.2 or
// later and speaks HTTP/1.1 only, because exec, attach and port-forward
// upgrade the connection, which HTTP/2 cannot do. Each call returns a
// fresh value the caller may modify.
func (b *Bundle) KubeletClientTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return b.CurrentKubeletClientCert(), nil
		},
		RootCAs:    b.CAPool,
		NextProtos: []string{"http/1.1"},
	}
}
