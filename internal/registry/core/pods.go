package core

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// Pods returns the core/v1 pods resource. Besides status it advertises the
// subresources the API server's special handlers serve (binding, eviction,
// log, exec, attach, portforward, proxy, ephemeralcontainers, resize); the
// behaviour of the last two is available as PodEphemeralContainersStrategy
// and PodResizeStrategy.
func Pods() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "pods",
		Kind:       "Pod",
		Singular:   "pod",
		ShortNames: []string{"po"},
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.Pod{} },
		NewList:    func() runtime.Object { return &corev1.PodList{} },
		Strategy:   podStrategy{},
		Subresources: []registry.Subresource{
			{Name: "attach", Kind: "PodAttachOptions", Verbs: []string{"create", "get"}},
			{Name: "binding", Kind: "Binding", Verbs: []string{"create"}},
			{Name: "ephemeralcontainers", Verbs: []string{"get", "patch", "update"}},
			{Name: "eviction", Kind: "Eviction", Group: "policy", Version: "v1", Verbs: []string{"create"}},
			{Name: "exec", Kind: "PodExecOptions", Verbs: []string{"create", "get"}},
			{Name: "log", Verbs: []string{"get"}},
			{Name: "portforward", Kind: "PodPortForwardOptions", Verbs: []string{"create", "get"}},
			{Name: "proxy", Kind: "PodProxyOptions", Verbs: []string{"create", "delete", "get", "patch", "update"}},
			{Name: "resize", Verbs: []string{"get", "patch", "update"}},
			registry.StatusSubresource,
		},
		SubresourceStrategies: map[string]registry.Strategy{
			"ephemeralcontainers": PodEphemeralContainersStrategy(),
			"resize":              PodResizeStrategy(),
		},
	}
}

// DeletionGracePeriod makes pod deletion graceful (registry.GracefulDeleter).
func (podStrategy) DeletionGracePeriod(obj runtime.Object, requested *int64) int64 {
	return PodDeletionGracePeriod(obj.(*corev1.Pod), requested)
}

// podSchedulingGatedMessage is the message of the PodScheduled condition
// a pod created with scheduling gates starts with.
const podSchedulingGatedMessage = "Scheduling is blocked due to non-empty scheduling gates"

// podStrategy implements pods' behaviour.
type podStrategy struct {
	registry.DefaultStrategy
}

// Default applies Kubernetes' pod defaults (spec, containers, volumes and
// the pod-only ones such as requests copied from limits).
func (podStrategy) Default(obj runtime.Object) {
	podspec.DefaultPod(obj.(*corev1.Pod))
}

// PrepareForCreate replaces the status with a Pending one carrying the
// pod's QoS class; a pod with scheduling gates also gets a
// PodScheduled=False (SchedulingGated) condition.
func (podStrategy) PrepareForCreate(obj runtime.Object) {
	pod := obj.(*corev1.Pod)
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: PodQOSClass(pod)}
	if len(pod.Spec.SchedulingGates) > 0 {
		pod.Status.Conditions = []corev1.PodCondition{{
			Type:               corev1.PodScheduled,
			Status:             corev1.ConditionFalse,
			Reason:             corev1.PodReasonSchedulingGated,
			Message:            podSchedulingGatedMessage,
			ObservedGeneration: 1,
		}}
	}
	podApplyAffinityLabelKeys(pod)
}

// PrepareForUpdate keeps the stored status: it changes only through
// pods/status.
func (podStrategy) PrepareForUpdate(obj, old runtime.Object) {
	obj.(*corev1.Pod).Status = *old.(*corev1.Pod).Status.DeepCopy()
}

// Validate checks a new pod.
func (podStrategy) Validate(obj runtime.Object) field.ErrorList {
	return podspec.ValidatePod(obj.(*corev1.Pod))
}

// ValidateUpdate checks a pod update, including the immutability of
// almost all of the spec.
func (podStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	return podspec.ValidatePodUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
}

// PrepareForStatusUpdate keeps everything but status from old, backfills a
// cleared QoS class and keeps observedGeneration values a client cleared.
func (podStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	pod.Spec = *oldPod.Spec.DeepCopy()
	pod.DeletionTimestamp = oldPod.DeletionTimestamp
	// Old kubelets corrupt owner references; never take them from status.
	pod.OwnerReferences = oldPod.OwnerReferences
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = oldPod.Status.QOSClass
	}
	podPreserveObservedGeneration(pod, oldPod)
}

// ValidateStatusUpdate checks an update through pods/status.
func (podStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	return podspec.ValidatePodStatusUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
}

// podPreserveObservedGeneration keeps the old observedGeneration of the
// status and of each condition (matched by type, in order) where the new
// status leaves it unset.
func podPreserveObservedGeneration(pod, old *corev1.Pod) {
	if pod.Status.ObservedGeneration == 0 {
		pod.Status.ObservedGeneration = old.Status.ObservedGeneration
	}
	oldGens := map[corev1.PodConditionType][]int64{}
	for _, c := range old.Status.Conditions {
		oldGens[c.Type] = append(oldGens[c.Type], c.ObservedGeneration)
	}
	for i, c := range pod.Status.Conditions {
		var gen int64
		if gens := oldGens[c.Type]; len(gens) > 0 {
			gen, oldGens[c.Type] = gens[0], gens[1:]
		}
		if c.ObservedGeneration == 0 {
			pod.Status.Conditions[i].ObservedGeneration = gen
		}
	}
}

