// Package authorizer defines how the API server asks whether a user may do
// something, and how several authorizers (node, RBAC) combine.
package authorizer

import (
	"context"
	"strings"

	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Attributes describe one request to authorize, with Kubernetes' meaning:
// a resource request names a verb on group/resource[/subresource] (and
// maybe a namespace and name); a non-resource request names a verb (the
// lower-case HTTP method) on a path.
type Attributes struct {
	User            *user.Info
	Verb            string
	ResourceRequest bool
	Namespace       string
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Name            string
	Path            string
}

// Decision is an authorizer's answer.
type Decision int

const (
	// NoOpinion lets the next authorizer decide; if none allows, the
	// request is refused.
	NoOpinion Decision = iota
	Allow
	// Deny refuses without asking the others.
	Deny
)

// Authorizer decides whether a request is allowed. Implementations must be
// safe for concurrent use, must not block on the network, and return a
// reason (may be empty) that explains the decision for logs and audit. An
// error means the authorizer could not decide; a NoOpinion with an error is
// treated as a refusal by the caller.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (Decision, string, error)
}

// RuleResolver lists the rules that apply to a user in a namespace ("" for
// cluster-wide rules only), for SelfSubjectRulesReview and for RBAC's
// escalation check. incomplete is true when some rules could not be read.
type RuleResolver interface {
	RulesFor(ctx context.Context, u *user.Info, namespace string) (rules []rbacv1.PolicyRule, incomplete bool, err error)
}

// Func adapts a function to Authorizer.
type Func func(ctx context.Context, a Attributes) (Decision, string, error)

// Authorize implements Authorizer.
func (f Func) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	return f(ctx, a)
}

// Union asks each authorizer in turn; the first Allow or Deny wins.
func Union(authorizers ...Authorizer) Authorizer {
	return Func(func(ctx context.Context, a Attributes) (Decision, string, error) {
		var reasons []string
		var firstErr error
		for _, az := range authorizers {
			d, reason, err := az.Authorize(ctx, a)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if d == Allow || d == Deny {
				return d, reason, nil
			}
			if reason != "" {
				reasons = append(reasons, reason)
			}
		}
		return NoOpinion, strings.Join(reasons, "; "), firstErr
	})
}

// PrivilegedGroup allows every request from a member of system:masters,
// as Kubernetes does before consulting RBAC.
func PrivilegedGroup() Authorizer {
	return Func(func(_ context.Context, a Attributes) (Decision, string, error) {
		if a.User.InGroup(user.SystemPrivilegedGroup) {
			return Allow, "", nil
		}
		return NoOpinion, "", nil
	})
}
