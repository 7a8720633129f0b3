package agentserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// TLSConfig returns the TLS configuration for the agent's listener: it
// presents the certificate and key (PEM) and requires every client to
// present a certificate signed by the CA in caPEM, which is how the API
// server (and only holders of cluster-CA client certificates) gets in.
// TLS 1.2 or later; HTTP/2 and HTTP/1.1 are offered (streaming clients
// choose HTTP/1.1, whose connections can be upgraded).
func TLSConfig(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("agentserver: no CA certificate found in the CA PEM")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("agentserver: serving certificate: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}
