package csrsigning

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// Errors for requests that break a Kubernetes signer's documented rules,
// worded as Kubernetes words them (they become the Failed condition's
// message).
var (
	errOrganizationNotNodes = errors.New("subject organization is not system:nodes")
	errCommonNameNotNode    = errors.New("subject common name does not begin with system:node:")
	errDNSOrIPSANRequired   = errors.New("DNS or IP subjectAltName is required")
	errDNSSANNotAllowed     = errors.New("DNS subjectAltNames are not allowed")
	errEmailSANNotAllowed   = errors.New("Email subjectAltNames are not allowed")
	errIPSANNotAllowed      = errors.New("IP subjectAltNames are not allowed")
	errURISANNotAllowed     = errors.New("URI subjectAltNames are not allowed")
)

const (
	nodesGroup     = "system:nodes"
	nodeUserPrefix = "system:node:"
)

// ParseRequest decodes a CSR's spec.request: the first PEM block must be a
// "CERTIFICATE REQUEST" whose self-signature verifies.
func ParseRequest(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("checking certificate request signature: %w", err)
	}
	return req, nil
}

// The usage sets the kubelet signers accept: exactly one of each pair
// (the second for keys that cannot encipher, e.g. ECDSA).
var (
	kubeletClientUsages = [][]certificatesv1.KeyUsage{
		{certificatesv1.UsageClientAuth, certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment},
		{certificatesv1.UsageClientAuth, certificatesv1.UsageDigitalSignature},
	}
	kubeletServingUsages = [][]certificatesv1.KeyUsage{
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth},
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
	}
)

// ValidateKubeletClientRequest applies the rules of
// kubernetes.io/kube-apiserver-client-kubelet: subject O=[system:nodes],
// CN system:node:<name>, no subject alternative names, and usages exactly
// {client auth, digital signature[, key encipherment]}.
func ValidateKubeletClientRequest(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !slices.Equal(req.Subject.Organization, []string{nodesGroup}) {
		return errOrganizationNotNodes
	}
	switch {
	case len(req.DNSNames) > 0:
		return errDNSSANNotAllowed
	case len(req.EmailAddresses) > 0:
		return errEmailSANNotAllowed
	case len(req.IPAddresses) > 0:
		return errIPSANNotAllowed
	case len(req.URIs) > 0:
		return errURISANNotAllowed
	}
	if !strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix) {
		return errCommonNameNotNode
	}
	return matchUsages(usages, kubeletClientUsages)
}

// ValidateKubeletServingRequest applies the rules of
// kubernetes.io/kubelet-serving: subject O=[system:nodes], CN
// system:node:<name>, at least one DNS or IP SAN and no email or URI SANs,
// and usages exactly {server auth, digital signature[, key encipherment]}.
func ValidateKubeletServingRequest(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !slices.Equal(req.Subject.Organization, []string{nodesGroup}) {
		return errOrganizationNotNodes
	}
	switch {
	case len(req.DNSNames) == 0 && len(req.IPAddresses) == 0:
		return errDNSOrIPSANRequired
	case len(req.EmailAddresses) > 0:
		return errEmailSANNotAllowed
	case len(req.URIs) > 0:
		return errURISANNotAllowed
	}
	if err := matchUsages(usages, kubeletServingUsages); err != nil {
		return err
	}
	if !strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix) {
		return errCommonNameNotNode
	}
	return nil
}

// validateAPIServerClientUsages applies kubernetes.io/kube-apiserver-client's
// only rule (any subject is allowed): client auth is required, digital
// signature and key encipherment are optional, nothing else is allowed.
func validateAPIServerClientUsages(usages []certificatesv1.KeyUsage) error {
	hasClientAuth := false
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment:
		case certificatesv1.UsageClientAuth:
			hasClientAuth = true
		default:
			return fmt.Errorf("invalid usage for client certificate: %s", u)
		}
	}
	if !hasClientAuth {
		return fmt.Errorf("missing required usage for client certificate: %s", certificatesv1.UsageClientAuth)
	}
	return nil
}

