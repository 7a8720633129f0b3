package pki

import "crypto/tls"

// ServerTLSConfig returns a new TLS configuration for the API server: it
// presents the current serving certificate (so certificates RenewLoop
// renews are used by new connections without a restart), requires TLS 1.2
// or later, offers HTTP/2 and HTTP/1.1 via ALPN, and verifies a client
// certificate against the CA when the client sends one (clients using
// tokens send none). Each call returns a fresh value the caller may
// modify.
func (b *Bundle) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return b.CurrentServingCert(), nil
		},
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  b.CAPool,
		NextProtos: []string{"h2", "http/1.1"},
	}
}
