// Package rbac implements Kubernetes' role-based access control: the
// authorizer that answers from Roles, ClusterRoles and their bindings, the
// escalation checks applied when those objects are written, the default
// (bootstrap) policy and its reconciliation, and the aggregation of
// ClusterRoles.
package rbac

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Source reads RBAC objects, typically from the API server's cache. The
// objects returned are shared and must never be modified. A missing role
// is reported as (nil, NotFound error) or (nil, nil); any other error means
// the object could not be read.
type Source interface {
	GetRole(namespace, name string) (*rbacv1.Role, error)
	GetClusterRole(name string) (*rbacv1.ClusterRole, error)
	ListRoleBindings(namespace string) ([]*rbacv1.RoleBinding, error)
	ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error)
}

// Authorizer answers requests from RBAC objects. It implements
// authorizer.Authorizer (Allow or NoOpinion, never Deny) and
// authorizer.RuleResolver, and is safe for concurrent use.
type Authorizer struct {
	src Source
}

var (
	_ authorizer.Authorizer   = (*Authorizer)(nil)
	_ authorizer.RuleResolver = (*Authorizer)(nil)
)

// New returns an Authorizer reading src.
func New(src Source) *Authorizer { return &Authorizer{src: src} }

// Authorize implements authorizer.Authorizer. It allows the request when a
// ClusterRoleBinding, or a RoleBinding in the request's namespace, grants
// the user a rule that matches; the reason names the binding as Kubernetes
// does. Otherwise it returns NoOpinion, with a reason listing the errors
// met (missing roles, unreadable bindings) if any. It never returns an
// error: what could not be read simply grants nothing.
func (az *Authorizer) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.User == nil {
		return authorizer.NoOpinion, "", nil
	}
	var reason string
	errs := az.visit(a.User, a.Namespace, func(source string, rule *rbacv1.PolicyRule) bool {
		if RuleAllows(a, rule) {
			reason = "RBAC: allowed by " + source
			return false
		}
		return true
	})
	if reason != "" {
		return authorizer.Allow, reason, nil
	}
	if len(errs) > 0 {
		return authorizer.NoOpinion, fmt.Sprintf("RBAC: %v", errors.Join(errs...)), nil
	}
	return authorizer.NoOpinion, "", nil
}

// RulesFor implements authorizer.RuleResolver: the rules of every
// ClusterRoleBinding naming u, plus, when namespace is not empty, of every
// RoleBinding in it. Rules that could not be read (a missing role, an
// unreadable list) are skipped: incomplete is then true and err describes
// them, while the rules returned are still valid (RBAC only grants, so a
// partial set never allows too much).
func (az *Authorizer) RulesFor(_ context.Context, u *user.Info, namespace string) ([]rbacv1.PolicyRule, bool, error) {
	var rules []rbacv1.PolicyRule
	errs := az.visit(u, namespace, func(_ string, rule *rbacv1.PolicyRule) bool {
		rules = append(rules, *rule)
		return true
	})
	if len(errs) > 0 {
		return rules, true, errors.Join(errs...)
	}
	return rules, false, nil
}

// visit calls fn with every rule granted to u in namespace and a
// description of the binding granting it, until fn returns false. It
// returns the errors met on the way.
func (az *Authorizer) visit(u *user.Info, namespace string, fn func(source string, rule *rbacv1.PolicyRule) bool) []error {
	if u == nil {
		return nil
	}
	var errs []error
	crbs, err := az.src.ListClusterRoleBindings()
	if err != nil {
		errs = append(errs, fmt.Errorf("listing cluster role bindings: %w", err))
	}
	for _, b := range crbs {
		i := subjectIndex(u, b.Subjects, "")
		if i < 0 {
			continue
		}
		rules, err := RoleRefRules(az.src, b.RoleRef, "")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		source := fmt.Sprintf("ClusterRoleBinding %q of %s %q to %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name, describeSubject(&b.Subjects[i], ""))
		for j := range rules {
			if !fn(source, &rules[j]) {
				return errs
			}
		}
	}
	if namespace == "" {
		return errs
	}
	rbs, err := az.src.ListRoleBindings(namespace)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing role bindings in %s: %w", namespace, err))
	}
	for _, b := range rbs {
		i := subjectIndex(u, b.Subjects, namespace)
		if i < 0 {
			continue
		}
		rules, err := RoleRefRules(az.src, b.RoleRef, namespace)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		source := fmt.Sprintf("RoleBinding %q of %s %q to %s", b.Name+"/"+b.Namespace, b.RoleRef.Kind, b.RoleRef.Name, describeSubject(&b.Subjects[i], namespace))
		for j := range rules {
			if !fn(source, &rules[j]) {
				return errs
			}
		}
	}
	return errs
}

// RoleRefRules returns the rules of the role ref names, for a binding in
// namespace ("" for a ClusterRoleBinding). A missing role is returned as a
// Kubernetes NotFound error (roles.rbac.authorization.k8s.io "x" not
// found); the rules are shared and must not be modified.
func RoleRefRules(src Source, ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		if namespace == "" {
			return nil, fmt.Errorf("a Role (%q) can only be referenced by a RoleBinding", ref.Name)
		}
		role, err := src.GetRole(namespace, ref.Name)
		if err == nil && role == nil {
			err = apierrors.NewNotFound(rbacv1.Resource("roles"), ref.Name)
		}
		if err != nil {
			return nil, err
		}
		return role.Rules, nil
	case "ClusterRole":
		role, err := src.GetClusterRole(ref.Name)
		if err == nil && role == nil {
			err = apierrors.NewNotFound(rbacv1.Resource("clusterroles"), ref.Name)
		}
		if err != nil {
			return nil, err
		}
		return role.Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

// describeSubject names a subject as Kubernetes' RBAC reasons do; service
// accounts are "name/namespace".
func describeSubject(s *rbacv1.Subject, bindingNamespace string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}
