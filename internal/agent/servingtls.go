package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/skiff-io/skiff/internal/agent/agentserver"
)

// servingTLSConfig is the TLS configuration of the agent's API: the
// fixed certificate of Config, or the one Config.ServingCertificate
// returns at each handshake, with the same client requirements either
// way (a certificate from the cluster CA).
func (a *Agent) servingTLSConfig() (*tls.Config, error) {
	if a.cfg.ServingCertificate == nil {
		return agentserver.TLSConfig(a.cfg.CAPEM, a.cfg.ServingCertPEM, a.cfg.ServingKeyPEM)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(a.cfg.CAPEM) {
		return nil, errors.New("agent: no CA certificate found in the CA PEM")
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		GetCertificate:   a.cfg.ServingCertificate,
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        pool,
		VerifyConnection: agentserver.VerifyAPIServerClient,
		NextProtos:       []string{"h2", "http/1.1"},
	}, nil
}
