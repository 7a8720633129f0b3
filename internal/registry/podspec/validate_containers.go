package podspec

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// containerContext is the pod-wide information container validation needs.
type containerContext struct {
	volumes       map[string]corev1.VolumeSource
	claimNames    map[string]bool
	grace         *int64
	restartPolicy corev1.RestartPolicy
	hostUsers     bool
}

var supportedPortProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

var supportedPullPolicies = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}

// validateContainers checks the regular containers of a pod.
func validateContainers(containers []corev1.Container, cctx containerContext, fldPath *field.Path) field.ErrorList {
	if len(containers) == 0 {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var errs field.ErrorList
	names := map[string]bool{}
	for i := range containers {
		c := &containers[i]
		path := fldPath.Index(i)
		errs = append(errs, validateContainerCommon(c, cctx, path)...)
		// Clashes with init and ephemeral container names are reported by
		// their own validation so each duplicate is reported once.
		if names[c.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), c.Name))
		} else {
			names[c.Name] = true
		}
		errs = append(errs, validateLifecycleAndProbes(c, cctx.grace, path)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(path.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	errs = append(errs, hostPortConflicts(containers, fldPath)...)
	return errs
}

// validateInitContainers checks init containers; a sidecar (restartPolicy
// Always) may carry probes and lifecycle hooks, other init containers not.
func validateInitContainers(inits, regular []corev1.Container, cctx containerContext, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for _, c := range regular {
		names[c.Name] = true
	}
	for i := range inits {
		c := &inits[i]
		path := fldPath.Index(i)
		errs = append(errs, validateContainerCommon(c, cctx, path)...)
		if c.RestartPolicy != nil && *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			errs = append(errs, field.NotSupported(path.Child("restartPolicy"), *c.RestartPolicy,
				[]corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
		}
		if names[c.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), c.Name))
		} else if c.Name != "" {
			names[c.Name] = true
		}
		// Init containers run one at a time, so their host ports only
		// have to be unique within each container.
		errs = append(errs, hostPortConflicts([]corev1.Container{*c}, fldPath)...)
		if isRestartableInitContainer(c) {
			errs = append(errs, validateLifecycleAndProbes(c, cctx.grace, path)...)
			continue
		}
		const msg = "may not be set for init containers without restartPolicy=Always"
		if c.Lifecycle != nil {
			errs = append(errs, field.Forbidden(path.Child("lifecycle"), msg))
		}
		if c.LivenessProbe != nil {
			errs = append(errs, field.Forbidden(path.Child("livenessProbe"), msg))
		}
		if c.ReadinessProbe != nil {
			errs = append(errs, field.Forbidden(path.Child("readinessProbe"), msg))
		}
		if c.StartupProbe != nil {
			errs = append(errs, field.Forbidden(path.Child("startupProbe"), msg))
		}
		if len(c.ResizePolicy) > 0 {
			errs = append(errs, field.Invalid(path.Child("resizePolicy"), c.ResizePolicy, "must not be set for init containers"))
		}
	}
	return errs
}

// ephemeralForbiddenFields lists, in declaration order, the container
// fields an ephemeral container may not set: it must not be relied upon
// for the pod's own service.
var ephemeralForbiddenFields = []struct {
	name string
	set  func(c *corev1.EphemeralContainerCommon) bool
}{
	{"ports", func(c *corev1.EphemeralContainerCommon) bool { return c.Ports != nil }},
	{"resources", func(c *corev1.EphemeralContainerCommon) bool {
		return !reflect.DeepEqual(c.Resources, corev1.ResourceRequirements{})
	}},
	{"resizePolicy", func(c *corev1.EphemeralContainerCommon) bool { return c.ResizePolicy != nil }},
	{"restartPolicy", func(c *corev1.EphemeralContainerCommon) bool { return c.RestartPolicy != nil }},
	{"restartPolicyRules", func(c *corev1.EphemeralContainerCommon) bool { return c.RestartPolicyRules != nil }},
	{"livenessProbe", func(c *corev1.EphemeralContainerCommon) bool { return c.LivenessProbe != nil }},
	{"readinessProbe", func(c *corev1.EphemeralContainerCommon) bool { return c.ReadinessProbe != nil }},
	{"startupProbe", func(c *corev1.EphemeralContainerCommon) bool { return c.StartupProbe != nil }},
	{"lifecycle", func(c *corev1.EphemeralContainerCommon) bool { return c.Lifecycle != nil }},
}

// validateEphemeralContainers checks debug containers added through the
// ephemeralcontainers subresource.
func validateEphemeralContainers(ecs []corev1.EphemeralContainer, regular, inits []corev1.Container, cctx containerContext, fldPath *field.Path) field.ErrorList {
	if len(ecs) == 0 {
		return nil
	}
	var errs field.ErrorList
	others, all := map[string]bool{}, map[string]bool{}
	for _, c := range regular {
		others[c.Name], all[c.Name] = true, true
	}
	for _, c := range inits {
		others[c.Name], all[c.Name] = true, true
	}
	for i := range ecs {
		ec := &ecs[i]
		path := fldPath.Index(i)
		c := corev1.Container(ec.EphemeralContainerCommon)
		errs = append(errs, validateContainerCommon(&c, cctx, path)...)
		errs = append(errs, validateImageWhitespace(c.Image, path.Child("image"))...)
		if all[ec.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), ec.Name))
		} else {
			all[ec.Name] = true
		}
		if ec.TargetContainerName != "" && !others[ec.TargetContainerName] {
			errs = append(errs, field.NotFound(path.Child("targetContainerName"), ec.TargetContainerName))
		}
		for _, f := range ephemeralForbiddenFields {
			if f.set(&ec.EphemeralContainerCommon) {
				errs = append(errs, field.Forbidden(path.Child(f.name), "cannot be set for an Ephemeral Container"))
			}
		}
		for j, vm := range ec.VolumeMounts {
			if vm.SubPath != "" {
				errs = append(errs, field.Forbidden(path.Child("volumeMounts").Index(j).Child("subPath"), "cannot be set for an Ephemeral Container"))
			}
			if vm.SubPathExpr != "" {
				errs = append(errs, field.Forbidden(path.Child("volumeMounts").Index(j).Child("subPathExpr"), "cannot be set for an Ephemeral Container"))
			}
		}
	}
	return errs
}

