package podspec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Well-known pod annotations with validation rules.
const (
	mirrorPodAnnotation     = "kubernetes.io/config.mirror"
	deletionCostAnnotation  = "controller.kubernetes.io/pod-deletion-cost"
	seccompPodAnnotation    = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerPrefix  = "container.seccomp.security.alpha.kubernetes.io/"
	appArmorContainerPrefix = "container.apparmor.security.beta.kubernetes.io/"
)

// updatablePodSpecFields is the list Kubernetes prints when a pod update
// touches anything else.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

// ValidatePod returns the problems of a pod being created: its spec, its
// pod-specific annotations and the rules that apply only at creation
// (no ephemeral containers, no node while scheduling gates remain).
// Generic metadata (name, labels, ...) is left to the caller.
func ValidatePod(pod *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(pod)
	specPath := field.NewPath("spec")
	if len(pod.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if pod.Spec.NodeName != "" && len(pod.Spec.SchedulingGates) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
	}
	return errs
}

// validatePodMetadataAndSpec checks what every write of a whole pod must
// satisfy.
func validatePodMetadataAndSpec(pod *corev1.Pod) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validatePodAnnotations(pod.Annotations, &pod.Spec, field.NewPath("metadata", "annotations"))
	errs = append(errs, validateSpec(&pod.Spec, specPath, specOptions{resourceIsPod: true, podMeta: &pod.ObjectMeta})...)
	if pod.Spec.ServiceAccountName == "" {
		for i, v := range pod.Spec.Volumes {
			if v.Projected == nil {
				continue
			}
			for j, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					p := specPath.Child("volumes").Index(i).Child("projected", "sources").Index(j).Child("serviceAccountToken")
					errs = append(errs, field.Forbidden(p, "must not be specified when serviceAccountName is not set"))
				}
			}
		}
	}
	for i, c := range pod.Spec.Containers {
		errs = append(errs, validateImageWhitespace(c.Image, specPath.Child("containers").Index(i).Child("image"))...)
	}
	for i, c := range pod.Spec.InitContainers {
		errs = append(errs, validateImageWhitespace(c.Image, specPath.Child("initContainers").Index(i).Child("image"))...)
	}
	return errs
}

// validatePodAnnotations checks the annotations with pod semantics, on pods
// and on pod templates.
func validatePodAnnotations(annotations map[string]string, spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v, ok := annotations[mirrorPodAnnotation]; ok && spec.NodeName == "" {
		errs = append(errs, field.Invalid(fldPath.Key(mirrorPodAnnotation), v, "must set spec.nodeName if mirror pod annotation is set"))
	}
	if v, ok := annotations[deletionCostAnnotation]; ok && !validDeletionCost(v) {
		errs = append(errs, field.Invalid(fldPath.Key(deletionCostAnnotation), v, "must be a 32bit integer"))
	}
	for _, k := range sortedStringKeys(annotations) {
		v := annotations[k]
		if k == seccompPodAnnotation || strings.HasPrefix(k, seccompContainerPrefix) {
			errs = append(errs, validateSeccompAnnotation(v, fldPath.Child(k))...)
		}
		if strings.HasPrefix(k, appArmorContainerPrefix) {
			name := strings.TrimPrefix(k, appArmorContainerPrefix)
			if !specHasContainer(spec, name) {
				errs = append(errs, field.Invalid(fldPath.Key(k), name, "container not found"))
			}
			if v != "" && v != "runtime/default" && v != "unconfined" && !strings.HasPrefix(v, "localhost/") {
				errs = append(errs, field.Invalid(fldPath.Key(k), v, fmt.Sprintf("invalid AppArmor profile name: %q", v)))
			}
		}
	}
	return errs
}

// validDeletionCost reports whether v is a 32-bit integer as the
// ReplicaSet controller parses it (no leading '+').
func validDeletionCost(v string) bool {
	if v == "" || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return false
	}
	_, err := strconv.ParseInt(v, 10, 32)
	return err == nil
}

func validateSeccompAnnotation(p string, fldPath *field.Path) field.ErrorList {
	switch {
	case p == "runtime/default" || p == "docker/default" || p == "unconfined":
		return nil
	case strings.HasPrefix(p, "localhost/"):
		return validateLocalDescendingPath(strings.TrimPrefix(p, "localhost/"), fldPath)
	default:
		return field.ErrorList{field.Invalid(fldPath, p, "must be a valid seccomp profile")}
	}
}

