package podsecurity

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// The restricted level adds the current pod-hardening best practices on
// top of baseline.

// checkAllowPrivilegeEscalation requires allowPrivilegeEscalation=false
// (unset means true). Windows pods cannot set it and are exempt.
func checkAllowPrivilegeEscalation(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	if isWindows(spec) {
		return nil
	}
	var bad []string
	visitContainers(spec, func(c *corev1.Container) {
		if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			bad = append(bad, c.Name)
		}
	})
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "allowPrivilegeEscalation != false", Detail: fmt.Sprintf("%s %s must set securityContext.allowPrivilegeEscalation=false",
		pluralize("container", "containers", len(bad)), joinQuote(bad))}
}

// checkCapabilitiesRestricted requires dropping ALL capabilities and adding
// back at most NET_BIND_SERVICE. Windows pods are exempt.
func checkCapabilitiesRestricted(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	if isWindows(spec) {
		return nil
	}
	var missingDrop, adding []string
	caps := sets.New[string]()
	visitContainers(spec, func(c *corev1.Container) {
		if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
			missingDrop = append(missingDrop, c.Name)
			return
		}
		dropsAll := false
		for _, d := range c.SecurityContext.Capabilities.Drop {
			if d == "ALL" {
				dropsAll = true
				break
			}
		}
		if !dropsAll {
			missingDrop = append(missingDrop, c.Name)
		}
		adds := false
		for _, a := range c.SecurityContext.Capabilities.Add {
			if a != "NET_BIND_SERVICE" {
				adds = true
				caps.Insert(string(a))
			}
		}
		if adds {
			adding = append(adding, c.Name)
		}
	})
	var details []string
	if len(missingDrop) > 0 {
		details = append(details, fmt.Sprintf(`%s %s must set securityContext.capabilities.drop=["ALL"]`,
			pluralize("container", "containers", len(missingDrop)), joinQuote(missingDrop)))
	}
	if len(adding) > 0 {
		details = append(details, fmt.Sprintf("%s %s must not include %s in securityContext.capabilities.add",
			pluralize("container", "containers", len(adding)), joinQuote(adding), joinQuote(sets.List(caps))))
	}
	if len(details) == 0 {
		return nil
	}
	return &Violation{Reason: "unrestricted capabilities", Detail: strings.Join(details, "; ")}
}

// checkRestrictedVolumes allows only the volume types that cannot reach
// the host or outside storage directly: configMap, csi, downwardAPI,
// emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret.
func checkRestrictedVolumes(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	var bad []string
	types := sets.New[string]()
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		t := restrictedVolumeType(&v.VolumeSource)
		if t == "" {
			continue
		}
		bad = append(bad, v.Name)
		types.Insert(t)
	}
	if len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "restricted volume types", Detail: fmt.Sprintf("%s %s %s %s %s",
		pluralize("volume", "volumes", len(bad)), joinQuote(bad),
		pluralize("uses", "use", len(bad)),
		pluralize("restricted volume type", "restricted volume types", types.Len()), joinQuote(sets.List(types)))}
}

// restrictedVolumeType names a volume source the restricted level
// forbids, or returns "" for an allowed one.
func restrictedVolumeType(s *corev1.VolumeSource) string {
	switch {
	case s.ConfigMap != nil, s.CSI != nil, s.DownwardAPI != nil, s.EmptyDir != nil, s.Ephemeral != nil,
		s.Image != nil, s.PersistentVolumeClaim != nil, s.Projected != nil, s.Secret != nil:
		return ""
	case s.HostPath != nil:
		return "hostPath"
	case s.GCEPersistentDisk != nil:
		return "gcePersistentDisk"
	case s.AWSElasticBlockStore != nil:
		return "awsElasticBlockStore"
	case s.GitRepo != nil:
		return "gitRepo"
	case s.NFS != nil:
		return "nfs"
	case s.ISCSI != nil:
		return "iscsi"
	case s.Glusterfs != nil:
		return "glusterfs"
	case s.RBD != nil:
		return "rbd"
	case s.FlexVolume != nil:
		return "flexVolume"
	case s.Cinder != nil:
		return "cinder"
	case s.CephFS != nil:
		return "cephfs"
	case s.Flocker != nil:
		return "flocker"
	case s.FC != nil:
		return "fc"
	case s.AzureFile != nil:
		return "azureFile"
	case s.VsphereVolume != nil:
		return "vsphereVolume"
	case s.Quobyte != nil:
		return "quobyte"
	case s.AzureDisk != nil:
		return "azureDisk"
	case s.PhotonPersistentDisk != nil:
		return "photonPersistentDisk"
	case s.PortworxVolume != nil:
		return "portworxVolume"
	case s.ScaleIO != nil:
		return "scaleIO"
	case s.StorageOS != nil:
		return "storageos"
	}
	return "unknown"
}