// podApplyAffinityLabelKeys turns the matchLabelKeys / mismatchLabelKeys
// of pod (anti-)affinity terms into selector requirements on the pod's own
// label values, as Kubernetes does when a pod is created.
func podApplyAffinityLabelKeys(pod *corev1.Pod) {
	a := pod.Spec.Affinity
	if a == nil {
		return
	}
	apply := func(t *corev1.PodAffinityTerm) {
		if t.LabelSelector == nil {
			return
		}
		for _, k := range t.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				t.LabelSelector.MatchExpressions = append(t.LabelSelector.MatchExpressions,
					metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpIn, Values: []string{v}})
			}
		}
		for _, k := range t.MismatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				t.LabelSelector.MatchExpressions = append(t.LabelSelector.MatchExpressions,
					metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpNotIn, Values: []string{v}})
			}
		}
	}
	for _, terms := range []struct {
		required  []corev1.PodAffinityTerm
		preferred []corev1.WeightedPodAffinityTerm
	}{
		{podAffinityRequired(a.PodAffinity), podAffinityPreferred(a.PodAffinity)},
		{podAntiAffinityRequired(a.PodAntiAffinity), podAntiAffinityPreferred(a.PodAntiAffinity)},
	} {
		for i := range terms.required {
			apply(&terms.required[i])
		}
		for i := range terms.preferred {
			apply(&terms.preferred[i].PodAffinityTerm)
		}
	}
}

func podAffinityRequired(a *corev1.PodAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAffinityPreferred(a *corev1.PodAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func podAntiAffinityRequired(a *corev1.PodAntiAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAntiAffinityPreferred(a *corev1.PodAntiAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

// SelectableFields returns the pod fields `kubectl get pods
// --field-selector` can filter on.
func (podStrategy) SelectableFields(obj runtime.Object) fields.Set {
	pod := obj.(*corev1.Pod)
	podIP := ""
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	return fields.Set{
		"spec.nodeName":            pod.Spec.NodeName,
		"spec.restartPolicy":       string(pod.Spec.RestartPolicy),
		"spec.schedulerName":       pod.Spec.SchedulerName,
		"spec.serviceAccountName":  pod.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(pod.Spec.HostNetwork),
		"status.phase":             string(pod.Status.Phase),
		"status.podIP":             podIP,
		"status.nominatedNodeName": pod.Status.NominatedNodeName,
	}
}

// TableColumns returns the columns of `kubectl get pods`.
func (podStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		podNameColumn(),
		{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
		{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
		{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
		podAgeColumn(),
		{Name: "IP", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["podIP"]},
		{Name: "Node", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["nodeName"]},
		{Name: "Nominated Node", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]},
		{Name: "Readiness Gates", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["readinessGates"]},
	}
}

// TableRow returns a pod's cells: NAME, READY, STATUS, RESTARTS, AGE and
// the wide IP, NODE, NOMINATED NODE, READINESS GATES.
func (podStrategy) TableRow(obj runtime.Object) []interface{} {
	pod := obj.(*corev1.Pod)
	s := podPrintStatus(pod)
	return []interface{}{
		pod.Name, s.ready, s.reason, s.restarts, podHumanAge(pod.CreationTimestamp),
		podNoneIfEmpty(s.podIP), podNoneIfEmpty(pod.Spec.NodeName),
		podNoneIfEmpty(pod.Status.NominatedNodeName), podReadinessGates(pod),
	}
}

// PodEphemeralContainersStrategy returns the behaviour of updates through
// pods/ephemeralcontainers: only spec.ephemeralContainers is taken from
// the request, and existing ephemeral containers may not change.
func PodEphemeralContainersStrategy() registry.Strategy {
	return podEphemeralContainersStrategy{}
}

type podEphemeralContainersStrategy struct {
	podStrategy
}

func (podEphemeralContainersStrategy) PrepareForUpdate(obj, old runtime.Object) {
	podspec.DropNonEphemeralContainerUpdates(obj.(*corev1.Pod), old.(*corev1.Pod))
}

func (podEphemeralContainersStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	return podspec.ValidatePodEphemeralContainersUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
}

// PodResizeStrategy returns the behaviour of updates through pods/resize:
// only container resources and resize policies are taken from the
// request, within the limits of an in-place resize.
func PodResizeStrategy() registry.Strategy {
	return podResizeStrategy{}
}

type podResizeStrategy struct {
	podStrategy
}

func (podResizeStrategy) PrepareForUpdate(obj, old runtime.Object) {
	podspec.DropNonResizeUpdates(obj.(*corev1.Pod), old.(*corev1.Pod))
}

func (podResizeStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	return podspec.ValidatePodResize(obj.(*corev1.Pod), old.(*corev1.Pod))
}