func specHasContainer(spec *corev1.PodSpec, name string) bool {
	found := false
	visitContainers(spec, field.NewPath("spec"), func(c *corev1.Container, _ *field.Path) {
		found = found || c.Name == name
	})
	return found
}

// validatePodAnnotationUpdates forbids adding, changing or removing the
// mirror pod and AppArmor annotations after creation.
func validatePodAnnotationUpdates(newPod, oldPod *corev1.Pod, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedStringKeys(oldPod.Annotations) {
		if nv, ok := newPod.Annotations[k]; ok && nv == oldPod.Annotations[k] {
			continue
		}
		if strings.HasPrefix(k, appArmorContainerPrefix) {
			errs = append(errs, field.Forbidden(fldPath.Key(k), "may not remove or update AppArmor annotations"))
		}
		if k == mirrorPodAnnotation {
			errs = append(errs, field.Forbidden(fldPath.Key(k), "may not remove or update mirror pod annotation"))
		}
	}
	for _, k := range sortedStringKeys(newPod.Annotations) {
		if _, ok := oldPod.Annotations[k]; ok {
			continue
		}
		if strings.HasPrefix(k, appArmorContainerPrefix) {
			errs = append(errs, field.Forbidden(fldPath.Key(k), "may not add AppArmor annotations"))
		}
		if k == mirrorPodAnnotation {
			errs = append(errs, field.Forbidden(fldPath.Key(k), "may not add mirror pod annotation"))
		}
	}
	return errs
}

