package audit

import (
	"errors"
	"fmt"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Policy is an audit.k8s.io/v1 Policy: the rules deciding how much of each
// request is recorded. The first rule matching a request gives its level;
// a request no rule matches is not recorded.
type Policy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Rules             []PolicyRule `json:"rules"`
	// OmitStages are never recorded, whatever rule matches.
	OmitStages []Stage `json:"omitStages,omitempty"`
	// OmitManagedFields drops metadata.managedFields from recorded bodies
	// unless the matching rule says otherwise.
	OmitManagedFields bool `json:"omitManagedFields,omitempty"`
}

// PolicyRule matches requests and gives them a level. Empty lists match
// everything; a rule with Resources or Namespaces matches only resource
// requests, one with NonResourceURLs only other requests.
type PolicyRule struct {
	Level      Level            `json:"level"`
	Users      []string         `json:"users,omitempty"`
	UserGroups []string         `json:"userGroups,omitempty"`
	Verbs      []string         `json:"verbs,omitempty"`
	Resources  []GroupResources `json:"resources,omitempty"`
	// Namespaces match the request's namespace; "" matches cluster-scoped
	// resources.
	Namespaces []string `json:"namespaces,omitempty"`
	// NonResourceURLs are paths ("/healthz"), prefixes ending in "*"
	// ("/healthz*") or "*" for all.
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
	// OmitStages are added to the policy's.
	OmitStages []Stage `json:"omitStages,omitempty"`
	// OmitManagedFields, when set, overrides the policy's.
	OmitManagedFields *bool `json:"omitManagedFields,omitempty"`
}

// GroupResources matches resources of one API group ("" is the core group).
// Resources may be "pods", "pods/log", "pods/*" (pods' subresources),
// "*/status" (every status subresource) or "*" (everything, subresources
// included); empty matches every resource of the group. ResourceNames, when
// set, limit the match to those object names.
type GroupResources struct {
	Group         string   `json:"group,omitempty"`
	Resources     []string `json:"resources,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}

// LoadPolicy reads and validates a Policy file (YAML or JSON). A policy
// without rules is refused, as Kubernetes does: it would record nothing.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("audit policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes and validates a Policy document (YAML or JSON).
// Unknown fields are errors: a misspelt field in a security policy must not
// silently widen or narrow what is recorded.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if p.APIVersion != APIVersion || p.Kind != "Policy" {
		return nil, fmt.Errorf("unsupported kind %q apiVersion %q: want kind Policy apiVersion %s", p.Kind, p.APIVersion, APIVersion)
	}
	if len(p.Rules) == 0 {
		return nil, errors.New("loaded illegal policy with 0 rules")
	}
	if err := validatePolicy(&p).ToAggregate(); err != nil {
		return nil, fmt.Errorf("invalid policy: %w", err)
	}
	return &p, nil
}

var supportedLevels = []string{string(LevelNone), string(LevelMetadata), string(LevelRequest), string(LevelRequestResponse)}

func validatePolicy(p *Policy) field.ErrorList {
	errs := validateStages(p.OmitStages, field.NewPath("omitStages"))
	for i := range p.Rules {
		errs = append(errs, validateRule(&p.Rules[i], field.NewPath("rules").Index(i))...)
	}
	return errs
}

func validateRule(r *PolicyRule, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case r.Level == "":
		errs = append(errs, field.Required(path.Child("level"), ""))
	case !hasString(supportedLevels, string(r.Level)):
		errs = append(errs, field.NotSupported(path.Child("level"), r.Level, supportedLevels))
	}
	if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
		errs = append(errs, field.Invalid(path.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
	}
	for i, u := range r.NonResourceURLs {
		p := path.Child("nonResourceURLs").Index(i)
		if u == "*" {
			continue
		}
		if !strings.HasPrefix(u, "/") {
			errs = append(errs, field.Invalid(p, u, "non-resource URL rules must begin with a '/' character"))
		}
		if i := strings.Index(u, "*"); i >= 0 && i != len(u)-1 {
			errs = append(errs, field.Invalid(p, u, "non-resource URL wildcards '*' must be the final character of the rule"))
		}
	}
	for i, gr := range r.Resources {
		p := path.Child("resources").Index(i)
		if gr.Group != "" {
			for _, msg := range validation.IsDNS1123Subdomain(gr.Group) {
				errs = append(errs, field.Invalid(p.Child("group"), gr.Group, msg))
			}
		}
		if len(gr.ResourceNames) > 0 && len(gr.Resources) == 0 {
			errs = append(errs, field.Invalid(p.Child("resourceNames"), gr.ResourceNames, "using resourceNames requires at least one resource"))
		}
	}
	return append(errs, validateStages(r.OmitStages, path.Child("omitStages"))...)
}

func validateStages(stages []Stage, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	valid := make([]string, len(validStages))
	for i, s := range validStages {
		valid[i] = string(s)
	}
	for i, s := range stages {
		if !hasString(valid, string(s)) {
			errs = append(errs, field.NotSupported(path.Index(i), s, valid))
		}
	}
	return errs
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
