package podsecurity

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// compliant returns a pod that passes every restricted check.
func compliant() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "c",
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		fn     checkFunc
		mutate func(p *corev1.Pod)
		want   *Violation // nil: passes
	}{
		{"privileged ok", checkPrivileged, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(false) }, nil},
		{"privileged", checkPrivileged, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true) },
			&Violation{"privileged", `container "c" must not set securityContext.privileged=true`}},
		{"privileged init and regular", checkPrivileged, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
			p.Spec.InitContainers = []corev1.Container{{Name: "i", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}
		}, &Violation{"privileged", `containers "i", "c" must not set securityContext.privileged=true`}},

		{"host namespaces ok", checkHostNamespaces, func(*corev1.Pod) {}, nil},
		{"host namespaces", checkHostNamespaces, func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID = true, true },
			&Violation{"host namespaces", "hostNetwork=true, hostPID=true"}},

		{"hostPath ok", checkHostPathVolumes, func(*corev1.Pod) {}, nil},
		{"hostPath", checkHostPathVolumes, func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, hostPathVolume("v")) },
			&Violation{"hostPath volumes", `volume "v"`}},

		{"hostPort ok", checkHostPorts, func(*corev1.Pod) {}, nil},
		{"hostPort", checkHostPorts, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 80 },
			&Violation{"hostPort", `container "c" uses hostPort 80`}},
		{"hostPorts", checkHostPorts, func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{HostPort: 8080}, {HostPort: 443}}
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "d", Ports: []corev1.ContainerPort{{HostPort: 80}}})
		}, &Violation{"hostPort", `containers "c", "d" use hostPorts 443, 80, 8080`}},

		{"baseline capabilities ok", checkCapabilitiesBaseline, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"CHOWN", "NET_BIND_SERVICE"}
		}, nil},
		{"baseline capabilities", checkCapabilitiesBaseline, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_RAW", "NET_ADMIN", "CHOWN"}
		}, &Violation{"non-default capabilities", `container "c" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add`}},

		{"apparmor ok", checkAppArmor, func(p *corev1.Pod) {
			p.Spec.SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
			p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/c": "localhost/x"}
		}, nil},
		{"apparmor field", checkAppArmor, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		}, &Violation{"forbidden AppArmor profile", `container "c" must not set AppArmor profile type to "Unconfined"`}},
		{"apparmor annotation", checkAppArmor, func(p *corev1.Pod) {
			p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}
		}, &Violation{"forbidden AppArmor profile", `annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/c="unconfined""`}},

		{"selinux ok", checkSELinuxOptions, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1"}
		}, nil},
		{"selinux type and user", checkSELinuxOptions, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t"}
			p.Spec.Containers[0].SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{User: "root"}
		}, &Violation{"seLinuxOptions", `pod and container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set`}},

		{"procMount ok", checkProcMount, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.ProcMount = ptr.To(corev1.DefaultProcMount) }, nil},
		{"procMount", checkProcMount, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.ProcMount = ptr.To(corev1.UnmaskedProcMount) },
			&Violation{"procMount", `container "c" must not set securityContext.procMount to "Unmasked"`}},

		{"seccomp baseline unset ok", checkSeccompBaseline, func(p *corev1.Pod) { p.Spec.SecurityContext.SeccompProfile = nil }, nil},
		{"seccomp baseline unconfined", checkSeccompBaseline, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, &Violation{"seccompProfile", `container "c" must not set securityContext.seccompProfile.type to "Unconfined"`}},

		{"sysctls ok", checkSysctls, func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.tcp_syncookies", Value: "1"}}
		}, nil},
		{"sysctls", checkSysctls, func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax"}, {Name: "net.ipv4.tcp_rmem"}, {Name: "vm.swappiness"}}
		}, &Violation{"forbidden sysctls", "kernel.msgmax, vm.swappiness"}},

		{"hostProcess", checkWindowsHostProcess, func(p *corev1.Pod) {
			p.Spec.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr.To(true)}
		}, &Violation{"hostProcess", `pod must not set securityContext.windowsOptions.hostProcess=true`}},

		{"probe host ok", checkProbeAndLifecycleHosts, func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/"}}}
		}, nil},
		{"probe host", checkProbeAndLifecycleHosts, func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1"}}}
		}, &Violation{"probe or lifecycle host", `container "c" uses probe or lifecycle host "10.0.0.1"`}},

		{"allowPrivilegeEscalation ok", checkAllowPrivilegeEscalation, func(*corev1.Pod) {}, nil},
		{"allowPrivilegeEscalation unset", checkAllowPrivilegeEscalation, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil },
			&Violation{"allowPrivilegeEscalation != false", `container "c" must set securityContext.allowPrivilegeEscalation=false`}},
		{"allowPrivilegeEscalation windows", checkAllowPrivilegeEscalation, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
			p.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
		}, nil},

		{"restricted capabilities ok", checkCapabilitiesRestricted, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}, nil},
		{"restricted capabilities no drop", checkCapabilitiesRestricted, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.Capabilities = nil },
			&Violation{"unrestricted capabilities", `container "c" must set securityContext.capabilities.drop=["ALL"]`}},
		{"restricted capabilities add", checkCapabilitiesRestricted, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"CHOWN"}}
		}, &Violation{"unrestricted capabilities", `container "c" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "CHOWN" in securityContext.capabilities.add`}},

		{"restricted volumes ok", checkRestrictedVolumes, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
		}, nil},
		{"restricted volumes", checkRestrictedVolumes, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, hostPathVolume("h"),
				corev1.Volume{Name: "n", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{}}})
		}, &Violation{"restricted volume types", `volumes "h", "n" use restricted volume types "hostPath", "nfs"`}},
		{"restricted volume", checkRestrictedVolumes, func(p *corev1.Pod) { p.Spec.Volumes = []corev1.Volume{hostPathVolume("h")} },
			&Violation{"restricted volume types", `volume "h" uses restricted volume type "hostPath"`}},

		{"runAsNonRoot ok on containers", checkRunAsNonRoot, func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot = nil
			p.Spec.Containers[0].SecurityContext.RunAsNonRoot = ptr.To(true)
		}, nil},
		{"runAsNonRoot unset", checkRunAsNonRoot, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = nil },
			&Violation{"runAsNonRoot != true", `pod or container "c" must set securityContext.runAsNonRoot=true`}},
		{"runAsNonRoot false", checkRunAsNonRoot, func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot = ptr.To(false)
			p.Spec.Containers[0].SecurityContext.RunAsNonRoot = ptr.To(false)
		}, &Violation{"runAsNonRoot != true", `pod and container "c" must not set securityContext.runAsNonRoot=false`}},

		{"runAsUser ok", checkRunAsUser, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To(int64(1000)) }, nil},
		{"runAsUser 0", checkRunAsUser, func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.RunAsUser = ptr.To(int64(0)) },
			&Violation{"runAsUser=0", `container "c" must not set runAsUser=0`}},

		{"seccomp restricted ok on container", checkSeccompRestricted, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile = nil
			p.Spec.Containers[0].SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
		}, nil},
		{"seccomp restricted unset", checkSeccompRestricted, func(p *corev1.Pod) { p.Spec.SecurityContext.SeccompProfile = nil },
			&Violation{"seccompProfile", `pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`}},
		{"seccomp restricted unconfined", checkSeccompRestricted, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile.Type = corev1.SeccompProfileTypeUnconfined
		}, &Violation{"seccompProfile", `pod must not set securityContext.seccompProfile.type to "Unconfined"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compliant()
			tt.mutate(p)
			got := tt.fn(&p.ObjectMeta, &p.Spec)
			switch {
			case tt.want == nil && got != nil:
				t.Fatalf("want pass, got %v", *got)
			case tt.want != nil && got == nil:
				t.Fatalf("want %v, got pass", *tt.want)
			case tt.want != nil && *got != *tt.want:
				t.Fatalf("got  %v\nwant %v", *got, *tt.want)
			}
		})
	}
}

func hostPathVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}
}

func TestEvaluateLevels(t *testing.T) {
	bad := compliant()
	bad.Spec.SecurityContext = nil
	bad.Spec.HostNetwork = true
	bad.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true), Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}
	bad.Spec.Volumes = []corev1.Volume{hostPathVolume("host")}

	tests := []struct {
		level Level
		want  string
	}{
		{LevelPrivileged, ""},
		{LevelBaseline, `non-default capabilities (container "c" must not include "NET_ADMIN" in securityContext.capabilities.add), ` +
			`host namespaces (hostNetwork=true), hostPath volumes (volume "host"), privileged (container "c" must not set securityContext.privileged=true)`},
		// Restricted replaces the baseline capability, hostPath and
		// seccomp checks with its stricter ones, reported after the
		// remaining baseline checks.
		{LevelRestricted, `host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true), ` +
			`allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ` +
			`unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "NET_ADMIN" in securityContext.capabilities.add), ` +
			`restricted volume types (volume "host" uses restricted volume type "hostPath"), ` +
			`runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ` +
			`seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
	}
	for _, tt := range tests {
		t.Run(string(tt.level), func(t *testing.T) {
			got := FormatDetail(Evaluate(LevelVersion{Level: tt.level, Version: LatestVersion()}, &bad.ObjectMeta, &bad.Spec))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if vs := Evaluate(LevelVersion{Level: LevelRestricted, Version: LatestVersion()}, nil, &compliant().Spec); len(vs) != 0 {
		t.Fatalf("compliant pod violates restricted: %v", vs)
	}
}

func TestPolicyFromLabels(t *testing.T) {
	tests := []struct {
		name     string
		labels   map[string]string
		want     string // enforce/audit/warn
		wantErrs int
	}{
		{"none", nil, "privileged:latest/privileged:latest/privileged:latest", 0},
		{"enforce only", map[string]string{EnforceLevelLabel: "restricted"}, "restricted:latest/privileged:latest/privileged:latest", 0},
		{"versions", map[string]string{WarnLevelLabel: "baseline", WarnVersionLabel: "v1.30", AuditLevelLabel: "restricted"},
			"privileged:latest/restricted:latest/baseline:v1.30", 0},
		{"invalid enforce fails closed", map[string]string{EnforceLevelLabel: "strict"}, "restricted:latest/privileged:latest/privileged:latest", 1},
		{"invalid warn fails open", map[string]string{WarnLevelLabel: "strict", WarnVersionLabel: "1.30"}, "privileged:latest/privileged:latest/privileged:latest", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := PolicyFromLabels(tt.labels)
			got := p.Enforce.String() + "/" + p.Audit.String() + "/" + p.Warn.String()
			if got != tt.want || len(errs) != tt.wantErrs {
				t.Fatalf("got %s with %d errors (%v), want %s with %d", got, len(errs), errs, tt.want, tt.wantErrs)
			}
		})
	}
	_, errs := PolicyFromLabels(map[string]string{EnforceLevelLabel: "strict"})
	want := `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`
	if errs[0].Error() != want {
		t.Fatalf("error %q, want %q", errs[0].Error(), want)
	}
}
