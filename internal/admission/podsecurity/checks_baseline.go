package podsecurity

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// The baseline level prevents known privilege escalations while allowing
// the default pod configuration. Each check below covers one control of
// https://kubernetes.io/docs/concepts/security/pod-security-standards/.

// checkPrivileged forbids securityContext.privileged=true.
func checkPrivileged(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	var bad []string
	visitContainers(spec, func(c *corev1.Container) {
		if sc := c.SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
			bad = append(bad, c.Name)
		}
	})
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "privileged", Detail: fmt.Sprintf("%s %s must not set securityContext.privileged=true",
		pluralize("container", "containers", len(bad)), joinQuote(bad))}
}

// checkHostNamespaces forbids sharing the host's network, PID or IPC
// namespace.
func checkHostNamespaces(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	var set []string
	if spec.HostNetwork {
		set = append(set, "hostNetwork=true")
	}
	if spec.HostPID {
		set = append(set, "hostPID=true")
	}
	if spec.HostIPC {
		set = append(set, "hostIPC=true")
	}
	if len(set) == 0 {
		return nil
	}
	return &Violation{Reason: "host namespaces", Detail: strings.Join(set, ", ")}
}

// checkHostPathVolumes forbids hostPath volumes.
func checkHostPathVolumes(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	var bad []string
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			bad = append(bad, v.Name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "hostPath volumes", Detail: pluralize("volume", "volumes", len(bad)) + " " + joinQuote(bad)}
}

// checkHostPorts forbids non-zero hostPort values.
func checkHostPorts(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	var bad []string
	ports := sets.New[int]()
	visitContainers(spec, func(c *corev1.Container) {
		uses := false
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				uses = true
				ports.Insert(int(p.HostPort))
			}
		}
		if uses {
			bad = append(bad, c.Name)
		}
	})
	if len(bad) == 0 {
		return nil
	}
	list := make([]string, 0, ports.Len())
	for _, p := range sets.List(ports) {
		list = append(list, strconv.Itoa(p))
	}
	// Kubernetes sorts the ports as strings.
	sort.Strings(list)
	return &Violation{Reason: "hostPort", Detail: fmt.Sprintf("%s %s %s %s %s",
		pluralize("container", "containers", len(bad)), joinQuote(bad),
		pluralize("uses", "use", len(bad)),
		pluralize("hostPort", "hostPorts", len(list)), strings.Join(list, ", "))}
}

// baselineCapabilities may be added at the baseline level: the container
// runtimes' default set.
func baselineCapabilities() sets.Set[string] {
	return sets.New("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
		"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
}

// checkCapabilitiesBaseline forbids adding capabilities beyond the
// runtime default set.
func checkCapabilitiesBaseline(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	allowed := baselineCapabilities()
	var bad []string
	caps := sets.New[string]()
	visitContainers(spec, func(c *corev1.Container) {
		if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
			return
		}
		adds := false
		for _, cp := range c.SecurityContext.Capabilities.Add {
			if !allowed.Has(string(cp)) {
				adds = true
				caps.Insert(string(cp))
			}
		}
		if adds {
			bad = append(bad, c.Name)
		}
	})
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "non-default capabilities", Detail: fmt.Sprintf("%s %s must not include %s in securityContext.capabilities.add",
		pluralize("container", "containers", len(bad)), joinQuote(bad), joinQuote(sets.List(caps)))}
}

// allowedAppArmorType reports whether an AppArmor profile type keeps the
// runtime's confinement.
func allowedAppArmorType(t corev1.AppArmorProfileType) bool {
	return t == corev1.AppArmorProfileTypeRuntimeDefault || t == corev1.AppArmorProfileTypeLocalhost
}

// allowedAppArmorAnnotation is the same rule for the deprecated
// per-container annotation.
func allowedAppArmorAnnotation(v string) bool {
	return v == "" || v == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault ||
		strings.HasPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
}

