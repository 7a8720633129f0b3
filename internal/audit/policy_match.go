package audit

import (
	"slices"
	"strings"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
)

// RequestConfig is what a Policy decides for one request.
type RequestConfig struct {
	Level             Level
	OmitStages        []Stage
	OmitManagedFields bool
}

// Records reports whether events of stage are written at all.
func (c RequestConfig) Records(stage Stage) bool {
	return c.Level.AtLeast(LevelMetadata) && !slices.Contains(c.OmitStages, stage)
}

// Evaluate returns the level etc. of the first rule matching a (LevelNone
// when none matches). a is the request as the authorizer sees it, with the
// authenticated (not impersonated) user. p must not be modified while
// requests are evaluated.
func (p *Policy) Evaluate(a authorizer.Attributes) RequestConfig {
	for i := range p.Rules {
		r := &p.Rules[i]
		if !ruleMatches(r, a) {
			continue
		}
		omitManaged := p.OmitManagedFields
		if r.OmitManagedFields != nil {
			omitManaged = *r.OmitManagedFields
		}
		stages := append(slices.Clip(p.OmitStages), r.OmitStages...)
		return RequestConfig{Level: r.Level, OmitStages: stages, OmitManagedFields: omitManaged}
	}
	return RequestConfig{Level: LevelNone}
}

func ruleMatches(r *PolicyRule, a authorizer.Attributes) bool {
	if len(r.Users) > 0 && (a.User == nil || !hasString(r.Users, a.User.Name)) {
		return false
	}
	if len(r.UserGroups) > 0 {
		if a.User == nil || !slices.ContainsFunc(a.User.Groups, func(g string) bool { return hasString(r.UserGroups, g) }) {
			return false
		}
	}
	if len(r.Verbs) > 0 && !hasString(r.Verbs, a.Verb) {
		return false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		return ruleMatchesResource(r, a)
	}
	if len(r.NonResourceURLs) > 0 {
		return !a.ResourceRequest && slices.ContainsFunc(r.NonResourceURLs, func(spec string) bool { return pathMatches(a.Path, spec) })
	}
	return true
}

// pathMatches matches a non-resource path against "*", an exact path or a
// prefix ending in "*".
func pathMatches(path, spec string) bool {
	if spec == "*" || spec == path {
		return true
	}
	prefix, wildcard := strings.CutSuffix(spec, "*")
	return wildcard && strings.HasPrefix(path, prefix)
}

func ruleMatchesResource(r *PolicyRule, a authorizer.Attributes) bool {
	if !a.ResourceRequest {
		return false
	}
	// Cluster-scoped resources have the namespace "".
	if len(r.Namespaces) > 0 && !hasString(r.Namespaces, a.Namespace) {
		return false
	}
	if len(r.Resources) == 0 {
		return true
	}
	for _, gr := range r.Resources {
		if gr.Group != a.APIGroup {
			continue
		}
		if len(gr.Resources) == 0 {
			return true
		}
		if len(gr.ResourceNames) > 0 && !hasString(gr.ResourceNames, a.Name) {
			continue
		}
		if slices.ContainsFunc(gr.Resources, func(spec string) bool { return resourceMatches(spec, a.Resource, a.Subresource) }) {
			return true
		}
	}
	return false
}

// resourceMatches matches "*", "resource", "resource/sub", "resource/*"
// and "*/sub".
func resourceMatches(spec, resource, subresource string) bool {
	combined := resource
	if subresource != "" {
		combined = resource + "/" + subresource
	}
	if spec == "*" || spec == combined {
		return true
	}
	if sub, ok := strings.CutPrefix(spec, "*/"); ok && subresource != "" && sub == subresource {
		return true
	}
	if res, ok := strings.CutSuffix(spec, "/*"); ok && res == resource {
		return true
	}
	return false
}
