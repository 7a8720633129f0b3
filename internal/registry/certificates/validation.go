package certificates

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MinExpirationSeconds is the shortest certificate lifetime a request may
// ask for (ten minutes), as in Kubernetes.
const MinExpirationSeconds = 600

// legacyUnknownSigner is the v1beta1 signer v1 refuses.
const legacyUnknownSigner = "kubernetes.io/legacy-unknown"

// validUsages is every key usage Kubernetes accepts, sorted as its error
// messages list them.
var validUsages = []string{
	string(certificatesv1.UsageAny), string(certificatesv1.UsageCRLSign), string(certificatesv1.UsageCertSign),
	string(certificatesv1.UsageClientAuth), string(certificatesv1.UsageCodeSigning), string(certificatesv1.UsageContentCommitment),
	string(certificatesv1.UsageDataEncipherment), string(certificatesv1.UsageDecipherOnly), string(certificatesv1.UsageDigitalSignature),
	string(certificatesv1.UsageEmailProtection), string(certificatesv1.UsageEncipherOnly), string(certificatesv1.UsageIPsecEndSystem),
	string(certificatesv1.UsageIPsecTunnel), string(certificatesv1.UsageIPsecUser), string(certificatesv1.UsageKeyAgreement),
	string(certificatesv1.UsageKeyEncipherment), string(certificatesv1.UsageMicrosoftSGC), string(certificatesv1.UsageNetscapeSGC),
	string(certificatesv1.UsageOCSPSigning), string(certificatesv1.UsageSMIME), string(certificatesv1.UsageServerAuth),
	string(certificatesv1.UsageSigning), string(certificatesv1.UsageTimestamping),
}

// updateRights says what the path of an update may change besides
// metadata: the approval subresource the Approved/Denied conditions, the
// status subresource the certificate.
type updateRights struct {
	approval    bool
	certificate bool
}

// validateCSR returns every problem of csr; old is nil on create. Problems
// already present in old are tolerated, so that stored objects written
// under laxer rules can still be updated, as Kubernetes does.
func validateCSR(csr, old *certificatesv1.CertificateSigningRequest, rights updateRights) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if _, err := parseRequest(csr.Spec.Request); err != nil {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, err.Error()))
	}
	usages := spec.Child("usages")
	if len(csr.Spec.Usages) == 0 {
		errs = append(errs, field.Required(usages, ""))
	}
	seen := map[certificatesv1.KeyUsage]bool{}
	for i, u := range csr.Spec.Usages {
		if !slices.Contains(validUsages, string(u)) {
			errs = append(errs, field.NotSupported(usages.Index(i), u, validUsages))
		}
		if seen[u] {
			errs = append(errs, field.Duplicate(usages.Index(i), u))
		}
		seen[u] = true
	}
	if csr.Spec.SignerName == legacyUnknownSigner && (old == nil || old.Spec.SignerName != legacyUnknownSigner) {
		errs = append(errs, field.Invalid(spec.Child("signerName"), csr.Spec.SignerName, "the legacy signerName is not allowed via this API version"))
	} else if csr.Spec.SignerName != legacyUnknownSigner {
		errs = append(errs, validateSignerName(spec.Child("signerName"), csr.Spec.SignerName)...)
	}
	if e := csr.Spec.ExpirationSeconds; e != nil && *e < MinExpirationSeconds {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *e, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	errs = append(errs, validateConditions(csr, old)...)
	certUnchanged := old != nil && bytes.Equal(csr.Status.Certificate, old.Status.Certificate)
	if !certUnchanged {
		if err := validateCertificatePEM(csr.Status.Certificate); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", err.Error()))
		}
	}
	if old != nil {
		errs = append(errs, validateTransition(csr, old, rights)...)
	}
	return errs
}

// parseRequest decodes the first PEM block of data, which must be a
// "CERTIFICATE REQUEST", and checks the request's self-signature.
func parseRequest(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	// The x509 errors are returned as they are: they become the API's
	// validation message, which Kubernetes does not prefix either.
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	if err := req.CheckSignature(); err != nil {
		return nil, err
	}
	return req, nil
}

