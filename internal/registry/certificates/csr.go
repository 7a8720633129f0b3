// Package certificates holds the certificates.k8s.io resources: the
// CertificateSigningRequests through which clients (node agents first of
// all) ask the cluster's signers for certificates.
package certificates

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// CertificateSigningRequests returns the cluster-scoped
// certificates.k8s.io/v1 CertificateSigningRequest resource with its status
// subresource (written by signers: the certificate and the Failed
// condition) and approval subresource (written by approvers: the Approved
// and Denied conditions).
//
// The requestor fields spec.username, uid, groups and extra are not set
// here: the strategy sees no user, so admission.CSRRequester fills them.
func CertificateSigningRequests() *registry.Resource {
	return &registry.Resource{
		Group:      certificatesv1.GroupName,
		Version:    "v1",
		Resource:   "certificatesigningrequests",
		Kind:       "CertificateSigningRequest",
		Singular:   "certificatesigningrequest",
		ShortNames: []string{"csr"},
		Namespaced: false,
		// Kubernetes accepts any name a URL path segment can carry.
		ValidateName: path.ValidatePathSegmentName,
		New:          func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} },
		NewList:      func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
		Strategy:     csrStrategy{},
		Subresources: []registry.Subresource{
			{Name: "approval", Verbs: []string{"get", "patch", "update"}},
			registry.StatusSubresource,
		},
		SubresourceStrategies: map[string]registry.Strategy{
			"approval": CSRApprovalStrategy(),
		},
	}
}

// csrStrategy implements the behaviour of the main resource and, through
// registry.StatusStrategy, of the status subresource.
type csrStrategy struct {
	registry.DefaultStrategy
}

var (
	_ registry.StatusStrategy  = csrStrategy{}
	_ registry.TableConvertor  = csrStrategy{}
	_ registry.FieldSelectable = csrStrategy{}
)

// Default gives conditions without a status the status True, as
// Kubernetes' v1 defaulting does (approvers commonly send none).
func (csrStrategy) Default(obj runtime.Object) {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	for i := range csr.Status.Conditions {
		if csr.Status.Conditions[i].Status == "" {
			csr.Status.Conditions[i].Status = corev1.ConditionTrue
		}
	}
}

// PrepareForCreate drops any status: a request may not be created already
// approved or issued.
func (csrStrategy) PrepareForCreate(obj runtime.Object) {
	obj.(*certificatesv1.CertificateSigningRequest).Status = certificatesv1.CertificateSigningRequestStatus{}
}

// PrepareForUpdate keeps spec and status from old: the spec is fixed at
// creation (Kubernetes silently ignores changes to it rather than
// rejecting them) and status is written only through the subresources.
func (csrStrategy) PrepareForUpdate(obj, old runtime.Object) {
	csr, prev := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	csr.Spec = prev.Spec
	csr.Status = prev.Status
}

// Validate checks a new request.
func (csrStrategy) Validate(obj runtime.Object) field.ErrorList {
	return validateCSR(obj.(*certificatesv1.CertificateSigningRequest), nil, updateRights{})
}

// ValidateUpdate checks an update of the main resource, which can change
// only metadata.
func (csrStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	return validateCSR(obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest), updateRights{})
}

// PrepareForStatusUpdate keeps the spec and timestamps new conditions.
// Whether the Approved/Denied conditions changed is checked, not silently
// reverted, as in Kubernetes.
func (csrStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	csr, prev := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	csr.Spec = prev.Spec
	stampConditions(csr, prev, time.Now())
}

// ValidateStatusUpdate lets a signer set the certificate once and add
// conditions other than Approved and Denied.
func (csrStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	return validateCSR(obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest), updateRights{certificate: true})
}

// CSRApprovalStrategy returns the behaviour of updates through
// certificatesigningrequests/approval: only status.conditions are taken
// from the request. As in Kubernetes, approvers may add Approved or Denied
// (never both, never removing one already set).
func CSRApprovalStrategy() registry.Strategy { return csrApprovalStrategy{} }

type csrApprovalStrategy struct {
	csrStrategy
}

func (csrApprovalStrategy) PrepareForUpdate(obj, old runtime.Object) {
	csr, prev := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	stampConditions(csr, prev, time.Now())
	conditions := csr.Status.Conditions
	csr.Spec = prev.Spec
	csr.Status = prev.Status
	csr.Status.Conditions = conditions
}

func (csrApprovalStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	return validateCSR(obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest), updateRights{approval: true})
}

// stampConditions fills unset condition timestamps: lastUpdateTime with
// now; lastTransitionTime with the old condition's when one of the same
// type and status exists (the status did not transition), else now.
func stampConditions(csr, prev *certificatesv1.CertificateSigningRequest, now time.Time) {
	ts := metav1.NewTime(now)
	for i := range csr.Status.Conditions {
		c := &csr.Status.Conditions[i]
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = ts
		}
		if !c.LastTransitionTime.IsZero() {
			continue
		}
		c.LastTransitionTime = ts
		for _, o := range prev.Status.Conditions {
			if o.Type == c.Type && o.Status == c.Status && !o.LastTransitionTime.IsZero() {
				c.LastTransitionTime = o.LastTransitionTime
				break
			}
		}
	}
}

// SelectableFields adds spec.signerName, by which signers watch only
// their own requests.
func (csrStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"spec.signerName": obj.(*certificatesv1.CertificateSigningRequest).Spec.SignerName}
}

// TableColumns are kubectl's CSR columns.
func (csrStrategy) TableColumns() []metav1.TableColumnDefinition {
	spec := certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
		{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
		{Name: "SignerName", Type: "string", Description: spec["signerName"]},
		{Name: "Requestor", Type: "string", Description: spec["username"]},
		{Name: "RequestedDuration", Type: "string", Description: spec["expirationSeconds"]},
		{Name: "Condition", Type: "string", Description: certificatesv1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"]},
	}
}

// TableRow renders one request the way kubectl does.
func (csrStrategy) TableRow(obj runtime.Object) []interface{} {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	age := "<unknown>"
	if !csr.CreationTimestamp.IsZero() {
		age = duration.HumanDuration(time.Since(csr.CreationTimestamp.Time))
	}
	signer := "<none>"
	if csr.Spec.SignerName != "" {
		signer = csr.Spec.SignerName
	}
	requested := "<none>"
	if csr.Spec.ExpirationSeconds != nil {
		requested = duration.HumanDuration(time.Duration(*csr.Spec.ExpirationSeconds) * time.Second)
	}
	return []interface{}{csr.Name, age, signer, csr.Spec.Username, requested, CSRConditionSummary(csr)}
}

// CSRConditionSummary is the CONDITION column: Denied, Approved or
// Pending (in that precedence), then ",Failed" and ",Issued" when they
// apply.
func CSRConditionSummary(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	s := "Pending"
	switch {
	case denied:
		s = "Denied"
	case approved:
		s = "Approved"
	}
	if failed {
		s += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		s += ",Issued"
	}
	return s
}
