// Package authentication describes the authentication.k8s.io/v1 review
// resources: create-only, never stored, answered by the API server's
// authenticators (see internal/auth/reviews).
package authentication

import (
	"github.com/skiff-io/skiff/internal/registry"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TokenReviews asks who a bearer token belongs to.
func TokenReviews() *registry.Resource {
	return &registry.Resource{Group: "authentication.k8s.io", Version: "v1", Resource: "tokenreviews", Kind: "TokenReview",
		Singular: "tokenreview", New: func() runtime.Object { return &authenticationv1.TokenReview{} }, Strategy: registry.DefaultStrategy{}}
}

// SelfSubjectReviews tells the requesting user who the server thinks they
// are (`kubectl auth whoami`).
func SelfSubjectReviews() *registry.Resource {
	return &registry.Resource{Group: "authentication.k8s.io", Version: "v1", Resource: "selfsubjectreviews", Kind: "SelfSubjectReview",
		Singular: "selfsubjectreview", New: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }, Strategy: registry.DefaultStrategy{}}
}
