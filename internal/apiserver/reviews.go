package apiserver

import (
	"context"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Reviewer answers the create-only review resources (SubjectAccessReview,
// SelfSubjectAccessReview, LocalSubjectAccessReview,
// SelfSubjectRulesReview, TokenReview, SelfSubjectReview). Review gets the
// decoded request object (which it may fill in and return) and the
// namespace of the URL; the user is in ctx. It returns API errors.
type Reviewer interface {
	Review(ctx context.Context, gr schema.GroupResource, namespace string, obj runtime.Object) (runtime.Object, error)
}

// TokenIssuer serves serviceaccounts/<name>/token: it issues a token for
// the named ServiceAccount as the TokenRequest asks, and returns the
// request with its status filled in, or an API error.
type TokenIssuer interface {
	TokenRequest(ctx context.Context, namespace, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
}

// serveReview answers a review resource: only create, never stored.
func (h *resourceHandler) serveReview(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	if info.Verb != "create" || info.Name != "" || info.Subresource != "" {
		return apierrors.NewMethodNotSupported(h.gr, info.Verb)
	}
	if h.s.cfg.Reviewer == nil {
		return apierrors.NewServiceUnavailable(fmt.Sprintf("%s are not served", h.gr))
	}
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := h.s.dec.decodeBody(w, r, body, h.gvk, h.res.New())
	if err != nil {
		return err
	}
	result, err := h.s.cfg.Reviewer.Review(ctx, h.gr, info.Namespace, obj)
	if err != nil {
		return err
	}
	result.GetObjectKind().SetGroupVersionKind(h.gvk)
	writeJSON(w, http.StatusCreated, out, result)
	return nil
}

// tokenRequest serves serviceaccounts/<name>/token: admission (so that
// NodeRestriction can check the bound pod) then the issuer.
func (h *resourceHandler) tokenRequest(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	if h.s.cfg.Tokens == nil {
		return apierrors.NewServiceUnavailable("service account tokens are not served")
	}
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	gvk := authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
	obj, err := h.s.dec.decodeBody(w, r, body, gvk, &authenticationv1.TokenRequest{})
	if err != nil {
		return err
	}
	tr := obj.(*authenticationv1.TokenRequest)
	if tr.Name != "" && tr.Name != info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", tr.Name, info.Name))
	}
	a := &Attributes{Verb: "create", Subresource: "token", Namespace: info.Namespace, Name: info.Name, Object: tr}
	if err := h.admit(ctx, a); err != nil {
		return err
	}
	h.done(a, false)
	issued, err := h.s.cfg.Tokens.TokenRequest(ctx, info.Namespace, info.Name, tr)
	if err != nil {
		return err
	}
	issued.SetGroupVersionKind(gvk)
	writeJSON(w, http.StatusCreated, out, issued)
	return nil
}
