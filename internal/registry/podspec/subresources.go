package podspec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DropNonEphemeralContainerUpdates prepares an update through
// pods/ephemeralcontainers: everything but spec.ephemeralContainers is
// reset to oldPod's value, including status and the metadata a status
// update may not change.
func DropNonEphemeralContainerUpdates(newPod, oldPod *corev1.Pod) {
	ecs := newPod.Spec.EphemeralContainers
	newPod.Spec = *oldPod.Spec.DeepCopy()
	newPod.Spec.EphemeralContainers = ecs
	newPod.Status = *oldPod.Status.DeepCopy()
	metav1.ResetObjectMetaForStatus(&newPod.ObjectMeta, &oldPod.ObjectMeta)
}

// ValidatePodEphemeralContainersUpdate validates an update through
// pods/ephemeralcontainers: ephemeral containers may only be added, never
// changed or removed, and static (mirror) pods take none.
func ValidatePodEphemeralContainersUpdate(newPod, oldPod *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(newPod)
	errs = append(errs, validatePodAnnotationUpdates(newPod, oldPod, field.NewPath("metadata", "annotations"))...)
	if _, ok := oldPod.Annotations[mirrorPodAnnotation]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}
	byName := map[string]*corev1.EphemeralContainer{}
	for i := range newPod.Spec.EphemeralContainers {
		byName[newPod.Spec.EphemeralContainers[i].Name] = &newPod.Spec.EphemeralContainers[i]
	}
	path := field.NewPath("spec", "ephemeralContainers")
	for _, o := range oldPod.Spec.EphemeralContainers {
		n, ok := byName[o.Name]
		switch {
		case !ok:
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", o.Name)))
		case !apiequality.Semantic.DeepEqual(o, *n):
			var lines []string
			diffJSON("ephemeralContainer", toJSONValue(o), toJSONValue(*n), &lines)
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%s", o.Name, strings.Join(lines, "\n"))))
		}
	}
	return errs
}

// DropNonResizeUpdates prepares an update through pods/resize: only the
// resources and resize policies of containers and init containers are
// taken from newPod. When containers were added, removed, renamed or
// reordered newPod is left alone so validation reports it.
func DropNonResizeUpdates(newPod, oldPod *corev1.Pod) {
	if len(newPod.Spec.Containers) != len(oldPod.Spec.Containers) ||
		len(newPod.Spec.InitContainers) != len(oldPod.Spec.InitContainers) {
		return
	}
	containers, ok1 := mergeResizeFields(newPod.Spec.Containers, oldPod.Spec.Containers)
	inits, ok2 := mergeResizeFields(newPod.Spec.InitContainers, oldPod.Spec.InitContainers)
	if !ok1 || !ok2 {
		return
	}
	newPod.Spec = *oldPod.Spec.DeepCopy()
	newPod.Spec.Containers = containers
	newPod.Spec.InitContainers = inits
	newPod.Status = *oldPod.Status.DeepCopy()
	metav1.ResetObjectMetaForStatus(&newPod.ObjectMeta, &oldPod.ObjectMeta)
}

func mergeResizeFields(newC, oldC []corev1.Container) ([]corev1.Container, bool) {
	if len(newC) == 0 {
		return newC, true
	}
	out := make([]corev1.Container, len(oldC))
	for i := range oldC {
		if oldC[i].Name != newC[i].Name {
			return nil, false
		}
		out[i] = *oldC[i].DeepCopy()
		out[i].Resources = *newC[i].Resources.DeepCopy()
		out[i].ResizePolicy = newC[i].ResizePolicy
	}
	return out, true
}

