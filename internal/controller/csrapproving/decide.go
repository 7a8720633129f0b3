package csrapproving

import (
	"crypto/x509"
	"net"
	"slices"
	"strings"

	"github.com/skiff-io/skiff/internal/controller/csrsigning"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

// Messages of the Approved conditions the controller adds (reason
// AutoApproved); the first two are Kubernetes' own.
const (
	ReasonAutoApproved        = "AutoApproved"
	MessageNodeClient         = "Auto approving kubelet client certificate after SubjectAccessReview."
	MessageSelfNodeClient     = "Auto approving self kubelet client certificate after SubjectAccessReview."
	MessageKubeletServingNode = "Auto approving kubelet serving certificate after checking the node's name and addresses."
)

const (
	nodeUserPrefix = "system:node:"
	nodesGroup     = "system:nodes"
)

// verdict is what the approver does with a request.
type verdict int

const (
	// leave: not a request this controller approves; an administrator
	// decides (kubectl certificate approve/deny).
	leave verdict = iota
	// approve without asking anyone (kubelet serving requests that match
	// their Node).
	approve
	// authorize: approve when a SubjectAccessReview allows the requestor
	// one of the decision's permissions.
	authorize
	// waitForNode: a kubelet serving request whose Node is not known yet.
	waitForNode
)

// permission is a subresource of certificatesigningrequests the requestor
// must be allowed to create, and the approval message if it is.
type permission struct {
	subresource string
	message     string
}

// decision is the approver's plan for one request.
type decision struct {
	verdict verdict
	// perms are tried in order (verdict authorize).
	perms []permission
	// message is the Approved condition's message (verdict approve).
	message string
}

// decide plans what to do with a pending request. req is its parsed
// spec.request; node is the Node named by a kubelet serving request's
// common name, or nil when there is none (only consulted for those).
func decide(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest, node *corev1.Node) decision {
	switch csr.Spec.SignerName {
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		if csrsigning.ValidateKubeletClientRequest(req, csr.Spec.Usages) != nil {
			return decision{verdict: leave}
		}
		// A bootstrap token (or anyone allowed nodeclient) may ask for
		// any node's first credential; a node renewing may ask only for
		// its own.
		perms := []permission{{subresource: "nodeclient", message: MessageNodeClient}}
		if csr.Spec.Username == req.Subject.CommonName {
			perms = append(perms, permission{subresource: "selfnodeclient", message: MessageSelfNodeClient})
		}
		return decision{verdict: authorize, perms: perms}
	case certificatesv1.KubeletServingSignerName:
		return decideServing(csr, req, node)
	}
	return decision{verdict: leave}
}

// decideServing approves a node's serving certificate only when the node
// itself asks (requestor system:node:<n> in system:nodes, equal to the
// subject's CN) and every SAN is one of its names or addresses.
func decideServing(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest, node *corev1.Node) decision {
	if csrsigning.ValidateKubeletServingRequest(req, csr.Spec.Usages) != nil {
		return decision{verdict: leave}
	}
	if csr.Spec.Username != req.Subject.CommonName || !strings.HasPrefix(csr.Spec.Username, nodeUserPrefix) || !slices.Contains(csr.Spec.Groups, nodesGroup) {
		return decision{verdict: leave}
	}
	nodeName := strings.TrimPrefix(csr.Spec.Username, nodeUserPrefix)
	if node == nil {
		return decision{verdict: waitForNode}
	}
	if node.Name != nodeName {
		return decision{verdict: leave}
	}
	if !sansMatchNode(req, node) {
		return decision{verdict: leave}
	}
	return decision{verdict: approve, message: MessageKubeletServingNode}
}

// sansMatchNode reports whether every DNS SAN is the node's name or one of
// its Hostname addresses and every IP SAN one of its IP addresses.
func sansMatchNode(req *x509.CertificateRequest, node *corev1.Node) bool {
	names := []string{node.Name}
	var ips []net.IP
	for _, a := range node.Status.Addresses {
		switch a.Type {
		case corev1.NodeHostName:
			names = append(names, a.Address)
		case corev1.NodeInternalIP, corev1.NodeExternalIP:
			if ip := net.ParseIP(a.Address); ip != nil {
				ips = append(ips, ip)
			}
		}
	}
	for _, d := range req.DNSNames {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, d) }) {
			return false
		}
	}
	for _, ip := range req.IPAddresses {
		if !slices.ContainsFunc(ips, ip.Equal) {
			return false
		}
	}
	return true
}

// pending reports whether csr has neither a certificate nor an Approved or
// Denied condition.
func pending(csr *certificatesv1.CertificateSigningRequest) bool {
	if len(csr.Status.Certificate) > 0 {
		return false
	}
	for _, c := range csr.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved || c.Type == certificatesv1.CertificateDenied {
			return false
		}
	}
	return true
}
