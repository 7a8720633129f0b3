package statefulset

import (
	"regexp"
	"strconv"
	"time"

	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// controllerKind is the kind stateful pods, claims and revisions reference.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// podKind is the kind claims reference when they follow their pod.
var podKind = corev1.SchemeGroupVersion.WithKind("Pod")

// podName matches "<set>-<ordinal>".
var podName = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// parseName splits a stateful pod's name into its set's name and ordinal;
// ok is false for other names.
func parseName(name string) (parent string, ordinal int, ok bool) {
	m := podName.FindStringSubmatch(name)
	if m == nil {
		return "", 0, false
	}
	ord, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], ord, true
}

// nameOf is the name of the pod with the given ordinal.
func nameOf(set *appsv1.StatefulSet, ordinal int) string {
	return set.Name + "-" + strconv.Itoa(ordinal)
}

// ordinalRange is the ordinals the set should have: [start, end).
func ordinalRange(set *appsv1.StatefulSet) (start, end int) {
	if set.Spec.Ordinals != nil {
		start = int(set.Spec.Ordinals.Start)
	}
	replicas := 1
	if set.Spec.Replicas != nil {
		replicas = int(*set.Spec.Replicas)
	}
	return start, start + replicas
}

// memberOrdinal reports whether pod is named as one of set's pods, and its
// ordinal.
func memberOrdinal(set *appsv1.StatefulSet, pod *corev1.Pod) (int, bool) {
	parent, ord, ok := parseName(pod.Name)
	return ord, ok && parent == set.Name
}

// claimName is the name of the claim made from template for ordinal.
func claimName(template *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, ordinal int) string {
	return template.Name + "-" + set.Name + "-" + strconv.Itoa(ordinal)
}

// newPod is the pod with the given ordinal made from template (the
// template of revision): stable name, hostname and subdomain (the
// governing service), the pod-name, pod-index and revision labels, a
// volume per claim template and a controller reference.
func newPod(set *appsv1.StatefulSet, template *corev1.PodTemplateSpec, ordinal int, revision string) *corev1.Pod {
	t := template.DeepCopy()
	name := nameOf(set, ordinal)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       set.Namespace,
			Labels:          map[string]string{},
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, controllerKind)},
		},
		Spec: t.Spec,
	}
	for k, v := range t.Labels {
		pod.Labels[k] = v
	}
	setIdentity(set, pod, ordinal)
	pod.Labels[history.HashLabel] = revision
	pod.Spec.Hostname = name
	pod.Spec.Subdomain = set.Spec.ServiceName
	var volumes []corev1.Volume
	claimed := map[string]bool{}
	for i := range set.Spec.VolumeClaimTemplates {
		ct := &set.Spec.VolumeClaimTemplates[i]
		claimed[ct.Name] = true
		volumes = append(volumes, corev1.Volume{Name: ct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(ct, set, ordinal)}}})
	}
	for _, v := range pod.Spec.Volumes {
		if !claimed[v.Name] {
			volumes = append(volumes, v)
		}
	}
	pod.Spec.Volumes = volumes
	return pod
}

// setIdentity writes the identity labels of the pod with ordinal.
func setIdentity(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) {
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = nameOf(set, ordinal)
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
}

// identityMatches reports whether pod carries its identity labels.
func identityMatches(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) bool {
	return pod.Namespace == set.Namespace &&
		pod.Labels[appsv1.StatefulSetPodNameLabel] == pod.Name &&
		pod.Labels[appsv1.PodIndexLabel] == strconv.Itoa(ordinal)
}

// revisionOf is the revision name a pod was made from.
func revisionOf(pod *corev1.Pod) string { return pod.Labels[history.HashLabel] }

