package reviews

import (
	"context"
	"errors"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// podReaders may get pods in "team"; everything else has no opinion.
type podReaders struct{}

func (podReaders) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.User.InGroup("readers") && a.ResourceRequest && a.Resource == "pods" && a.Verb == "get" && a.Namespace == "team" {
		return authorizer.Allow, "readers read pods", nil
	}
	return authorizer.NoOpinion, "", nil
}

func (podReaders) RulesFor(_ context.Context, u *user.Info, ns string) ([]rbacv1.PolicyRule, bool, error) {
	rules := []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}}
	if u.InGroup("readers") && ns == "team" {
		rules = append(rules, rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}})
	}
	return rules, false, nil
}

type tokens map[string]*user.Info

func (t tokens) AuthenticateToken(_ context.Context, tok string) (*user.Info, bool, error) {
	if tok == "forged" {
		return nil, false, errors.New("invalid signature")
	}
	u, ok := t[tok]
	return u, ok, nil
}

func TestReviews(t *testing.T) {
	reader := &user.Info{Name: "rita", Groups: []string{"readers", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}
	rv := &Reviewer{Authorizer: podReaders{}, Rules: podReaders{}, APIAudiences: []string{"api"},
		Tokens: tokens{"good": {Name: "system:serviceaccount:team:robot", Groups: []string{"system:serviceaccounts"}}}}
	ctx := user.WithUser(context.Background(), reader)
	getPods := &authorizationv1.ResourceAttributes{Namespace: "team", Verb: "get", Resource: "pods"}
	cases := []struct {
		name       string
		gr         string
		namespace  string
		obj        runtime.Object
		invalid    bool
		badRequest bool
		check      func(t *testing.T, out runtime.Object)
	}{
		{name: "self allowed", gr: "selfsubjectaccessreviews", obj: &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: getPods}},
			check: func(t *testing.T, out runtime.Object) {
				if st := out.(*authorizationv1.SelfSubjectAccessReview).Status; !st.Allowed || st.Reason != "readers read pods" {
					t.Errorf("status %+v", st)
				}
			}},
		{name: "self refused", gr: "selfsubjectaccessreviews", obj: &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "team", Verb: "delete", Resource: "pods"}}},
			check: func(t *testing.T, out runtime.Object) {
				if st := out.(*authorizationv1.SelfSubjectAccessReview).Status; st.Allowed || st.Denied {
					t.Errorf("status %+v", st)
				}
			}},
		{name: "self needs attributes", gr: "selfsubjectaccessreviews", obj: &authorizationv1.SelfSubjectAccessReview{}, invalid: true},
		{name: "subject other user", gr: "subjectaccessreviews", obj: &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			ResourceAttributes: getPods, User: "bob", Groups: []string{"readers"}}},
			check: func(t *testing.T, out runtime.Object) {
				if !out.(*authorizationv1.SubjectAccessReview).Status.Allowed {
					t.Error("bob in readers not allowed")
				}
			}},
		{name: "subject needs user or group", gr: "subjectaccessreviews", obj: &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: getPods}}, invalid: true},
		{name: "local namespace mismatch", gr: "localsubjectaccessreviews", namespace: "other", obj: &authorizationv1.LocalSubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			ResourceAttributes: getPods, User: "bob"}}, invalid: true},
		{name: "local", gr: "localsubjectaccessreviews", namespace: "team", obj: &authorizationv1.LocalSubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			ResourceAttributes: getPods, User: "bob", Groups: []string{"readers"}}},
			check: func(t *testing.T, out runtime.Object) {
				if o := out.(*authorizationv1.LocalSubjectAccessReview); !o.Status.Allowed || o.Namespace != "team" {
					t.Errorf("review %+v", o)
				}
			}},
		{name: "rules", gr: "selfsubjectrulesreviews", obj: &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "team"}},
			check: func(t *testing.T, out runtime.Object) {
				st := out.(*authorizationv1.SelfSubjectRulesReview).Status
				if len(st.ResourceRules) != 1 || st.ResourceRules[0].Resources[0] != "pods" || len(st.NonResourceRules) != 1 {
					t.Errorf("status %+v", st)
				}
			}},
		{name: "rules need a namespace", gr: "selfsubjectrulesreviews", obj: &authorizationv1.SelfSubjectRulesReview{}, badRequest: true},
		{name: "whoami", gr: "selfsubjectreviews", obj: &authenticationv1.SelfSubjectReview{},
			check: func(t *testing.T, out runtime.Object) {
				ui := out.(*authenticationv1.SelfSubjectReview).Status.UserInfo
				if ui.Username != "rita" || len(ui.Groups) != 2 || ui.Extra["k"][0] != "v" {
					t.Errorf("user info %+v", ui)
				}
			}},
		{name: "token good", gr: "tokenreviews", obj: &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "good"}},
			check: func(t *testing.T, out runtime.Object) {
				o := out.(*authenticationv1.TokenReview)
				if !o.Status.Authenticated || o.Status.User.Username != "system:serviceaccount:team:robot" || o.Status.Audiences[0] != "api" || o.Spec.Token != "" {
					t.Errorf("review %+v", o)
				}
			}},
		{name: "token forged", gr: "tokenreviews", obj: &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "forged"}},
			check: func(t *testing.T, out runtime.Object) {
				if st := out.(*authenticationv1.TokenReview).Status; st.Authenticated || st.Error == "" {
					t.Errorf("status %+v", st)
				}
			}},
		{name: "token other audience", gr: "tokenreviews", obj: &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "good", Audiences: []string{"vault"}}},
			check: func(t *testing.T, out runtime.Object) {
				if out.(*authenticationv1.TokenReview).Status.Authenticated {
					t.Error("token for the API accepted for another audience")
				}
			}},
		{name: "token required", gr: "tokenreviews", obj: &authenticationv1.TokenReview{}, invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := rv.Review(ctx, schema.GroupResource{Resource: tc.gr}, tc.namespace, tc.obj)
			if tc.badRequest {
				if !apierrors.IsBadRequest(err) {
					t.Fatalf("err %v, want BadRequest", err)
				}
				return
			}
			if tc.invalid {
				if !apierrors.IsInvalid(err) {
					t.Fatalf("err %v, want Invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, out)
		})
	}
}
