package podsecurity

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Violation is one check a pod fails: a short reason and, optionally, a
// detail naming the offending containers, volumes or values, worded as
// Kubernetes words them.
type Violation struct {
	Reason string // e.g. "privileged"
	Detail string // e.g. `container "c" must not set securityContext.privileged=true`
}

// String formats the violation as "reason (detail)".
func (v Violation) String() string {
	if v.Detail == "" {
		return v.Reason
	}
	return v.Reason + " (" + v.Detail + ")"
}

// checkFunc inspects a pod's metadata and spec and returns nil when the
// pod passes.
type checkFunc func(meta *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation

// check is one entry of the Pod Security Standards.
type check struct {
	id    string
	level Level // baseline or restricted
	fn    checkFunc
	// overrides names the baseline check a restricted check replaces at
	// the restricted level because it covers the same fields more strictly.
	overrides string
}

// checks returns the standards' checks: baseline then restricted, each
// sorted by id, which is the order Kubernetes reports violations in.
func checks() []check {
	return []check{
		{id: "appArmorProfile", level: LevelBaseline, fn: checkAppArmor},
		{id: "capabilities_baseline", level: LevelBaseline, fn: checkCapabilitiesBaseline},
		{id: "hostNamespaces", level: LevelBaseline, fn: checkHostNamespaces},
		{id: "hostPathVolumes", level: LevelBaseline, fn: checkHostPathVolumes},
		{id: "hostPorts", level: LevelBaseline, fn: checkHostPorts},
		{id: "hostProbesAndHostLifecycle", level: LevelBaseline, fn: checkProbeAndLifecycleHosts},
		{id: "privileged", level: LevelBaseline, fn: checkPrivileged},
		{id: "procMount_baseline", level: LevelBaseline, fn: checkProcMount},
		{id: "seLinuxOptions", level: LevelBaseline, fn: checkSELinuxOptions},
		{id: "seccompProfile_baseline", level: LevelBaseline, fn: checkSeccompBaseline},
		{id: "sysctls", level: LevelBaseline, fn: checkSysctls},
		{id: "windowsHostProcess", level: LevelBaseline, fn: checkWindowsHostProcess},

		{id: "allowPrivilegeEscalation", level: LevelRestricted, fn: checkAllowPrivilegeEscalation},
		{id: "capabilities_restricted", level: LevelRestricted, fn: checkCapabilitiesRestricted, overrides: "capabilities_baseline"},
		{id: "procMount_restricted", level: LevelRestricted, fn: checkProcMount, overrides: "procMount_baseline"},
		{id: "restrictedVolumes", level: LevelRestricted, fn: checkRestrictedVolumes, overrides: "hostPathVolumes"},
		{id: "runAsNonRoot", level: LevelRestricted, fn: checkRunAsNonRoot},
		{id: "runAsUser", level: LevelRestricted, fn: checkRunAsUser},
		{id: "seccompProfile_restricted", level: LevelRestricted, fn: checkSeccompRestricted, overrides: "seccompProfile_baseline"},
	}
}

// Evaluate returns the violations of a pod (or pod template) against a
// level, in Kubernetes' order; none for privileged. Every version is
// evaluated with the latest checks.
func Evaluate(lv LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []Violation {
	if lv.Level == LevelPrivileged {
		return nil
	}
	all := checks()
	overridden := map[string]bool{}
	if lv.Level == LevelRestricted {
		for _, c := range all {
			if c.overrides != "" {
				overridden[c.overrides] = true
			}
		}
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	var out []Violation
	for _, c := range all {
		if c.level.strictness() > lv.Level.strictness() || overridden[c.id] {
			continue
		}
		if v := c.fn(meta, spec); v != nil {
			out = append(out, *v)
		}
	}
	return out
}

// FormatDetail joins violations as Kubernetes' messages do:
// "privileged (container "c" must ...), host namespaces (hostNetwork=true)".
func FormatDetail(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}

// FormatReasons joins only the reasons, as the namespace-update warnings
// about existing pods do.
func FormatReasons(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Reason
	}
	return strings.Join(parts, ", ")
}

// visitContainers calls fn for every init, regular and ephemeral
// container, in that order.
func visitContainers(spec *corev1.PodSpec, fn func(c *corev1.Container)) {
	for i := range spec.InitContainers {
		fn(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		fn(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		fn((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// joinQuote quotes and comma-joins items: `"a", "b"`.
func joinQuote(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return `"` + strings.Join(items, `", "`) + `"`
}

// pluralize picks the singular form for exactly one item.
func pluralize(singular, plural string, n int) string {
	if n == 1 {
		return singular
	}
	return plural
}

// setters names who set a forbidden value: "pod", `containers "a", "b"`,
// or both joined by " and ".
func setters(pod bool, containers []string) string {
	var parts []string
	if pod {
		parts = append(parts, "pod")
	}
	if len(containers) > 0 {
		parts = append(parts, pluralize("container", "containers", len(containers))+" "+joinQuote(containers))
	}
	return strings.Join(parts, " and ")
}

// isWindows reports whether the pod declares spec.os.name=windows, for
// which the Linux-only restricted checks do not apply.
func isWindows(spec *corev1.PodSpec) bool {
	return spec.OS != nil && spec.OS.Name == corev1.Windows
}