// checkAppArmor forbids disabling or overriding the default AppArmor
// profile (field or deprecated annotation) with anything but a localhost
// profile.
func checkAppArmor(meta *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	badValues := sets.New[string]()
	podBad := false
	if sc := spec.SecurityContext; sc != nil && sc.AppArmorProfile != nil && !allowedAppArmorType(sc.AppArmorProfile.Type) {
		podBad = true
		badValues.Insert(string(sc.AppArmorProfile.Type))
	}
	var badContainers []string
	visitContainers(spec, func(c *corev1.Container) {
		if sc := c.SecurityContext; sc != nil && sc.AppArmorProfile != nil && !allowedAppArmorType(sc.AppArmorProfile.Type) {
			badContainers = append(badContainers, c.Name)
			badValues.Insert(string(sc.AppArmorProfile.Type))
		}
	})
	var badAnnotations []string
	for k, v := range meta.Annotations {
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) && !allowedAppArmorAnnotation(v) {
			badAnnotations = append(badAnnotations, fmt.Sprintf("%s=%q", k, v))
		}
	}
	sort.Strings(badAnnotations)
	who := setters(podBad, badContainers)
	if len(badAnnotations) > 0 {
		if who != "" {
			who += " and "
		}
		who += pluralize("annotation", "annotations", len(badAnnotations))
	}
	if who == "" {
		return nil
	}
	values := append(sets.List(badValues), badAnnotations...)
	return &Violation{
		Reason: pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
		Detail: fmt.Sprintf("%s must not set AppArmor profile type to %s", who, joinQuote(values)),
	}
}

// allowedSELinuxTypes may be set at the baseline level.
func allowedSELinuxTypes() sets.Set[string] {
	return sets.New("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")
}

// checkSELinuxOptions restricts the SELinux type and forbids setting a
// custom user or role.
func checkSELinuxOptions(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	allowed := allowedSELinuxTypes()
	badTypes := sets.New[string]()
	setUser, setRole := false, false
	valid := func(o *corev1.SELinuxOptions) bool {
		ok := true
		if !allowed.Has(o.Type) {
			ok = false
			badTypes.Insert(o.Type)
		}
		if o.User != "" {
			ok, setUser = false, true
		}
		if o.Role != "" {
			ok, setRole = false, true
		}
		return ok
	}
	podBad := spec.SecurityContext != nil && spec.SecurityContext.SELinuxOptions != nil && !valid(spec.SecurityContext.SELinuxOptions)
	var bad []string
	visitContainers(spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && c.SecurityContext.SELinuxOptions != nil && !valid(c.SecurityContext.SELinuxOptions) {
			bad = append(bad, c.Name)
		}
	})
	if !podBad && len(bad) == 0 {
		return nil
	}
	var what []string
	if badTypes.Len() > 0 {
		what = append(what, pluralize("type", "types", badTypes.Len())+" "+joinQuote(sets.List(badTypes)))
	}
	if setUser {
		what = append(what, "user may not be set")
	}
	if setRole {
		what = append(what, "role may not be set")
	}
	return &Violation{Reason: "seLinuxOptions", Detail: fmt.Sprintf("%s set forbidden securityContext.seLinuxOptions: %s",
		setters(podBad, bad), strings.Join(what, "; "))}
}

// checkProcMount requires the default /proc masks. (Kubernetes relaxes
// this for user-namespaced pods only when an operator opts in; Skiff has
// no such option.)
func checkProcMount(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	var bad []string
	types := sets.New[string]()
	visitContainers(spec, func(c *corev1.Container) {
		if sc := c.SecurityContext; sc != nil && sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
			bad = append(bad, c.Name)
			types.Insert(string(*sc.ProcMount))
		}
	})
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "procMount", Detail: fmt.Sprintf("%s %s must not set securityContext.procMount to %s",
		pluralize("container", "containers", len(bad)), joinQuote(bad), joinQuote(sets.List(types)))}
}

