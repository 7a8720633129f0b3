package server

import (
	"crypto/tls"
	"github.com/skiff-io/skiff/internal/pki"

	"k8s.io/client-go/rest"
)

// loopback holds the credentials of the server's in-process clients.
type loopback struct {
	url                    string
	caPEM, certPEM, keyPEM []byte
	cert                   tls.Certificate
	bundle                 *pki.Bundle
}

// restConfig returns a client configuration for the API server, with
// client-side throttling off: these clients are part of the server.
func (l *loopback) restConfig() *rest.Config {
	return &rest.Config{
		Host: l.url,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: l.caPEM, CertData: l.certPEM, KeyData: l.keyPEM,
		},
		QPS:       -1,
		UserAgent: "skiff-server",
	}
}