// ValidatePodUpdate returns the problems of replacing oldPod by newPod
// through the pod resource itself. Besides validating newPod as a whole, it
// enforces that the spec is immutable except for container images,
// activeDeadlineSeconds (set or lowered), added tolerations, removed
// scheduling gates, additions to the node selector of a gated pod, and a
// negative terminationGracePeriodSeconds set to 1.
func ValidatePodUpdate(newPod, oldPod *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(newPod)
	errs = append(errs, validatePodAnnotationUpdates(newPod, oldPod, field.NewPath("metadata", "annotations"))...)
	specPath := field.NewPath("spec")

	cErrs, stop := validateContainerUpdates(newPod.Spec.Containers, oldPod.Spec.Containers, specPath.Child("containers"))
	errs = append(errs, cErrs...)
	if stop {
		return errs
	}
	cErrs, stop = validateContainerUpdates(newPod.Spec.InitContainers, oldPod.Spec.InitContainers, specPath.Child("initContainers"))
	errs = append(errs, cErrs...)
	if stop {
		return errs
	}

	// activeDeadlineSeconds may be set from nil, or lowered.
	adsPath := specPath.Child("activeDeadlineSeconds")
	if n := newPod.Spec.ActiveDeadlineSeconds; n != nil {
		if *n < 0 || *n > math.MaxInt32 {
			return append(errs, field.Invalid(adsPath, *n, validation.InclusiveRangeError(0, math.MaxInt32)))
		}
		if o := oldPod.Spec.ActiveDeadlineSeconds; o != nil && *o < *n {
			return append(errs, field.Invalid(adsPath, *n, "must be less than or equal to previous value"))
		}
	} else if oldPod.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(adsPath, newPod.Spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	}

	errs = append(errs, validateOnlyAddedTolerations(newPod.Spec.Tolerations, oldPod.Spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateOnlyDeletedSchedulingGates(newPod.Spec.SchedulingGates, oldPod.Spec.SchedulingGates, specPath.Child("schedulingGates"))...)

	if apiequality.Semantic.DeepEqual(newPod.Spec, oldPod.Spec) {
		return errs
	}
	munged := newPod.Spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = oldPod.Spec.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = oldPod.Spec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = oldPod.Spec.ActiveDeadlineSeconds
	munged.SchedulingGates = oldPod.Spec.SchedulingGates
	munged.Tolerations = oldPod.Spec.Tolerations
	if o, n := oldPod.Spec.TerminationGracePeriodSeconds, munged.TerminationGracePeriodSeconds; o != nil && *o < 0 && n != nil && *n == 1 {
		munged.TerminationGracePeriodSeconds = o
	}
	if len(oldPod.Spec.SchedulingGates) > 0 && !apiequality.Semantic.DeepEqual(munged.NodeSelector, oldPod.Spec.NodeSelector) {
		errs = append(errs, validateNodeSelectorAdditions(munged.NodeSelector, oldPod.Spec.NodeSelector, specPath.Child("nodeSelector"))...)
		munged.NodeSelector = oldPod.Spec.NodeSelector
	}
	if !apiequality.Semantic.DeepEqual(*munged, oldPod.Spec) {
		msg := fmt.Sprintf("pod updates may not change fields other than %s\n%s",
			strings.Join(updatablePodSpecFields, ","), specDiff(&oldPod.Spec, munged))
		errs = append(errs, field.Forbidden(specPath, msg))
	}
	return errs
}

// validateContainerUpdates checks the container list of an update; stop is
// set when containers were added or removed, which makes further
// comparison meaningless.
func validateContainerUpdates(newC, oldC []corev1.Container, fldPath *field.Path) (field.ErrorList, bool) {
	if len(newC) != len(oldC) {
		return field.ErrorList{field.Forbidden(fldPath, "pod updates may not add or remove containers")}, true
	}
	var errs field.ErrorList
	for i, c := range newC {
		if c.Image == "" {
			errs = append(errs, field.Required(fldPath.Index(i).Child("image"), ""))
		}
		errs = append(errs, validateImageWhitespace(c.Image, fldPath.Index(i).Child("image"))...)
	}
	return errs, false
}

// validateOnlyAddedTolerations allows new tolerations and changes to the
// tolerationSeconds of existing ones.
func validateOnlyAddedTolerations(newT, oldT []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	for _, o := range oldT {
		found := false
		for _, n := range newT {
			cmp := o
			cmp.TolerationSeconds = n.TolerationSeconds
			if apiequality.Semantic.DeepEqual(cmp, n) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return validateTolerations(newT, fldPath)
}

func validateOnlyDeletedSchedulingGates(newG, oldG []corev1.PodSchedulingGate, fldPath *field.Path) field.ErrorList {
	old := map[string]bool{}
	for _, g := range oldG {
		old[g.Name] = true
	}
	var errs field.ErrorList
	for i, g := range newG {
		if !old[g.Name] {
			errs = append(errs, field.Forbidden(fldPath.Index(i).Child("name"), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}
	return errs
}

// validateNodeSelectorAdditions lets a gated pod only add node selector
// entries.
func validateNodeSelectorAdditions(newSel, oldSel map[string]string, fldPath *field.Path) field.ErrorList {
	for k, v := range oldSel {
		if nv, ok := newSel[k]; !ok || nv != v {
			return field.ErrorList{field.Invalid(fldPath, newSel, "only additions to spec.nodeSelector are allowed (no mutations or deletions)")}
		}
	}
	return nil
}

// ValidatePodStatusUpdate returns the problems of an update through the
// status subresource: status fields must be valid and the QoS class and
// node may not change.
func ValidatePodStatusUpdate(newPod, oldPod *corev1.Pod) field.ErrorList {
	metaPath := field.NewPath("metadata")
	errs := validatePodAnnotationUpdates(newPod, oldPod, metaPath.Child("annotations"))
	// Kubernetes reports condition problems under metadata; keep its paths.
	errs = append(errs, validatePodConditions(newPod.Status.Conditions, metaPath.Child("conditions"))...)
	statusPath := field.NewPath("status")
	if newPod.Spec.NodeName != oldPod.Spec.NodeName {
		errs = append(errs, field.Forbidden(statusPath.Child("nodeName"), "may not be changed directly"))
	}
	if n := newPod.Status.NominatedNodeName; n != oldPod.Status.NominatedNodeName && n != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(n, false) {
			errs = append(errs, field.Invalid(statusPath.Child("nominatedNodeName"), n, msg))
		}
	}
	errs = append(errs, apivalidation.ValidateImmutableField(newPod.Status.QOSClass, oldPod.Status.QOSClass, statusPath.Child("qosClass"))...)
	errs = append(errs, validateContainerStateTransition(newPod.Status.ContainerStatuses, oldPod.Status.ContainerStatuses, statusPath.Child("containerStatuses"), oldPod.Spec.RestartPolicy, nil)...)
	errs = append(errs, validateContainerStateTransition(newPod.Status.InitContainerStatuses, oldPod.Status.InitContainerStatuses, statusPath.Child("initContainerStatuses"), oldPod.Spec.RestartPolicy, oldPod.Spec.InitContainers)...)
	// The kubelet never restarts ephemeral containers.
	errs = append(errs, validateContainerStateTransition(newPod.Status.EphemeralContainerStatuses, oldPod.Status.EphemeralContainerStatuses, statusPath.Child("ephemeralContainerStatuses"), corev1.RestartPolicyNever, nil)...)
	errs = append(errs, validatePodIPs(newPod.Status.PodIPs, statusPath.Child("podIPs"))...)
	errs = append(errs, validateHostIPs(&newPod.Status, statusPath.Child("hostIPs"))...)
	return errs
}

func validatePodConditions(conds []corev1.PodCondition, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range conds {
		switch c.Type {
		case corev1.PodScheduled, corev1.PodReady, corev1.PodInitialized:
			continue
		}
		errs = append(errs, validateQualifiedName(string(c.Type), fldPath.Index(i).Child("Type"))...)
	}
	return errs
}

// validateContainerStateTransition forbids a terminated container from
// leaving the terminated state unless the restart policy (or, for init
// containers, being a sidecar) lets it restart.
func validateContainerStateTransition(newS, oldS []corev1.ContainerStatus, fldPath *field.Path, policy corev1.RestartPolicy, inits []corev1.Container) field.ErrorList {
	if policy == corev1.RestartPolicyAlways {
		return nil
	}
	var errs field.ErrorList
	for i, o := range oldS {
		if o.State.Terminated == nil {
			continue
		}
		if o.State.Terminated.ExitCode != 0 && policy == corev1.RestartPolicyOnFailure {
			continue
		}
		sidecar := false
		for j := range inits {
			if inits[j].Name == o.Name {
				sidecar = isRestartableInitContainer(&inits[j])
				break
			}
		}
		if sidecar {
			continue
		}
		for _, n := range newS {
			if n.Name == o.Name && n.State.Terminated == nil {
				errs = append(errs, field.Forbidden(fldPath.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
		}
	}
	return errs
}

// validatePodIPs requires valid IPs, at most one per family, no
// duplicates.
func validatePodIPs(ips []corev1.PodIP, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	strs := make([]string, 0, len(ips))
	for i, ip := range ips {
		errs = append(errs, validation.IsValidIP(fldPath.Index(i), ip.IP)...)
		strs = append(strs, ip.IP)
	}
	if len(ips) > 1 {
		if !isDualStack(strs) || len(ips) > 2 {
			errs = append(errs, field.Invalid(fldPath, ips, "may specify no more than one IP for each IP family"))
		}
		seen := map[string]bool{}
		for i, ip := range ips {
			if seen[ip.IP] {
				errs = append(errs, field.Duplicate(fldPath.Index(i), ip))
			}
			seen[ip.IP] = true
		}
	}
	return errs
}

func validateHostIPs(status *corev1.PodStatus, fldPath *field.Path) field.ErrorList {
	ips := status.HostIPs
	if len(ips) == 0 {
		return nil
	}
	var errs field.ErrorList
	if status.HostIP != ips[0].IP {
		errs = append(errs, field.Invalid(fldPath.Index(0).Child("ip"), ips[0].IP, "must be equal to `hostIP`"))
	}
	strs := make([]string, 0, len(ips))
	seen := map[string]bool{}
	for i, ip := range ips {
		errs = append(errs, validation.IsValidIP(fldPath.Index(i), ip.IP)...)
		if seen[ip.IP] {
			errs = append(errs, field.Duplicate(fldPath.Index(i), ip))
		}
		seen[ip.IP] = true
		strs = append(strs, ip.IP)
	}
	if len(ips) > 1 && (!isDualStack(strs) || len(ips) > 2) {
		errs = append(errs, field.Invalid(fldPath, ips, "may specify no more than one IP for each IP family"))
	}
	return errs
}

// isDualStack reports whether the addresses contain both an IPv4 and an
// IPv6 address.
func isDualStack(ips []string) bool {
	v4, v6 := false, false
	for _, ip := range ips {
		if strings.Contains(ip, ":") {
			v6 = true
		} else {
			v4 = true
		}
	}
	return v4 && v6
}

// ValidateBinding checks a pods/binding request: the target must be a
// named Node.
func ValidateBinding(b *corev1.Binding) field.ErrorList {
	var errs field.ErrorList
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(field.NewPath("target", "name"), ""))
	}
	return errs
}