// validateContainerCommon applies the rules shared by all container kinds.
func validateContainerCommon(c *corev1.Container, cctx containerContext, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	} else {
		errs = append(errs, validateDNSLabel(c.Name, path.Child("name"))...)
	}
	// Whitespace-only images stay legal in templates for compatibility;
	// pods reject them separately.
	if c.Image == "" {
		errs = append(errs, field.Required(path.Child("image"), ""))
	}
	switch c.TerminationMessagePolicy {
	case corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	case "":
		errs = append(errs, field.Required(path.Child("terminationMessagePolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			[]corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}))
	}
	errs = append(errs, validateContainerPorts(c.Ports, path.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, path.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, path.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c, cctx.volumes, path.Child("volumeMounts"))...)
	errs = append(errs, validateVolumeDevices(c, cctx.volumes, path.Child("volumeDevices"))...)
	switch c.ImagePullPolicy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	case "":
		errs = append(errs, field.Required(path.Child("imagePullPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("imagePullPolicy"), c.ImagePullPolicy, supportedPullPolicies))
	}
	errs = append(errs, validateResourceRequirements(&c.Resources, cctx.claimNames, containerResourceName, path.Child("resources"))...)
	errs = append(errs, validateResizePolicy(c.ResizePolicy, cctx.restartPolicy, path.Child("resizePolicy"))...)
	errs = append(errs, validateSecurityContext(c.SecurityContext, path.Child("securityContext"))...)
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, p := range ports {
		path := fldPath.Index(i)
		if p.Name != "" {
			if msgs := validation.IsValidPortName(p.Name); len(msgs) > 0 {
				for _, msg := range msgs {
					errs = append(errs, field.Invalid(path.Child("name"), p.Name, msg))
				}
			} else if names[p.Name] {
				errs = append(errs, field.Duplicate(path.Child("name"), p.Name))
			} else {
				names[p.Name] = true
			}
		}
		if p.ContainerPort == 0 {
			errs = append(errs, field.Required(path.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(p.ContainerPort)) {
				errs = append(errs, field.Invalid(path.Child("containerPort"), p.ContainerPort, msg))
			}
		}
		if p.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(p.HostPort)) {
				errs = append(errs, field.Invalid(path.Child("hostPort"), p.HostPort, msg))
			}
		}
		switch p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		case "":
			errs = append(errs, field.Required(path.Child("protocol"), ""))
		default:
			errs = append(errs, field.NotSupported(path.Child("protocol"), p.Protocol, supportedPortProtocols))
		}
	}
	return errs
}

// hostPortConflicts reports host ports claimed twice (same protocol, host
// IP and port) across the given containers.
func hostPortConflicts(containers []corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range containers {
		for j, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", p.Protocol, p.HostIP, p.HostPort)
			if seen[key] {
				errs = append(errs, field.Duplicate(fldPath.Index(i).Child("ports").Index(j).Child("hostPort"), key))
			}
			seen[key] = true
		}
	}
	return errs
}

var supportedResizeResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

var supportedResizePolicies = []corev1.ResourceResizeRestartPolicy{corev1.NotRequired, corev1.RestartContainer}

func validateResizePolicy(policies []corev1.ContainerResizePolicy, podRestart corev1.RestartPolicy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.ResourceName]bool{}
	for i, p := range policies {
		if seen[p.ResourceName] {
			errs = append(errs, field.Duplicate(fldPath.Index(i), p.ResourceName))
		}
		seen[p.ResourceName] = true
		switch p.ResourceName {
		case corev1.ResourceCPU, corev1.ResourceMemory:
		case "":
			errs = append(errs, field.Required(fldPath, ""))
		default:
			errs = append(errs, field.NotSupported(fldPath, p.ResourceName, supportedResizeResources))
		}
		switch p.RestartPolicy {
		case corev1.NotRequired, corev1.RestartContainer:
		case "":
			errs = append(errs, field.Required(fldPath, ""))
		default:
			errs = append(errs, field.NotSupported(fldPath, p.RestartPolicy, supportedResizePolicies))
		}
		if podRestart == corev1.RestartPolicyNever && p.RestartPolicy != corev1.NotRequired {
			errs = append(errs, field.Invalid(fldPath, p.RestartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
		}
	}
	return errs
}

// validateImageWhitespace rejects images with surrounding whitespace, which
// Kubernetes enforces on pods but not on templates.
func validateImageWhitespace(image string, fldPath *field.Path) field.ErrorList {
	if len(image) != len(strings.TrimSpace(image)) {
		return field.ErrorList{field.Invalid(fldPath, image, "must not have leading or trailing whitespace")}
	}
	return nil
}