// matchUsages requires usages, as a set, to equal one of allowed; the
// error lists the first (full) set, sorted, as Kubernetes reports it.
func matchUsages(usages []certificatesv1.KeyUsage, allowed [][]certificatesv1.KeyUsage) error {
	got := slices.Clone(usages)
	slices.Sort(got)
	got = slices.Compact(got)
	for _, want := range allowed {
		if slices.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("usages did not match %v", allowed[0])
}

// IsOurSigner reports whether this controller signs for signerName.
func IsOurSigner(signerName string) bool {
	switch signerName {
	case certificatesv1.KubeAPIServerClientSignerName, certificatesv1.KubeAPIServerClientKubeletSignerName, certificatesv1.KubeletServingSignerName:
		return true
	}
	return false
}

// validateForSigner returns why a request breaks its signer's rules, or nil.
func validateForSigner(signerName string, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	switch signerName {
	case certificatesv1.KubeAPIServerClientSignerName:
		return validateAPIServerClientUsages(usages)
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		return ValidateKubeletClientRequest(req, usages)
	case certificatesv1.KubeletServingSignerName:
		return ValidateKubeletServingRequest(req, usages)
	}
	return fmt.Errorf("signer %q is not handled by this controller", signerName)
}

// keyUsageBits and extKeyUsages map the API's usage names to X.509.
var (
	keyUsageBits = map[certificatesv1.KeyUsage]x509.KeyUsage{
		certificatesv1.UsageSigning:           x509.KeyUsageDigitalSignature,
		certificatesv1.UsageDigitalSignature:  x509.KeyUsageDigitalSignature,
		certificatesv1.UsageContentCommitment: x509.KeyUsageContentCommitment,
		certificatesv1.UsageKeyEncipherment:   x509.KeyUsageKeyEncipherment,
		certificatesv1.UsageKeyAgreement:      x509.KeyUsageKeyAgreement,
		certificatesv1.UsageDataEncipherment:  x509.KeyUsageDataEncipherment,
		certificatesv1.UsageCertSign:          x509.KeyUsageCertSign,
		certificatesv1.UsageCRLSign:           x509.KeyUsageCRLSign,
		certificatesv1.UsageEncipherOnly:      x509.KeyUsageEncipherOnly,
		certificatesv1.UsageDecipherOnly:      x509.KeyUsageDecipherOnly,
	}
	extKeyUsages = map[certificatesv1.KeyUsage]x509.ExtKeyUsage{
		certificatesv1.UsageAny:             x509.ExtKeyUsageAny,
		certificatesv1.UsageServerAuth:      x509.ExtKeyUsageServerAuth,
		certificatesv1.UsageClientAuth:      x509.ExtKeyUsageClientAuth,
		certificatesv1.UsageCodeSigning:     x509.ExtKeyUsageCodeSigning,
		certificatesv1.UsageEmailProtection: x509.ExtKeyUsageEmailProtection,
		certificatesv1.UsageSMIME:           x509.ExtKeyUsageEmailProtection,
		certificatesv1.UsageIPsecEndSystem:  x509.ExtKeyUsageIPSECEndSystem,
		certificatesv1.UsageIPsecTunnel:     x509.ExtKeyUsageIPSECTunnel,
		certificatesv1.UsageIPsecUser:       x509.ExtKeyUsageIPSECUser,
		certificatesv1.UsageTimestamping:    x509.ExtKeyUsageTimeStamping,
		certificatesv1.UsageOCSPSigning:     x509.ExtKeyUsageOCSPSigning,
		certificatesv1.UsageMicrosoftSGC:    x509.ExtKeyUsageMicrosoftServerGatedCrypto,
		certificatesv1.UsageNetscapeSGC:     x509.ExtKeyUsageNetscapeServerGatedCrypto,
	}
)

// x509Usages converts API usages into the certificate's key usage bits and
// extended key usages (each once, in request order).
func x509Usages(usages []certificatesv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var bits x509.KeyUsage
	var ext []x509.ExtKeyUsage
	for _, u := range usages {
		if b, ok := keyUsageBits[u]; ok {
			bits |= b
			continue
		}
		e, ok := extKeyUsages[u]
		if !ok {
			return 0, nil, fmt.Errorf("unknown key usage %q", u)
		}
		if !slices.Contains(ext, e) {
			ext = append(ext, e)
		}
	}
	return bits, ext, nil
}
