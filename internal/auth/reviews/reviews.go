// Package reviews answers the authentication.k8s.io and authorization.k8s.io
// review resources from the server's authenticators and authorizers:
// `kubectl auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview),
// `kubectl auth whoami` (SelfSubjectReview), SubjectAccessReview,
// LocalSubjectAccessReview and TokenReview.
package reviews

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TokenAuthenticator finds the user a bearer token belongs to; ok is false
// when no authenticator recognises it.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (u *user.Info, ok bool, err error)
}

// Reviewer answers the reviews; it implements apiserver.Reviewer.
type Reviewer struct {
	Authorizer authorizer.Authorizer
	Rules      authorizer.RuleResolver
	Tokens     TokenAuthenticator
	// APIAudiences are the audiences the API server accepts; TokenReview
	// reports them for authenticated tokens.
	APIAudiences []string
}

// Review implements apiserver.Reviewer.
func (rv *Reviewer) Review(ctx context.Context, gr schema.GroupResource, namespace string, obj runtime.Object) (runtime.Object, error) {
	requester, ok := user.From(ctx)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("no user on the request"))
	}
	switch o := obj.(type) {
	case *authorizationv1.SubjectAccessReview:
		if errs := validateSubject(o.Spec); len(errs) > 0 {
			return nil, invalid(gr, "SubjectAccessReview", errs)
		}
		u := &user.Info{Name: o.Spec.User, UID: o.Spec.UID, Groups: o.Spec.Groups, Extra: extraFrom(o.Spec.Extra)}
		o.Status = rv.decide(ctx, u, o.Spec.ResourceAttributes, o.Spec.NonResourceAttributes)
		return o, nil
	case *authorizationv1.LocalSubjectAccessReview:
		errs := validateSubject(o.Spec)
		if o.Spec.NonResourceAttributes != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), o.Spec.NonResourceAttributes, "disallowed on this kind of request"))
		}
		if ra := o.Spec.ResourceAttributes; ra != nil && ra.Namespace != namespace {
			errs = append(errs, field.Invalid(field.NewPath("spec", "resourceAttributes", "namespace"), ra.Namespace, "must match metadata.namespace"))
		}
		if len(errs) > 0 {
			return nil, invalid(gr, "LocalSubjectAccessReview", errs)
		}
		o.Namespace = namespace
		u := &user.Info{Name: o.Spec.User, UID: o.Spec.UID, Groups: o.Spec.Groups, Extra: extraFrom(o.Spec.Extra)}
		o.Status = rv.decide(ctx, u, o.Spec.ResourceAttributes, nil)
		return o, nil
	case *authorizationv1.SelfSubjectAccessReview:
		if errs := validateAttributes(o.Spec.ResourceAttributes, o.Spec.NonResourceAttributes); len(errs) > 0 {
			return nil, invalid(gr, "SelfSubjectAccessReview", errs)
		}
		o.Status = rv.decide(ctx, requester, o.Spec.ResourceAttributes, o.Spec.NonResourceAttributes)
		return o, nil
	case *authorizationv1.SelfSubjectRulesReview:
		// spec.namespace is required, as in Kubernetes (kubectl sends
		// the current namespace).
		if o.Spec.Namespace == "" {
			return nil, apierrors.NewBadRequest("no namespace on request")
		}
		o.Status = rv.rules(ctx, requester, o.Spec.Namespace)
		return o, nil
	case *authenticationv1.SelfSubjectReview:
		o.Status.UserInfo = userInfo(requester)
		return o, nil
	case *authenticationv1.TokenReview:
		if o.Spec.Token == "" {
			return nil, invalid(gr, "TokenReview", field.ErrorList{field.Required(field.NewPath("spec", "token"), "")})
		}
		o.Status = rv.tokenReview(ctx, o.Spec)
		o.Spec.Token = ""
		return o, nil
	}
	return nil, apierrors.NewBadRequest(fmt.Sprintf("%s cannot be reviewed", gr))
}

