// Package authorization describes the authorization.k8s.io/v1 review
// resources. They are create-only and never stored: the API server answers
// each review from its authorizers (see internal/auth/reviews).
package authorization

import (
	"github.com/skiff-io/skiff/internal/registry"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const group, version = "authorization.k8s.io", "v1"

func review(resource, kind string, namespaced bool, newFn func() runtime.Object) *registry.Resource {
	return &registry.Resource{Group: group, Version: version, Resource: resource, Kind: kind,
		Singular: singular(resource), Namespaced: namespaced, New: newFn, Strategy: registry.DefaultStrategy{}}
}

func singular(plural string) string { return plural[:len(plural)-1] }

// SubjectAccessReviews asks whether any user may do something.
func SubjectAccessReviews() *registry.Resource {
	return review("subjectaccessreviews", "SubjectAccessReview", false, func() runtime.Object { return &authorizationv1.SubjectAccessReview{} })
}

// SelfSubjectAccessReviews asks whether the requesting user may do something
// (`kubectl auth can-i`).
func SelfSubjectAccessReviews() *registry.Resource {
	return review("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} })
}

// LocalSubjectAccessReviews is SubjectAccessReview limited to one
// namespace, so namespace admins may be allowed to create it.
func LocalSubjectAccessReviews() *registry.Resource {
	return review("localsubjectaccessreviews", "LocalSubjectAccessReview", true, func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} })
}

// SelfSubjectRulesReviews lists what the requesting user may do in a
// namespace (`kubectl auth can-i --list`).
func SelfSubjectRulesReviews() *registry.Resource {
	return review("selfsubjectrulesreviews", "SelfSubjectRulesReview", false, func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} })
}