// checkRunAsNonRoot requires runAsNonRoot=true on the pod or on every
// container, and forbids runAsNonRoot=false anywhere.
func checkRunAsNonRoot(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	podBad, podTrue := false, false
	if sc := spec.SecurityContext; sc != nil && sc.RunAsNonRoot != nil {
		podBad, podTrue = !*sc.RunAsNonRoot, *sc.RunAsNonRoot
	}
	var explicit, implicit []string
	visitContainers(spec, func(c *corev1.Container) {
		switch sc := c.SecurityContext; {
		case sc != nil && sc.RunAsNonRoot != nil:
			if !*sc.RunAsNonRoot {
				explicit = append(explicit, c.Name)
			}
		case !podTrue:
			implicit = append(implicit, c.Name)
		}
	})
	if podBad || len(explicit) > 0 {
		return &Violation{Reason: "runAsNonRoot != true", Detail: setters(podBad, explicit) + " must not set securityContext.runAsNonRoot=false"}
	}
	if len(implicit) > 0 {
		return &Violation{Reason: "runAsNonRoot != true", Detail: fmt.Sprintf("pod or %s %s must set securityContext.runAsNonRoot=true",
			pluralize("container", "containers", len(implicit)), joinQuote(implicit))}
	}
	return nil
}

// checkRunAsUser forbids running as UID 0 explicitly.
func checkRunAsUser(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	podBad := spec.SecurityContext != nil && spec.SecurityContext.RunAsUser != nil && *spec.SecurityContext.RunAsUser == 0
	var bad []string
	visitContainers(spec, func(c *corev1.Container) {
		if sc := c.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			bad = append(bad, c.Name)
		}
	})
	if !podBad && len(bad) == 0 {
		return nil
	}
	return &Violation{Reason: "runAsUser=0", Detail: setters(podBad, bad) + " must not set runAsUser=0"}
}

// checkSeccompRestricted requires a RuntimeDefault or Localhost seccomp
// profile on the pod or on every container. Windows pods are exempt.
func checkSeccompRestricted(_ *metav1.ObjectMeta, spec *corev1.PodSpec) *Violation {
	if isWindows(spec) {
		return nil
	}
	badValues := sets.New[string]()
	podBad, podSet := false, false
	if sc := spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		if validSeccompType(sc.SeccompProfile.Type) {
			podSet = true
		} else {
			podBad = true
			badValues.Insert(string(sc.SeccompProfile.Type))
		}
	}
	var explicit, implicit []string
	visitContainers(spec, func(c *corev1.Container) {
		switch sc := c.SecurityContext; {
		case sc != nil && sc.SeccompProfile != nil:
			if !validSeccompType(sc.SeccompProfile.Type) {
				explicit = append(explicit, c.Name)
				badValues.Insert(string(sc.SeccompProfile.Type))
			}
		case !podSet:
			implicit = append(implicit, c.Name)
		}
	})
	if podBad || len(explicit) > 0 {
		return &Violation{Reason: "seccompProfile", Detail: fmt.Sprintf("%s must not set securityContext.seccompProfile.type to %s",
			setters(podBad, explicit), joinQuote(sets.List(badValues)))}
	}
	if len(implicit) > 0 {
		return &Violation{Reason: "seccompProfile", Detail: fmt.Sprintf(`pod or %s %s must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
			pluralize("container", "containers", len(implicit)), joinQuote(implicit))}
	}
	return nil
}