// validSeccompType reports whether a seccomp profile type keeps syscall
// filtering on.
func validSeccompType(t corev1.SeccompProfileType) bool {
	return t == corev1.SeccompProfileTypeRuntimeDefault || t == corev1.SeccompProfileTypeLocalhost
}

// checkSeccompBaseline forbids an explicitly Unconfined seccomp profile.
func checkSeccompBaseline(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	badValues := sets.New[string]()
	podBad := false
	if sc := spec.SecurityContext; sc != nil && sc.SeccompProfile != nil && !validSeccompType(sc.SeccompProfile.Type) {
		podBad = true
		badValues.Insert(string(sc.SeccompProfile.Type))
	}
	var bad []string
	visitContainers(spec, func(c *corev1.Container) {
		if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil && !validSeccompType(sc.SeccompProfile.Type) {
			bad = append(bad, c.Name)
			badValues.Insert(string(sc.SeccompProfile.Type))
		}
	})
	if !podBad && len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "seccompProfile", Detail: fmt.Sprintf("%s must not set securityContext.seccompProfile.type to %s",
		setters(podBad, bad), joinQuote(sets.List(badValues)))}
}

// safeSysctls are namespaced and isolated from other pods, so any pod may
// set them.
func safeSysctls() sets.Set[string] {
	return sets.New(
		"kernel.shm_rmid_forced",
		"net.ipv4.ip_local_port_range",
		"net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_syncookies",
		"net.ipv4.ping_group_range",
		"net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_keepalive_intvl",
		"net.ipv4.tcp_keepalive_probes",
		"net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem",
	)
}

// checkSysctls allows only the safe sysctls.
func checkSysctls(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	if spec.SecurityContext == nil {
		return nil
	}
	safe := safeSysctls()
	var bad []string
	for _, s := range spec.SecurityContext.Sysctls {
		if !safe.Has(s.Name) {
			bad = append(bad, s.Name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "forbidden sysctls", Detail: strings.Join(bad, ", ")}
}

// checkWindowsHostProcess forbids Windows HostProcess containers.
func checkWindowsHostProcess(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	isHost := func(o *corev1.WindowsSecurityContextOptions) bool {
		return o != nil && o.HostProcess != nil && *o.HostProcess
	}
	podBad := spec.SecurityContext != nil && isHost(spec.SecurityContext.WindowsOptions)
	var bad []string
	visitContainers(spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && isHost(c.SecurityContext.WindowsOptions) {
			bad = append(bad, c.Name)
		}
	})
	if !podBad && len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "hostProcess", Detail: setters(podBad, bad) + " must not set securityContext.windowsOptions.hostProcess=true"}
}

// checkProbeAndLifecycleHosts forbids probes and lifecycle handlers that
// name a host, which would let the node agent reach arbitrary addresses
// on the pod's behalf.
func checkProbeAndLifecycleHosts(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	badContainers := sets.New[string]()
	hosts := sets.New[string]()
	add := func(c *corev1.Container, http *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction) {
		if http != nil && http.Host != "" {
			badContainers.Insert(c.Name)
			hosts.Insert(http.Host)
		}
		if tcp != nil && tcp.Host != "" {
			badContainers.Insert(c.Name)
			hosts.Insert(tcp.Host)
		}
	}
	visitContainers(spec, func(c *corev1.Container) {
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil {
				add(c, p.HTTPGet, p.TCPSocket)
			}
		}
		if c.Lifecycle != nil {
			for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
				if h != nil {
					add(c, h.HTTPGet, h.TCPSocket)
				}
			}
		}
	})
	if badContainers.Len() == 0 {
		return nil
	}
	return &Violation{Reason: "probe or lifecycle host", Detail: fmt.Sprintf("%s %s %s %s %s",
		pluralize("container", "containers", badContainers.Len()), joinQuote(sets.List(badContainers)),
		pluralize("uses", "use", badContainers.Len()),
		pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.Len()), joinQuote(sets.List(hosts)))}
}
