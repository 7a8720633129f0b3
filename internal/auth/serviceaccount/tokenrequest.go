package serviceaccount

import (
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TokenRequest limits, as Kubernetes validates them.
const (
	DefaultExpirationSeconds = 60 * 60
	MinExpirationSeconds     = 10 * 60
	MaxExpirationSeconds     = 1 << 32
)

// Kinds a token may be bound to (all in the core group).
const (
	KindPod    = "Pod"
	KindSecret = "Secret"
	KindNode   = "Node"
)

var tokenRequestKind = schema.GroupKind{Group: authenticationv1.GroupName, Kind: "TokenRequest"}

// BoundObject is the live object a TokenRequest's boundObjectRef names,
// as the caller found it. The zero value means "no bound object".
type BoundObject struct {
	// Kind is KindPod, KindSecret or KindNode.
	Kind string
	Name string
	UID  types.UID
	// ServiceAccountName is a pod's spec.serviceAccountName: a token can
	// only be bound to a pod running as the same service account.
	ServiceAccountName string
	// NodeName and NodeUID are the node a pod is scheduled on (NodeUID
	// empty if the node could not be read); they go into the token so
	// that node authorization can tie the token to the node.
	NodeName string
	NodeUID  types.UID
}

// BoundObjectKind checks a TokenRequest's boundObjectRef before the caller
// looks the object up, and returns its kind (KindPod, KindSecret or
// KindNode). Pods and Secrets live in the service account's namespace;
// Nodes are cluster-scoped. A kind outside the core group, or another
// kind, is a BadRequest; a missing name is Invalid.
func BoundObjectKind(saName string, ref *authenticationv1.BoundObjectReference) (string, error) {
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	if gvk.Group != "" || (gvk.Kind != KindPod && gvk.Kind != KindSecret && gvk.Kind != KindNode) {
		return "", apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.Name == "" {
		return "", apierrors.NewInvalid(tokenRequestKind, saName, field.ErrorList{
			field.Required(field.NewPath("spec", "boundObjectRef", "name"), "")})
	}
	return gvk.Kind, nil
}

// TokenRequest answers a TokenRequest for sa with Kubernetes' semantics
// and returns a copy of req with defaults (name, namespace, audiences =
// the API audiences, expirationSeconds = 3600), creationTimestamp and
// status (token, expirationTimestamp) filled in. bound is the live object
// req.Spec.BoundObjectRef names (zero when it names none); its UID must
// match the reference's, if that gives one (Conflict otherwise, as the
// object was deleted and recreated). Errors are apimachinery Status
// errors: Invalid for bad fields, BadRequest for impossible bindings.
func (i *Issuer) TokenRequest(sa *corev1.ServiceAccount, req *authenticationv1.TokenRequest, bound BoundObject) (*authenticationv1.TokenRequest, error) {
	out := req.DeepCopy()
	if out.Name != "" && out.Name != sa.Name {
		return nil, apierrors.NewInvalid(tokenRequestKind, sa.Name, field.ErrorList{field.Invalid(
			field.NewPath("metadata", "name"), out.Name, "must match the service account name if specified")})
	}
	if out.Namespace != "" && out.Namespace != sa.Namespace {
		return nil, apierrors.NewInvalid(tokenRequestKind, sa.Name, field.ErrorList{field.Invalid(
			field.NewPath("metadata", "namespace"), out.Namespace, "must match the service account namespace if specified")})
	}
	out.Name, out.Namespace = sa.Name, sa.Namespace
	if len(out.Spec.Audiences) == 0 {
		out.Spec.Audiences = append([]string(nil), i.audiences...)
	}
	if out.Spec.ExpirationSeconds == nil {
		exp := int64(DefaultExpirationSeconds)
		out.Spec.ExpirationSeconds = &exp
	}
	if errs := validateTokenRequestSpec(&out.Spec); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestKind, sa.Name, errs)
	}
	pod, secret, node, err := boundRefs(sa.Name, out.Spec.BoundObjectRef, bound)
	if err != nil {
		return nil, err
	}
	// The timestamp is taken once so that the returned expiration is
	// exactly the token's exp.
	now := i.now().Truncate(time.Second)
	expiration := time.Duration(*out.Spec.ExpirationSeconds) * time.Second
	token, err := i.sign(i.boundClaims(sa, out.Spec.Audiences, now, expiration, pod, secret, node))
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out.CreationTimestamp = metav1.NewTime(now)
	out.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(now.Add(expiration))}
	return out, nil
}

// validateTokenRequestSpec is Kubernetes' static validation of a
// defaulted TokenRequest spec.
func validateTokenRequestSpec(spec *authenticationv1.TokenRequestSpec) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec", "expirationSeconds")
	switch exp := *spec.ExpirationSeconds; {
	case exp < MinExpirationSeconds:
		errs = append(errs, field.Invalid(path, exp, "may not specify a duration less than 10 minutes"))
	case exp > MaxExpirationSeconds:
		errs = append(errs, field.Invalid(path, exp, "may not specify a duration larger than 2^32 seconds"))
	}
	return errs
}

// boundRefs checks bound against ref and returns the claims naming it
// (a pod's claims include its node).
func boundRefs(saName string, ref *authenticationv1.BoundObjectReference, bound BoundObject) (pod, secret, node *refClaim, err error) {
	if ref == nil {
		return nil, nil, nil, nil
	}
	kind, err := BoundObjectKind(saName, ref)
	if err != nil {
		return nil, nil, nil, err
	}
	if bound.Kind != kind || bound.Name != ref.Name {
		return nil, nil, nil, apierrors.NewInternalError(fmt.Errorf("bound object %s %q does not match reference %s %q", bound.Kind, bound.Name, kind, ref.Name))
	}
	if ref.UID != "" && ref.UID != bound.UID {
		return nil, nil, nil, apierrors.NewConflict(schema.GroupResource{Resource: kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	self := &refClaim{Name: bound.Name, UID: string(bound.UID)}
	switch kind {
	case KindPod:
		if bound.ServiceAccountName != saName {
			return nil, nil, nil, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", saName))
		}
		if bound.NodeName != "" {
			node = &refClaim{Name: bound.NodeName, UID: string(bound.NodeUID)}
		}
		return self, nil, node, nil
	case KindSecret:
		return nil, self, nil, nil
	}
	return nil, nil, self, nil
}
