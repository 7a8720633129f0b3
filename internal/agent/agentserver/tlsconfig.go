package agentserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// TLSConfig returns the TLS configuration for the agent's listener: it
// presents the certificate and key (PEM) and requires every client to
// present a certificate signed by the CA in caPEM and in group
// system:masters (VerifyAPIServerClient), which is how the API server gets
// in and nodes or users with CSR-issued certificates do not.
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
		MinVersion:       tls.VersionTLS12,
		Certificates:     []tls.Certificate{pair},
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        pool,
		VerifyConnection: VerifyAPIServerClient,
		NextProtos:       []string{"h2", "http/1.1"},
	}, nil
}

// privilegedGroup is the group of the API server's client certificate for
// agents. The CSR signers refuse to issue certificates in it
// (CertificateSubjectRestriction), so holding one means cluster admin.
const privilegedGroup = "system:masters"

// VerifyAPIServerClient accepts a connection only when the verified client
// certificate is in group system:masters. A node's certificate is signed by
// the same CA, and must not let one node exec into another node's pods.
func VerifyAPIServerClient(cs tls.ConnectionState) error {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return errors.New("agentserver: no verified client certificate")
	}
	for _, o := range cs.VerifiedChains[0][0].Subject.Organization {
		if o == privilegedGroup {
			return nil
		}
	}
	return fmt.Errorf("agentserver: client %q may not use the node agent's API", cs.VerifiedChains[0][0].Subject.CommonName)
}
