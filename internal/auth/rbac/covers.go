package rbac

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Covers reports whether the owner's rules allow everything the servant
// rules allow, with Kubernetes' semantics: each servant rule is broken into
// atomic rules (one API group, resource, verb and resource name, or one
// non-resource URL and verb) and each must be covered by a single owner
// rule. It returns the atomic rules left uncovered.
func Covers(owner, servant []rbacv1.PolicyRule) (bool, []rbacv1.PolicyRule) {
	var missing []rbacv1.PolicyRule
	for _, r := range servant {
		for _, atom := range breakdown(r) {
			covered := false
			for i := range owner {
				if ruleCovers(&owner[i], &atom) {
					covered = true
					break
				}
			}
			if !covered {
				missing = append(missing, atom)
			}
		}
	}
	return len(missing) == 0, missing
}

// breakdown splits a rule into atomic rules.
func breakdown(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, g := range r.APIGroups {
		for _, res := range r.Resources {
			for _, v := range r.Verbs {
				if len(r.ResourceNames) == 0 {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: []string{v}})
					continue
				}
				for _, n := range r.ResourceNames {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: []string{v}, ResourceNames: []string{n}})
				}
			}
		}
	}
	for _, u := range r.NonResourceURLs {
		for _, v := range r.Verbs {
			out = append(out, rbacv1.PolicyRule{NonResourceURLs: []string{u}, Verbs: []string{v}})
		}
	}
	return out
}

// ruleCovers reports whether owner covers the atomic rule atom.
func ruleCovers(owner, atom *rbacv1.PolicyRule) bool {
	if !has(owner.Verbs, rbacv1.VerbAll) && !hasAll(owner.Verbs, atom.Verbs) {
		return false
	}
	if !has(owner.APIGroups, rbacv1.APIGroupAll) && !hasAll(owner.APIGroups, atom.APIGroups) {
		return false
	}
	if !resourcesCover(owner.Resources, atom.Resources) {
		return false
	}
	for _, u := range atom.NonResourceURLs {
		if !nonResourceURLMatches(owner.NonResourceURLs, u) {
			return false
		}
	}
	// An owner restricted to names covers only atoms naming one of them;
	// an unrestricted owner covers everything.
	if len(owner.ResourceNames) > 0 && (len(atom.ResourceNames) == 0 || !hasAll(owner.ResourceNames, atom.ResourceNames)) {
		return false
	}
	return true
}

// resourcesCover reports whether owner resources cover every resource of
// want, "*" and "*/<sub>" included.
func resourcesCover(owner, want []string) bool {
	if has(owner, rbacv1.ResourceAll) {
		return true
	}
	for _, r := range want {
		if has(owner, r) {
			continue
		}
		_, sub, ok := strings.Cut(r, "/")
		if !ok || !has(owner, "*/"+sub) {
			return false
		}
	}
	return true
}

func hasAll(set, want []string) bool {
	for _, w := range want {
		if !has(set, w) {
			return false
		}
	}
	return true
}

// compactRules merges atomic rules that differ only in their verbs, so that
// refusals list "pods: create, delete" once rather than per verb.
func compactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type key struct{ group, resource, name string }
	var out []rbacv1.PolicyRule
	merged := map[key]int{}
	for _, r := range rules {
		simple := len(r.NonResourceURLs) == 0 && len(r.APIGroups) == 1 && len(r.Resources) == 1 && len(r.ResourceNames) <= 1
		if !simple {
			out = append(out, r)
			continue
		}
		k := key{group: r.APIGroups[0], resource: r.Resources[0]}
		if len(r.ResourceNames) == 1 {
			k.name = r.ResourceNames[0]
		}
		if i, ok := merged[k]; ok {
			for _, v := range r.Verbs {
				if !has(out[i].Verbs, v) {
					out[i].Verbs = append(out[i].Verbs, v)
				}
			}
			continue
		}
		merged[k] = len(out)
		r.Verbs = append([]string(nil), r.Verbs...)
		out = append(out, r)
	}
	return out
}

// compactString renders a rule as Kubernetes' escalation messages do:
// {APIGroups:[""], Resources:["pods"], Verbs:["create"]}.
func compactString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}

// describeMissing lists uncovered rules, compacted, one a line, sorted and
// without duplicates.
func describeMissing(missing []rbacv1.PolicyRule) string {
	seen := map[string]bool{}
	var lines []string
	for _, r := range compactRules(missing) {
		s := compactString(r)
		if !seen[s] {
			seen[s] = true
			lines = append(lines, s)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