// wantClaims are the claims of the pod with ordinal, one per claim
// template, labelled with the set's selector labels.
func wantClaims(set *appsv1.StatefulSet, ordinal int) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for i := range set.Spec.VolumeClaimTemplates {
		ct := &set.Spec.VolumeClaimTemplates[i]
		claim := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{
				Name:        claimName(ct, set, ordinal),
				Namespace:   set.Namespace,
				Labels:      map[string]string{},
				Annotations: ct.Annotations,
				Finalizers:  ct.Finalizers,
			},
			Spec: *ct.Spec.DeepCopy(),
		}
		for k, v := range ct.Labels {
			claim.Labels[k] = v
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				claim.Labels[k] = v
			}
		}
		out = append(out, claim)
	}
	return out
}

// retention returns the set's claim retention policy with Retain for
// unset fields.
func retention(set *appsv1.StatefulSet) (whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType) {
	whenDeleted, whenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		if p.WhenDeleted != "" {
			whenDeleted = p.WhenDeleted
		}
		if p.WhenScaled != "" {
			whenScaled = p.WhenScaled
		}
	}
	return whenDeleted, whenScaled
}

// setClaimRefs makes claim's owner references follow the retention policy
// for its pod (which has no UID while not yet created); inRange is whether
// the pod's ordinal is within the set's range. With whenDeleted=Delete a
// claim in range is owned by the set (the garbage collector deletes it
// with the set); with whenScaled=Delete a claim out of range is owned by
// its pod (deleted with the pod on scale-down); under Retain neither. A
// claim controlled by anything else is left alone. It reports whether
// claim changed.
func setClaimRefs(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod, inRange bool) bool {
	if ref := metav1.GetControllerOfNoCopy(claim); ref != nil && ref.UID != set.UID && (pod.UID == "" || ref.UID != pod.UID) {
		return false
	}
	whenDeleted, whenScaled := retention(set)
	const del = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	ownBySet := whenDeleted == del && (inRange || whenScaled != del)
	ownByPod := whenScaled == del && !inRange // never together with ownBySet
	changed := false
	if ownBySet {
		changed = history.SetControllerRef(claim, *metav1.NewControllerRef(set, controllerKind)) || changed
	} else {
		changed = history.RemoveOwnerRef(claim, set.UID) || changed
	}
	if pod.UID != "" {
		if ownByPod {
			changed = history.SetControllerRef(claim, *metav1.NewControllerRef(pod, podKind)) || changed
		} else {
			changed = history.RemoveOwnerRef(claim, pod.UID) || changed
		}
	}
	return changed
}

// claimStale reports whether an existing claim blocks creating its pod:
// it is being deleted, or (with whenScaled=Delete) it still follows an
// earlier pod of that name, which the garbage collector will delete.
func claimStale(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	if claim.DeletionTimestamp != nil {
		return true
	}
	if _, whenScaled := retention(set); whenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		return false
	}
	for _, ref := range claim.OwnerReferences {
		if ref.Kind == podKind.Kind && ref.Name == pod.Name && ref.UID != pod.UID {
			return true
		}
	}
	return false
}

// runningAndReady reports whether pod is Running with Ready=True.
func runningAndReady(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodRunning && readyCondition(pod) != nil
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// availableIn is how long until a running and ready pod has been ready for
// minReadySeconds: zero when it is available now, negative when it is not
// running and ready.
func availableIn(pod *corev1.Pod, minReadySeconds int32, now time.Time) time.Duration {
	if !runningAndReady(pod) {
		return -1
	}
	if minReadySeconds <= 0 {
		return 0
	}
	c := readyCondition(pod)
	if c.LastTransitionTime.IsZero() {
		return time.Duration(minReadySeconds) * time.Second
	}
	if d := c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second).Sub(now); d > 0 {
		return d
	}
	return 0
}

// terminating reports whether pod is being deleted.
func terminating(pod *corev1.Pod) bool { return pod.DeletionTimestamp != nil }

// healthy reports whether pod is available and not being deleted.
func healthy(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return pod != nil && !terminating(pod) && availableIn(pod, minReadySeconds, now) == 0
}

// finished reports whether pod's containers have all terminated for good.
func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}
