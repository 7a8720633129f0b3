package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

func dsWith(mutate func(*corev1.PodSpec)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-uid"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "agent:1"}}},
			},
		},
	}
	if mutate != nil {
		mutate(&ds.Spec.Template.Spec)
	}
	return ds
}

func required(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
}

func TestShouldRun(t *testing.T) {
	noSchedule := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	noExecute := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}
	tests := []struct {
		name      string
		spec      func(*corev1.PodSpec)
		node      *corev1.Node
		run, keep bool
	}{
		{"plain node", nil, node("n1", nil), true, true},
		{"nodeName other node", func(s *corev1.PodSpec) { s.NodeName = "n2" }, node("n1", nil), false, false},
		{"nodeName this node", func(s *corev1.PodSpec) { s.NodeName = "n1" }, node("n1", nil), true, true},
		{"nodeSelector matches", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} },
			node("n1", map[string]string{"disk": "ssd"}), true, true},
		{"nodeSelector mismatch", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} },
			node("n1", map[string]string{"disk": "hdd"}), false, false},
		{"NoSchedule taint untolerated", nil, node("n1", nil, noSchedule), false, true},
		{"NoExecute taint untolerated", nil, node("n1", nil, noExecute), false, false},
		{"PreferNoSchedule ignored", nil, node("n1", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}), true, true},
		{"taint tolerated by Equal", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db"}}
		}, node("n1", nil, noSchedule, noExecute), true, true},
		{"taint tolerated by empty-key Exists", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}, node("n1", nil, noExecute), true, true},
		{"toleration with other effect", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}, node("n1", nil, noExecute), false, false},
		{"automatic not-ready toleration", nil, node("n1", nil, corev1.Taint{Key: taintNotReady, Effect: corev1.TaintEffectNoExecute}), true, true},
		{"automatic unschedulable toleration", nil, node("n1", nil, corev1.Taint{Key: taintUnschedulable, Effect: corev1.TaintEffectNoSchedule}), true, true},
		{"automatic memory-pressure toleration", nil, node("n1", nil, corev1.Taint{Key: taintMemoryPressure, Effect: corev1.TaintEffectNoSchedule}), true, true},
		{"network-unavailable needs hostNetwork", nil,
			node("n1", nil, corev1.Taint{Key: taintNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}), false, true},
		{"network-unavailable with hostNetwork", func(s *corev1.PodSpec) { s.HostNetwork = true },
			node("n1", nil, corev1.Taint{Key: taintNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}), true, true},
		{"required affinity In", func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}}})
		}, node("n1", map[string]string{"zone": "b"}), true, true},
		{"required affinity NotIn", func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"a"}}}})
		}, node("n1", map[string]string{"zone": "a"}), false, false},
		{"required affinity terms ORed", func(s *corev1.PodSpec) {
			s.Affinity = required(
				corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "gpu", Operator: corev1.NodeSelectorOpExists}}},
				corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}})
		}, node("n1", nil), true, true},
		{"required affinity Gt", func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "cores", Operator: corev1.NodeSelectorOpGt, Values: []string{"4"}}}})
		}, node("n1", map[string]string{"cores": "8"}), true, true},
		{"required affinity DoesNotExist", func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "edge", Operator: corev1.NodeSelectorOpDoesNotExist}}})
		}, node("n1", map[string]string{"edge": ""}), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, keep := shouldRun(tt.node, dsWith(tt.spec))
			if run != tt.run || keep != tt.keep {
				t.Errorf("shouldRun = (%v, %v), want (%v, %v)", run, keep, tt.run, tt.keep)
			}
		})
	}
}

func TestNewPodPinsNodeAndTolerates(t *testing.T) {
	ds := dsWith(func(s *corev1.PodSpec) {
		s.Affinity = required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}})
		s.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.PreferredSchedulingTerm{{Weight: 1}}
	})
	ds.Annotations = map[string]string{templateGenerationAnnotation: "3"}
	pod := newPod(ds, "n7", "abc")
	if got, ok := TargetNode(pod); !ok || got != "n7" {
		t.Errorf("targetNode = %q, %v; want n7", got, ok)
	}
	terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || len(terms[0].MatchFields) != 1 {
		t.Errorf("required terms = %+v, want only the metadata.name field", terms)
	}
	if len(pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("preferred terms were dropped")
	}
	if pod.Labels["controller-revision-hash"] != "abc" || pod.Labels["pod-template-generation"] != "3" || pod.Labels["app"] != "agent" {
		t.Errorf("labels = %v", pod.Labels)
	}
	if pod.GenerateName != "agent-" || len(pod.OwnerReferences) != 1 || pod.OwnerReferences[0].Kind != "DaemonSet" {
		t.Errorf("generateName %q, owners %+v", pod.GenerateName, pod.OwnerReferences)
	}
	if len(pod.Spec.Tolerations) != 6 {
		t.Errorf("tolerations = %+v, want the 6 automatic ones", pod.Spec.Tolerations)
	}
	withDaemonTolerations(&pod.Spec)
	if len(pod.Spec.Tolerations) != 6 {
		t.Errorf("adding the tolerations twice duplicated them")
	}
	if ds.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions == nil {
		t.Errorf("newPod changed the daemon set's template")
	}
}