// ValidatePodResize validates an in-place resize through pods/resize: only
// cpu and memory of app and sidecar containers may change, requests and
// limits may not be removed, and the QoS class must stay the same.
func ValidatePodResize(newPod, oldPod *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(newPod)
	root := field.NewPath("")
	if hasPodLevelResources(oldPod) || hasPodLevelResources(newPod) {
		return field.ErrorList{field.Forbidden(root, "pods with pod-level resources cannot be resized")}
	}
	if _, ok := oldPod.Annotations[mirrorPodAnnotation]; ok {
		return field.ErrorList{field.Forbidden(root, "static pods cannot be resized")}
	}
	if oldPod.Spec.OS != nil && oldPod.Spec.OS.Name == corev1.Windows {
		return field.ErrorList{field.Forbidden(root, "windows pods cannot be resized")}
	}
	specPath := field.NewPath("spec")
	oldQOS := oldPod.Status.QOSClass
	if oldQOS == "" {
		oldQOS = QOSClass(oldPod)
	}
	if oldQOS != QOSClass(newPod) {
		errs = append(errs, field.Invalid(specPath, newPod.Status.QOSClass, "Pod QOS Class may not change as a result of resizing"))
	}
	if len(newPod.Spec.Containers) != len(oldPod.Spec.Containers) || len(newPod.Spec.InitContainers) != len(oldPod.Spec.InitContainers) {
		return append(errs, field.Forbidden(specPath, "only cpu and memory resources are mutable"))
	}
	for i := range oldPod.Spec.InitContainers {
		if isRestartableInitContainer(&oldPod.Spec.InitContainers[i]) {
			errs = append(errs, validateContainerResize(&newPod.Spec.InitContainers[i], &oldPod.Spec.InitContainers[i],
				specPath.Child("initContainers").Index(i).Child("resources"))...)
		}
	}
	for i := range oldPod.Spec.Containers {
		errs = append(errs, validateContainerResize(&newPod.Spec.Containers[i], &oldPod.Spec.Containers[i],
			specPath.Child("containers").Index(i).Child("resources"))...)
	}
	for i := range newPod.Spec.Containers {
		if !onlyCPUMemoryChanged(&newPod.Spec.Containers[i], &oldPod.Spec.Containers[i]) {
			errs = append(errs, field.Forbidden(specPath, "only cpu and memory resources are mutable"))
		}
	}
	for i := range newPod.Spec.InitContainers {
		n, o := &newPod.Spec.InitContainers[i], &oldPod.Spec.InitContainers[i]
		switch {
		case isRestartableInitContainer(o) && !onlyCPUMemoryChanged(n, o):
			errs = append(errs, field.Forbidden(specPath, "only cpu and memory resources for sidecar containers are mutable"))
		case !isRestartableInitContainer(o) && !apiequality.Semantic.DeepEqual(*n, *o):
			errs = append(errs, field.Forbidden(specPath, "resources for non-sidecar init containers are immutable"))
		}
	}
	return errs
}

func hasPodLevelResources(pod *corev1.Pod) bool {
	r := pod.Spec.Resources
	return r != nil && len(r.Requests)+len(r.Limits) > 0
}

// validateContainerResize forbids removing requests or limits and, unless
// the container restarts on memory resize, lowering or adding a memory
// limit.
func validateContainerResize(n, o *corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if resourcesRemoved(n.Resources.Requests, o.Resources.Requests) {
		errs = append(errs, field.Forbidden(fldPath.Child("requests"), "resource requests cannot be removed"))
	}
	if resourcesRemoved(n.Resources.Limits, o.Resources.Limits) {
		errs = append(errs, field.Forbidden(fldPath.Child("limits"), "resource limits cannot be removed"))
	}
	var memPolicy corev1.ResourceResizeRestartPolicy
	for _, p := range n.ResizePolicy {
		if p.ResourceName == corev1.ResourceMemory {
			memPolicy = p.RestartPolicy
			break
		}
	}
	if memPolicy == corev1.NotRequired || memPolicy == "" {
		newLim, hasNew := n.Resources.Limits[corev1.ResourceMemory]
		oldLim, hasOld := o.Resources.Limits[corev1.ResourceMemory]
		memPath := fldPath.Child("limits").Key(string(corev1.ResourceMemory))
		switch {
		case hasNew && hasOld && newLim.Cmp(oldLim) < 0:
			errs = append(errs, field.Forbidden(memPath, fmt.Sprintf("memory limits cannot be decreased unless resizePolicy is %s", corev1.RestartContainer)))
		case hasNew && !hasOld:
			errs = append(errs, field.Forbidden(memPath, fmt.Sprintf("memory limits cannot be added unless resizePolicy is %s", corev1.RestartContainer)))
		}
	}
	return errs
}

func resourcesRemoved(newList, oldList corev1.ResourceList) bool {
	for name := range oldList {
		if _, ok := newList[name]; !ok {
			return true
		}
	}
	return false
}

// onlyCPUMemoryChanged reports whether n differs from o at most in the cpu
// and memory quantities and the resize policy.
func onlyCPUMemoryChanged(n, o *corev1.Container) bool {
	c := n.DeepCopy()
	c.ResizePolicy = o.ResizePolicy
	c.Resources.Requests = withOldCPUMemory(c.Resources.Requests, o.Resources.Requests)
	c.Resources.Limits = withOldCPUMemory(c.Resources.Limits, o.Resources.Limits)
	return apiequality.Semantic.DeepEqual(*c, *o)
}

func withOldCPUMemory(list, old corev1.ResourceList) corev1.ResourceList {
	if old == nil {
		if len(list) == 0 {
			return nil
		}
		out := list.DeepCopy()
		delete(out, corev1.ResourceCPU)
		delete(out, corev1.ResourceMemory)
		if len(out) == 0 {
			return nil
		}
		return out
	}
	out := corev1.ResourceList{}
	for k, v := range list {
		if k != corev1.ResourceCPU && k != corev1.ResourceMemory {
			out[k] = v
		}
	}
	for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if v, ok := old[k]; ok {
			out[k] = v
		}
	}
	return out
}