// validateSignerName requires "<domain>/<path>": a domain of at least two
// DNS labels and a path of DNS subdomains separated by dots.
func validateSignerName(fld *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	domain, signerPath, ok := strings.Cut(name, "/")
	if !ok || strings.Contains(signerPath, "/") {
		return field.ErrorList{field.Invalid(fld, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")}
	}
	var errs field.ErrorList
	if len(domain) > validation.DNS1123SubdomainMaxLength {
		errs = append(errs, field.TooLong(fld, "", validation.DNS1123SubdomainMaxLength))
	}
	labels := strings.Split(domain, ".")
	// The first bad label is reported; the rest would repeat its message.
	for _, l := range labels {
		if msgs := validation.IsDNS1123Label(l); len(msgs) > 0 {
			for _, m := range msgs {
				errs = append(errs, field.Invalid(fld, domain, fmt.Sprintf("validating label %q: %s", l, m)))
			}
			break
		}
	}
	if len(labels) < 2 {
		errs = append(errs, field.Invalid(fld, domain, "should be a domain with at least two segments separated by dots"))
	}
	for _, l := range strings.Split(signerPath, ".") {
		if msgs := validation.IsDNS1123Subdomain(l); len(msgs) > 0 {
			for _, m := range msgs {
				errs = append(errs, field.Invalid(fld, signerPath, fmt.Sprintf("validating label %q: %s", l, m)))
			}
			break
		}
	}
	// Room for "<namespace>.<name>" after the domain.
	maxLen := 2*validation.DNS1123SubdomainMaxLength + validation.DNS1123LabelMaxLength + 2
	if len(name) > maxLen {
		errs = append(errs, field.TooLong(fld, "", maxLen))
	}
	return errs
}

// trueOnlyConditions may only have status True.
var trueOnlyConditions = []certificatesv1.RequestConditionType{
	certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed,
}

// validateConditions checks each condition and that Approved and Denied
// do not both appear.
func validateConditions(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList {
	fld := field.NewPath("status", "conditions")
	tolerateEmptyType := old != nil && slices.ContainsFunc(old.Status.Conditions, func(c certificatesv1.CertificateSigningRequestCondition) bool { return c.Type == "" })
	tolerateDuplicates := old != nil && hasDuplicateTypes(old.Status.Conditions)
	tolerateBoth := old != nil && len(findConditions(old, certificatesv1.CertificateApproved)) > 0 && len(findConditions(old, certificatesv1.CertificateDenied)) > 0
	var errs field.ErrorList
	seen := map[certificatesv1.RequestConditionType]bool{}
	var approved, denied bool
	for i, c := range csr.Status.Conditions {
		if c.Type == "" && !tolerateEmptyType {
			errs = append(errs, field.Required(fld.Index(i).Child("type"), ""))
		}
		allowed := []string{string(corev1.ConditionFalse), string(corev1.ConditionTrue), string(corev1.ConditionUnknown)}
		if slices.Contains(trueOnlyConditions, c.Type) {
			allowed = []string{string(corev1.ConditionTrue)}
		}
		switch {
		case c.Status == "":
			errs = append(errs, field.Required(fld.Index(i).Child("status"), ""))
		case !slices.Contains(allowed, string(c.Status)):
			errs = append(errs, field.NotSupported(fld.Index(i).Child("status"), c.Status, allowed))
		}
		if !tolerateBoth {
			switch c.Type {
			case certificatesv1.CertificateApproved:
				approved = true
				if denied {
					errs = append(errs, field.Invalid(fld, c.Type, "Approved and Denied conditions are mutually exclusive"))
				}
			case certificatesv1.CertificateDenied:
				denied = true
				if approved {
					errs = append(errs, field.Invalid(fld, c.Type, "Approved and Denied conditions are mutually exclusive"))
				}
			}
		}
		if seen[c.Type] && !tolerateDuplicates {
			errs = append(errs, field.Duplicate(fld.Index(i).Child("type"), c.Type))
		}
		seen[c.Type] = true
	}
	return errs
}

// validateTransition checks what an update changes: Approved, Denied and
// Failed are never removed; Approved and Denied change only through the
// approval subresource; the certificate is set only through status, once.
func validateTransition(csr, old *certificatesv1.CertificateSigningRequest, rights updateRights) field.ErrorList {
	conditions := field.NewPath("status", "conditions")
	var errs field.ErrorList
	for _, t := range trueOnlyConditions {
		if len(findConditions(csr, t)) < len(findConditions(old, t)) {
			errs = append(errs, field.Forbidden(conditions, fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	if !rights.approval {
		for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied} {
			now, before := findConditions(csr, t), findConditions(old, t)
			switch {
			case len(now) < len(before):
				// Reported as a removal above.
			case len(now) > len(before):
				errs = append(errs, field.Forbidden(conditions, fmt.Sprintf("updates may not add a condition of type %q", t)))
			case !equality.Semantic.DeepEqual(before, now):
				errs = append(errs, field.Forbidden(conditions, fmt.Sprintf("updates may not modify a condition of type %q\n%v", t, diff.Diff(before, now))))
			}
		}
	}
	certificate := field.NewPath("status", "certificate")
	if !bytes.Equal(csr.Status.Certificate, old.Status.Certificate) {
		switch {
		case !rights.certificate:
			errs = append(errs, field.Forbidden(certificate, "updates may not set certificate content"))
		case len(old.Status.Certificate) > 0:
			errs = append(errs, field.Forbidden(certificate, "updates may not modify existing certificate content"))
		}
	}
	return errs
}

// validateCertificatePEM accepts empty data or one or more CERTIFICATE PEM
// blocks without headers, each holding a parsable certificate; text around
// the blocks is allowed (RFC 7468 explanatory text).
func validateCertificatePEM(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	blocks := 0
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("only CERTIFICATE PEM blocks are allowed, found %q", block.Type)
		}
		if len(block.Headers) != 0 {
			return errors.New("no PEM block headers are permitted")
		}
		certs, err := x509.ParseCertificates(block.Bytes)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return errors.New("found CERTIFICATE PEM block containing 0 certificates")
		}
		blocks++
		data = rest
	}
	if blocks == 0 {
		return errors.New("must contain at least one CERTIFICATE PEM block")
	}
	return nil
}

func findConditions(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) []certificatesv1.CertificateSigningRequestCondition {
	var out []certificatesv1.CertificateSigningRequestCondition
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			out = append(out, c)
		}
	}
	return out
}

func hasDuplicateTypes(conds []certificatesv1.CertificateSigningRequestCondition) bool {
	seen := map[certificatesv1.RequestConditionType]bool{}
	for _, c := range conds {
		if seen[c.Type] {
			return true
		}
		seen[c.Type] = true
	}
	return false
}
