package admission

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CSRRequester records who asked for a certificate: on create of a
// certificates.k8s.io CertificateSigningRequest it overwrites
// spec.username, uid, groups and extra with the requesting user, whatever
// the client sent, so approvers and signers can trust them (Kubernetes'
// registry strategy does the same). A write without a user (in-process)
// leaves the fields empty. Updates never change them: the CSR strategy
// keeps the stored spec.
type CSRRequester struct{}

// Admit implements apiserver.Admission.
func (CSRRequester) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || !isCSR(a) {
		return nil
	}
	csr, ok := a.Object.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return nil
	}
	csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups, csr.Spec.Extra = "", "", nil, nil
	if a.User == nil {
		return nil
	}
	csr.Spec.Username = a.User.Name
	csr.Spec.UID = a.User.UID
	// Copies: the request's user is shared and must never be modified.
	csr.Spec.Groups = slices.Clone(a.User.Groups)
	if len(a.User.Extra) > 0 {
		csr.Spec.Extra = make(map[string]certificatesv1.ExtraValue, len(a.User.Extra))
		for k, v := range a.User.Extra {
			csr.Spec.Extra[k] = slices.Clone(v)
		}
	}
	return nil
}

// Done implements apiserver.Admission.
func (CSRRequester) Done(*apiserver.Attributes, bool) {}

// isCSR reports whether a is a write to certificatesigningrequests.
func isCSR(a *apiserver.Attributes) bool {
	return a.Resource.Group == certificatesv1.GroupName && a.Resource.Resource == "certificatesigningrequests"
}

// csrGroupResource names CSRs in Forbidden errors.
var csrGroupResource = schema.GroupResource{Group: certificatesv1.GroupName, Resource: "certificatesigningrequests"}

// CertificateApproval refuses updates through certificatesigningrequests/
// approval by users who may not "approve" the request's signer
// (certificates.k8s.io signers/<signerName>, or signers/<domain>/*), as
// Kubernetes' CertificateApproval admission plug-in does. The signer name
// is taken from the new object, so that changing it cannot dodge the check.
// In-process writes (no user) are trusted.
type CertificateApproval struct {
	Authorizer authorizer.Authorizer
}

// Admit implements apiserver.Admission.
func (p *CertificateApproval) Admit(a *apiserver.Attributes) error {
	if a.Verb != "update" || a.Subresource != "approval" || !isCSR(a) || a.User == nil {
		return nil
	}
	csr, ok := a.Object.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return nil
	}
	if !authorizedForSigner(p.Authorizer, a.User, "approve", csr.Spec.SignerName) {
		return apierrors.NewForbidden(csrGroupResource, a.Name, fmt.Errorf("user not permitted to approve requests with signerName %q", csr.Spec.SignerName))
	}
	return nil
}

// Done implements apiserver.Admission.
func (p *CertificateApproval) Done(*apiserver.Attributes, bool) {}

// CertificateSigning refuses status updates that set or change
// status.certificate by users who may not "sign" for the request's signer,
// as Kubernetes' CertificateSigning admission plug-in does. The signer name
// is taken from the stored object. In-process writes are trusted.
type CertificateSigning struct {
	Authorizer authorizer.Authorizer
}

// Admit implements apiserver.Admission.
func (p *CertificateSigning) Admit(a *apiserver.Attributes) error {
	if a.Verb != "update" || a.Subresource != "status" || !isCSR(a) || a.User == nil {
		return nil
	}
	csr, ok1 := a.Object.(*certificatesv1.CertificateSigningRequest)
	old, ok2 := a.Old.(*certificatesv1.CertificateSigningRequest)
	if !ok1 || !ok2 || bytes.Equal(csr.Status.Certificate, old.Status.Certificate) {
		return nil
	}
	if !authorizedForSigner(p.Authorizer, a.User, "sign", old.Spec.SignerName) {
		return apierrors.NewForbidden(csrGroupResource, a.Name, fmt.Errorf("user not permitted to sign requests with signerName %q", old.Spec.SignerName))
	}
	return nil
}

// Done implements apiserver.Admission.
func (p *CertificateSigning) Done(*apiserver.Attributes, bool) {}

// CertificateSubjectRestriction refuses requests to the
// kubernetes.io/kube-apiserver-client signer for a certificate in the
// system:masters group, which would carry unrestricted cluster access, as
// Kubernetes' plug-in of that name does.
type CertificateSubjectRestriction struct{}

// Admit implements apiserver.Admission.
func (CertificateSubjectRestriction) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || !isCSR(a) {
		return nil
	}
	csr, ok := a.Object.(*certificatesv1.CertificateSigningRequest)
	if !ok || csr.Spec.SignerName != certificatesv1.KubeAPIServerClientSignerName {
		return nil
	}
	block, _ := pem.Decode(csr.Spec.Request)
	if block == nil {
		return nil // validation reports the malformed request
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil
	}
	if slices.Contains(req.Subject.Organization, user.SystemPrivilegedGroup) {
		return apierrors.NewForbidden(csrGroupResource, a.Name, fmt.Errorf("use of %s signer with %s group is not allowed", csr.Spec.SignerName, user.SystemPrivilegedGroup))
	}
	return nil
}

// Done implements apiserver.Admission.
func (CertificateSubjectRestriction) Done(*apiserver.Attributes, bool) {}

// authorizedForSigner asks whether u may verb the signer signerName, or
// failing that every signer of its domain ("example.com/*"), on the
// certificates.k8s.io "signers" resource. Errors count as a refusal.
func authorizedForSigner(az authorizer.Authorizer, u *user.Info, verb, signerName string) bool {
	if az == nil {
		return false
	}
	domain, _, _ := strings.Cut(signerName, "/")
	for _, name := range []string{signerName, domain + "/*"} {
		d, _, err := az.Authorize(context.Background(), authorizer.Attributes{
			User: u, Verb: verb, ResourceRequest: true,
			APIGroup: certificatesv1.GroupName, APIVersion: "*", Resource: "signers", Name: name,
		})
		if err == nil && d == authorizer.Allow {
			return true
		}
	}
	return false
}
