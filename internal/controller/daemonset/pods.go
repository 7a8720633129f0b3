package daemonset

import (
	"sort"
	"strconv"
	"time"

	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kubernetes' labels and annotations for daemon pods.
const (
	// templateGenerationLabel carries the daemon set's template generation
	// on its pods (deprecated in Kubernetes, still set and honoured).
	templateGenerationLabel = "pod-template-generation"
	// templateGenerationAnnotation is where the API server keeps a daemon
	// set's template generation.
	templateGenerationAnnotation = "deprecated.daemonset.template.generation"
)

// controllerKind is the kind daemon pods and revisions reference.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// newPod is the daemon pod of ds for node: the template with the
// revision hash (and template generation) labels, the automatic daemon
// tolerations, a controller reference and node affinity pinning it to
// node. Its name is generated.
func newPod(ds *appsv1.DaemonSet, node, hash string) *corev1.Pod {
	t := ds.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    ds.Name + "-",
			Namespace:       ds.Namespace,
			Labels:          map[string]string{},
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)},
		},
		Spec: t.Spec,
	}
	for k, v := range t.Labels {
		pod.Labels[k] = v
	}
	if gen, ok := templateGeneration(ds); ok {
		pod.Labels[templateGenerationLabel] = strconv.FormatInt(gen, 10)
	}
	pod.Labels[history.HashLabel] = hash
	withDaemonTolerations(&pod.Spec)
	pod.Spec.Affinity = pinnedAffinity(pod.Spec.Affinity, node)
	return pod
}

// templateGeneration reads the template generation the API server records
// on a daemon set.
func templateGeneration(ds *appsv1.DaemonSet) (int64, bool) {
	s, ok := ds.Annotations[templateGenerationAnnotation]
	if !ok {
		return 0, false
	}
	gen, err := strconv.ParseInt(s, 10, 64)
	return gen, err == nil
}

// podUpdated reports whether pod runs ds's current template: its hash
// label is the current revision's, or its template generation label is
// the daemon set's.
func podUpdated(pod *corev1.Pod, ds *appsv1.DaemonSet, hash string) bool {
	if hash != "" && pod.Labels[history.HashLabel] == hash {
		return true
	}
	gen, ok := templateGeneration(ds)
	return ok && pod.Labels[templateGenerationLabel] == strconv.FormatInt(gen, 10)
}

// podReady reports whether pod has condition Ready=True.
func podReady(pod *corev1.Pod) bool {
	return readyCondition(pod) != nil
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

// podAvailable reports whether pod has been ready for at least
// minReadySeconds at now.
func podAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(pod)
	if c == nil {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	d := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(d).After(now)
}

// sortPods orders daemon pods as Kubernetes does when it picks one per
// node: bound pods first, then oldest first, then by name.
func sortPods(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}
