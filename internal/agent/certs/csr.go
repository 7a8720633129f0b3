// Package certs keeps a node agent's client and serving certificates:
// it requests them from the cluster through certificates.k8s.io CSRs,
// stores them under the agent's directory, and renews them while the
// agent runs, swapping new ones in without a restart.
package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/certificate/csr"
)

// Signer names and identities of node certificates, as Kubernetes names
// them.
const (
	// ClientSignerName signs node client certificates (CN
	// system:node:<name>, O system:nodes).
	ClientSignerName = certificatesv1.KubeAPIServerClientKubeletSignerName
	// ServingSignerName signs node serving certificates.
	ServingSignerName = certificatesv1.KubeletServingSignerName
	// NodesGroup is the group of every node's identity.
	NodesGroup = "system:nodes"
	// nodeUserPrefix starts every node's user name.
	nodeUserPrefix = "system:node:"
)

// NodeUser is the user name of the node called nodeName.
func NodeUser(nodeName string) string { return nodeUserPrefix + nodeName }

// DefaultApprovalTimeout is how long a CSR may wait for approval and
// signing before the request is given up.
const DefaultApprovalTimeout = 5 * time.Minute

// kind tells the two certificates of a node apart.
type kind int

const (
	clientKind kind = iota
	servingKind
)

func (k kind) String() string {
	if k == clientKind {
		return "client"
	}
	return "serving"
}

// request describes one node certificate to ask for.
type request struct {
	kind     kind
	nodeName string
	// hosts are the serving certificate's SANs (names and IPs).
	hosts []string
}

// template returns the CSR's subject, SANs, signer and usages: what the
// signer and the auto-approver of the API server require of a node.
func (r request) template() (*x509.CertificateRequest, string, []certificatesv1.KeyUsage) {
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: NodeUser(r.nodeName), Organization: []string{NodesGroup}}}
	if r.kind == clientKind {
		return tmpl, ClientSignerName, []certificatesv1.KeyUsage{
			certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}
	}
	for _, h := range r.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return tmpl, ServingSignerName, []certificatesv1.KeyUsage{
		certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth}
}

// requestCertificate creates a CSR for r with a fresh key through client
// and waits, at most timeout, for it to be approved and signed. It returns
// the PEM certificate and key.
func requestCertificate(ctx context.Context, client kubernetes.Interface, r request, timeout time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating key: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding key: %w", err)
	}
	tmpl, signer, usages := r.template()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the certificate request: %w", err)
	}
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	// No name: the API server generates one, so a retried request never
	// collides with an earlier one made with another key.
	name, uid, err := csr.RequestCertificateWithContext(ctx, client, csrPEM, "", signer, nil, usages, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s certificate for node %s: %w", r.kind, r.nodeName, err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	certPEM, err = csr.WaitForCertificate(wctx, client, name, uid)
	if err != nil {
		if wait.Interrupted(err) || errors.Is(err, context.DeadlineExceeded) {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			return nil, nil, fmt.Errorf("%s certificate for node %s: CertificateSigningRequest %s was not approved and signed within %v: approve it with `kubectl certificate approve %s` or check the server's CSR approver", r.kind, r.nodeName, name, timeout, name)
		}
		return nil, nil, fmt.Errorf("%s certificate for node %s: CertificateSigningRequest %s: %w", r.kind, r.nodeName, name, err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
