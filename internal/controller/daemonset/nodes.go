package daemonset

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// nodeNameField is the only field node selector matchFields may name.
const nodeNameField = "metadata.name"

// Taint keys daemon pods tolerate automatically.
const (
	taintNotReady           = "node.kubernetes.io/not-ready"
	taintUnreachable        = "node.kubernetes.io/unreachable"
	taintDiskPressure       = "node.kubernetes.io/disk-pressure"
	taintMemoryPressure     = "node.kubernetes.io/memory-pressure"
	taintPIDPressure        = "node.kubernetes.io/pid-pressure"
	taintUnschedulable      = "node.kubernetes.io/unschedulable"
	taintNetworkUnavailable = "node.kubernetes.io/network-unavailable"
)

// withDaemonTolerations adds to spec the tolerations Kubernetes gives
// every daemon pod, so that node conditions do not evict or keep out
// node-level agents: not-ready and unreachable (NoExecute), the pressure
// conditions and unschedulable (NoSchedule), and network-unavailable for
// host-network pods. A toleration already present is left alone.
func withDaemonTolerations(spec *corev1.PodSpec) {
	add := func(key string, effect corev1.TaintEffect) {
		t := corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
		for _, have := range spec.Tolerations {
			if have.Key == t.Key && have.Operator == t.Operator && have.Effect == t.Effect && have.Value == t.Value {
				return
			}
		}
		spec.Tolerations = append(spec.Tolerations, t)
	}
	add(taintNotReady, corev1.TaintEffectNoExecute)
	add(taintUnreachable, corev1.TaintEffectNoExecute)
	add(taintDiskPressure, corev1.TaintEffectNoSchedule)
	add(taintMemoryPressure, corev1.TaintEffectNoSchedule)
	add(taintPIDPressure, corev1.TaintEffectNoSchedule)
	add(taintUnschedulable, corev1.TaintEffectNoSchedule)
	if spec.HostNetwork {
		add(taintNetworkUnavailable, corev1.TaintEffectNoSchedule)
	}
}

// shouldRun decides a node's eligibility for ds: run is whether a daemon
// pod should be placed there; keep is whether one already there may stay.
// A pod is placed on a node when the template's nodeName (if any),
// nodeSelector and required node affinity match it and every NoSchedule
// and NoExecute taint is tolerated (with the automatic daemon
// tolerations); a pod already there stays while only NoSchedule taints are
// untolerated.
func shouldRun(node *corev1.Node, ds *appsv1.DaemonSet) (run, keep bool) {
	spec := ds.Spec.Template.Spec.DeepCopy()
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return false, false
	}
	if !nodeMatches(spec, node) {
		return false, false
	}
	withDaemonTolerations(spec)
	if !hasUntolerated(node.Spec.Taints, spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}) {
		return true, true
	}
	return false, !hasUntolerated(node.Spec.Taints, spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute
	})
}

// nodeMatches reports whether node satisfies spec's nodeSelector and
// required node affinity.
func nodeMatches(spec *corev1.PodSpec, node *corev1.Node) bool {
	if len(spec.NodeSelector) > 0 && !labels.SelectorFromSet(spec.NodeSelector).Matches(labels.Set(node.Labels)) {
		return false
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		return termsMatch(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, node)
	}
	return true
}

// termsMatch reports whether any term matches node (terms are ORed; a
// term's requirements are ANDed; an empty term matches nothing).
func termsMatch(terms []corev1.NodeSelectorTerm, node *corev1.Node) bool {
	for _, term := range terms {
		if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
			continue
		}
		ok := true
		for _, req := range term.MatchExpressions {
			v, has := node.Labels[req.Key]
			if !requirementMatches(req, v, has) {
				ok = false
				break
			}
		}
		for _, req := range term.MatchFields {
			if !ok {
				break
			}
			ok = req.Key == nodeNameField && requirementMatches(req, node.Name, true)
		}
		if ok {
			return true
		}
	}
	return false
}

// requirementMatches applies one node selector requirement to a value
// (has is false when the label is absent).
func requirementMatches(req corev1.NodeSelectorRequirement, v string, has bool) bool {
	in := func() bool {
		for _, want := range req.Values {
			if want == v {
				return true
			}
		}
		return false
	}
	switch req.Operator {
	case corev1.NodeSelectorOpIn:
		return has && in()
	case corev1.NodeSelectorOpNotIn:
		return !has || !in()
	case corev1.NodeSelectorOpExists:
		return has
	case corev1.NodeSelectorOpDoesNotExist:
		return !has
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !has || len(req.Values) != 1 {
			return false
		}
		got, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(req.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if req.Operator == corev1.NodeSelectorOpGt {
			return got > want
		}
		return got < want
	}
	return false
}

// tolerates reports whether toleration t tolerates taint.
func tolerates(t corev1.Toleration, taint *corev1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return t.Value == taint.Value
	}
	return false
}

// hasUntolerated reports whether some taint selected by filter is not
// tolerated.
func hasUntolerated(taints []corev1.Taint, tolerations []corev1.Toleration, filter func(*corev1.Taint) bool) bool {
	for i := range taints {
		taint := &taints[i]
		if !filter(taint) {
			continue
		}
		ok := false
		for _, t := range tolerations {
			if tolerates(t, taint) {
				ok = true
				break
			}
		}
		if !ok {
			return true
		}
	}
	return false
}

// pinnedAffinity returns affinity with its required node affinity replaced
// by the single term "metadata.name In [node]", which pins a daemon pod to
// its node while leaving the binding to the scheduler. The template's own
// required terms were already checked against the node by shouldRun.
func pinnedAffinity(affinity *corev1.Affinity, node string) *corev1.Affinity {
	out := affinity.DeepCopy()
	if out == nil {
		out = &corev1.Affinity{}
	}
	if out.NodeAffinity == nil {
		out.NodeAffinity = &corev1.NodeAffinity{}
	}
	out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{
				Key: nodeNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
			}},
		}},
	}
	return out
}

// TargetNode is the node a daemon pod is for: its nodeName once bound,
// else the node its pinned affinity names.
func TargetNode(pod *corev1.Pod) (string, bool) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, true
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", false
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == nodeNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0], true
			}
		}
	}
	return "", false
}
