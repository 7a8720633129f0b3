package certs

import (
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/skiff-io/skiff/internal/pki"
)

// nodeClientValidity is how long NodeClientConfig's certificates last;
// the in-server agent gets a new one at every start.
const nodeClientValidity = 365 * 24 * time.Hour

// NodeClientConfig returns a copy of base that authenticates as the node
// nodeName (CN system:node:<nodeName>, O system:nodes) with a client
// certificate issued directly from bundle's CA, for the agent that runs
// inside the server and so needs no CSR. Other credentials of base
// (tokens, certificate files, impersonation) are dropped; its CA is kept.
func NodeClientConfig(bundle *pki.Bundle, base *rest.Config, nodeName string) (*rest.Config, error) {
	if nodeName == "" {
		return nil, fmt.Errorf("node client config: node name is required")
	}
	certPEM, keyPEM, err := bundle.IssueClientCert(NodeUser(nodeName), []string{NodesGroup}, nodeClientValidity)
	if err != nil {
		return nil, fmt.Errorf("node client config: %w", err)
	}
	rc := rest.AnonymousClientConfig(base)
	rc.CertFile, rc.KeyFile = "", ""
	rc.CertData, rc.KeyData = certPEM, keyPEM
	if len(rc.CAData) == 0 && rc.CAFile == "" {
		rc.CAData = bundle.CAPEM()
	}
	return rc, nil
}
