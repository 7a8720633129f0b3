package server

import (
	"crypto/tls"
	"time"

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

// componentCertValidity is how long a component's in-memory client
// certificate lasts; a new one is issued at every start.
const componentCertValidity = 365 * 24 * time.Hour

// as returns loopback credentials for another identity (a component's
// user), issued from the cluster CA and never written to disk.
func (l *loopback) as(user string, groups []string) (*loopback, error) {
	certPEM, keyPEM, err := l.bundle.IssueClientCert(user, groups, componentCertValidity)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &loopback{url: l.url, caPEM: l.caPEM, certPEM: certPEM, keyPEM: keyPEM, cert: cert, bundle: l.bundle}, nil
}