func invalid(gr schema.GroupResource, kind string, errs field.ErrorList) error {
	return apierrors.NewInvalid(schema.GroupKind{Group: gr.Group, Kind: kind}, "", errs)
}

func validateAttributes(ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) field.ErrorList {
	if (ra == nil) == (nra == nil) {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "resourceAttributes"), ra, "exactly one of nonResourceAttributes or resourceAttributes must be specified")}
	}
	return nil
}

func validateSubject(spec authorizationv1.SubjectAccessReviewSpec) field.ErrorList {
	errs := validateAttributes(spec.ResourceAttributes, spec.NonResourceAttributes)
	if spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "user"), spec.User, "at least one of user or group must be specified"))
	}
	return errs
}

func extraFrom(in map[string]authorizationv1.ExtraValue) map[string][]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// decide asks the authorizer about one set of attributes.
func (rv *Reviewer) decide(ctx context.Context, u *user.Info, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
	var attrs authorizer.Attributes
	if ra != nil {
		attrs = authorizer.Attributes{User: u, ResourceRequest: true, Verb: ra.Verb, Namespace: ra.Namespace, APIGroup: ra.Group,
			APIVersion: ra.Version, Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name}
	} else {
		attrs = authorizer.Attributes{User: u, Verb: nra.Verb, Path: nra.Path}
	}
	d, reason, err := rv.Authorizer.Authorize(ctx, attrs)
	st := authorizationv1.SubjectAccessReviewStatus{Allowed: d == authorizer.Allow, Denied: d == authorizer.Deny, Reason: reason}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}

// rules lists what u may do in namespace, as SelfSubjectRulesReview does.
func (rv *Reviewer) rules(ctx context.Context, u *user.Info, namespace string) authorizationv1.SubjectRulesReviewStatus {
	var st authorizationv1.SubjectRulesReviewStatus
	if rv.Rules == nil {
		st.Incomplete = true
		return st
	}
	rules, incomplete, err := rv.Rules.RulesFor(ctx, u, namespace)
	st.Incomplete = incomplete
	if err != nil {
		st.EvaluationError = err.Error()
	}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
			continue
		}
		st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups,
			Resources: r.Resources, ResourceNames: r.ResourceNames})
	}
	// Kubernetes always lists these; they keep kubectl's table stable.
	if st.ResourceRules == nil {
		st.ResourceRules = []authorizationv1.ResourceRule{}
	}
	if st.NonResourceRules == nil {
		st.NonResourceRules = []authorizationv1.NonResourceRule{}
	}
	return st
}

func (rv *Reviewer) tokenReview(ctx context.Context, spec authenticationv1.TokenReviewSpec) authenticationv1.TokenReviewStatus {
	if rv.Tokens == nil {
		return authenticationv1.TokenReviewStatus{Error: "token authentication is not configured"}
	}
	if len(spec.Audiences) > 0 && !intersects(spec.Audiences, rv.APIAudiences) {
		return authenticationv1.TokenReviewStatus{Error: "token audiences are not accepted by this server"}
	}
	u, ok, err := rv.Tokens.AuthenticateToken(ctx, spec.Token)
	if err != nil {
		return authenticationv1.TokenReviewStatus{Error: err.Error()}
	}
	if !ok {
		return authenticationv1.TokenReviewStatus{}
	}
	audiences := rv.APIAudiences
	if len(spec.Audiences) > 0 {
		audiences = intersection(spec.Audiences, rv.APIAudiences)
	}
	return authenticationv1.TokenReviewStatus{Authenticated: true, User: userInfo(u), Audiences: audiences}
}

func userInfo(u *user.Info) authenticationv1.UserInfo {
	out := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		out.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			out.Extra[k] = v
		}
	}
	return out
}

func intersects(a, b []string) bool { return len(intersection(a, b)) > 0 }

func intersection(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}
