// Package podsecurity implements the Pod Security Standards (levels
// privileged, baseline and restricted) and the PodSecurity admission
// plug-in that applies them per namespace through the
// pod-security.kubernetes.io/* labels, as Kubernetes documents them.
package podsecurity

import (
	"fmt"
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Level is a Pod Security Standards level.
type Level string

// The three levels, from least to most strict.
const (
	LevelPrivileged Level = "privileged"
	LevelBaseline   Level = "baseline"
	LevelRestricted Level = "restricted"
)

// Namespace labels that select the policy of each mode.
const (
	EnforceLevelLabel   = "pod-security.kubernetes.io/enforce"
	EnforceVersionLabel = "pod-security.kubernetes.io/enforce-version"
	AuditLevelLabel     = "pod-security.kubernetes.io/audit"
	AuditVersionLabel   = "pod-security.kubernetes.io/audit-version"
	WarnLevelLabel      = "pod-security.kubernetes.io/warn"
	WarnVersionLabel    = "pod-security.kubernetes.io/warn-version"
)

// strictness orders levels; unknown levels never reach it (parseLevel
// maps them to restricted).
func (l Level) strictness() int {
	switch l {
	case LevelPrivileged:
		return 0
	case LevelBaseline:
		return 1
	default:
		return 2
	}
}

// parseLevel returns the level a label value names. An invalid value
// yields restricted and an error, so that a typo in an enforce label fails
// closed, as Kubernetes does.
func parseLevel(s string) (Level, error) {
	switch Level(s) {
	case LevelPrivileged, LevelBaseline, LevelRestricted:
		return Level(s), nil
	}
	return LevelRestricted, fmt.Errorf("must be one of privileged, baseline, restricted")
}

// Version is a policy version: "latest" or "v1.<minor>". Skiff evaluates
// every version with the latest checks; the version is kept so that
// messages name the policy the namespace asked for.
type Version struct {
	Latest bool
	Minor  int
}

// LatestVersion returns the "latest" policy version.
func LatestVersion() Version { return Version{Latest: true} }

// String formats the version as it appears in labels and messages.
func (v Version) String() string {
	if v.Latest {
		return "latest"
	}
	return "v1." + strconv.Itoa(v.Minor)
}

var versionPattern = regexp.MustCompile(`^v1\.(0|[1-9][0-9]*)$`)

// parseVersion returns the version a label value names; an invalid value
// yields latest and an error.
func parseVersion(s string) (Version, error) {
	if s == "latest" {
		return LatestVersion(), nil
	}
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return LatestVersion(), fmt.Errorf(`must be "latest" or "v1.x"`)
	}
	minor, err := strconv.Atoi(m[1])
	if err != nil {
		return LatestVersion(), fmt.Errorf(`must be "latest" or "v1.x"`)
	}
	return Version{Minor: minor}, nil
}

// LevelVersion is one mode's policy, e.g. restricted:latest.
type LevelVersion struct {
	Level   Level
	Version Version
}

// String formats the policy as Kubernetes' messages do: "restricted:latest".
func (lv LevelVersion) String() string {
	return string(lv.Level) + ":" + lv.Version.String()
}

// Policy is a namespace's policy for the three modes.
type Policy struct {
	Enforce LevelVersion
	Audit   LevelVersion
	Warn    LevelVersion
}

// privileged reports whether no mode checks anything.
func (p Policy) privileged() bool {
	return p.Enforce.Level == LevelPrivileged && p.Audit.Level == LevelPrivileged && p.Warn.Level == LevelPrivileged
}

// PolicyFromLabels resolves a namespace's labels to its policy. Unset
// modes are privileged:latest (Skiff exempts nothing and has no cluster
// default). Invalid values are reported as field errors on
// metadata.labels; the returned policy is still usable: an invalid
// enforce level is treated as restricted, an invalid audit or warn level
// as privileged, and an invalid version as latest, as Kubernetes does.
func PolicyFromLabels(labels map[string]string) (Policy, field.ErrorList) {
	def := LevelVersion{Level: LevelPrivileged, Version: LatestVersion()}
	p := Policy{Enforce: def, Audit: def, Warn: def}
	var errs field.ErrorList
	path := field.NewPath("metadata", "labels")
	modes := []struct {
		lv                    *LevelVersion
		levelLabel, verLabel  string
		invalidLevelFailsOpen bool
	}{
		{&p.Enforce, EnforceLevelLabel, EnforceVersionLabel, false},
		{&p.Audit, AuditLevelLabel, AuditVersionLabel, true},
		{&p.Warn, WarnLevelLabel, WarnVersionLabel, true},
	}
	for _, m := range modes {
		if v, ok := labels[m.levelLabel]; ok {
			level, err := parseLevel(v)
			if err != nil {
				errs = append(errs, field.Invalid(path.Key(m.levelLabel), v, err.Error()))
				if m.invalidLevelFailsOpen {
					level = LevelPrivileged
				}
			}
			m.lv.Level = level
		}
		if v, ok := labels[m.verLabel]; ok {
			ver, err := parseVersion(v)
			if err != nil {
				errs = append(errs, field.Invalid(path.Key(m.verLabel), v, err.Error()))
			}
			m.lv.Version = ver
		}
	}
	return p, errs
}
