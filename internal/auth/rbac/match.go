package rbac

import (
	"strings"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
)

// RuleAllows reports whether one policy rule allows the request, with
// Kubernetes' matching: "*" matches every verb, API group and resource;
// a resource "*/<sub>" matches that subresource of any resource (but
// "<res>/*" is only a literal, as in Kubernetes, so that granting it never
// silently grants subresources added later); a rule with resourceNames only
// matches requests naming one of them, so never list, watch, create or
// deletecollection; a non-resource URL matches exactly or, ending in "*",
// by prefix.
func RuleAllows(a authorizer.Attributes, rule *rbacv1.PolicyRule) bool {
	if !has(rule.Verbs, rbacv1.VerbAll) && !has(rule.Verbs, a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		return nonResourceURLMatches(rule.NonResourceURLs, a.Path)
	}
	return (has(rule.APIGroups, rbacv1.APIGroupAll) || has(rule.APIGroups, a.APIGroup)) &&
		resourceMatches(rule.Resources, a.Resource, a.Subresource) &&
		resourceNameMatches(rule.ResourceNames, a.Name)
}

func resourceMatches(ruleResources []string, resource, subresource string) bool {
	combined := resource
	if subresource != "" {
		combined = resource + "/" + subresource
	}
	for _, r := range ruleResources {
		if r == rbacv1.ResourceAll || r == combined {
			return true
		}
		if subresource != "" && r == "*/"+subresource {
			return true
		}
	}
	return false
}

func resourceNameMatches(names []string, name string) bool {
	if len(names) == 0 {
		return true
	}
	// An empty name (list, watch, create, deletecollection) never matches
	// a rule restricted to names: the rule would otherwise grant more than
	// the named objects.
	return name != "" && has(names, name)
}

func nonResourceURLMatches(ruleURLs []string, path string) bool {
	for _, u := range ruleURLs {
		if nonResourceURLCovers(u, path) {
			return true
		}
	}
	return false
}

// nonResourceURLCovers reports whether the rule URL owner covers path:
// equal, "*", or a trailing-"*" prefix of it.
func nonResourceURLCovers(owner, path string) bool {
	if owner == rbacv1.NonResourceAll || owner == path {
		return true
	}
	return strings.HasSuffix(owner, "*") && strings.HasPrefix(path, strings.TrimSuffix(owner, "*"))
}

// subjectIndex returns the index of the first subject that is u, or -1.
// bindingNamespace is the namespace of a RoleBinding ("" for a
// ClusterRoleBinding); a ServiceAccount subject without a namespace means
// one in the binding's namespace.
func subjectIndex(u *user.Info, subjects []rbacv1.Subject, bindingNamespace string) int {
	for i := range subjects {
		if subjectIs(u, &subjects[i], bindingNamespace) {
			return i
		}
	}
	return -1
}

func subjectIs(u *user.Info, s *rbacv1.Subject, bindingNamespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.Name == s.Name
	case rbacv1.GroupKind:
		return u.InGroup(s.Name)
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return false
		}
		return u.Name == user.ServiceAccountPrefix+ns+":"+s.Name
	}
	return false
}

func has(set []string, s string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}
