package nodelifecycle

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// tolerates reports whether toleration t matches taint: same effect (or
// any), same key (or any, with Exists), and a value matched by the
// operator (Equal by default; Exists; Lt and Gt compare integers).
func tolerates(t corev1.Toleration, taint corev1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "", corev1.TolerationOpEqual:
		return t.Value == taint.Value
	case corev1.TolerationOpExists:
		return true
	case corev1.TolerationOpLt, corev1.TolerationOpGt:
		tv, err1 := strconv.ParseInt(t.Value, 10, 64)
		v, err2 := strconv.ParseInt(taint.Value, 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if t.Operator == corev1.TolerationOpLt {
			return v < tv
		}
		return v > tv
	}
	return false
}

// eviction is what to do with a pod on a node with NoExecute taints.
type eviction struct {
	evict bool          // delete the pod now
	after time.Duration // > 0: evict after this long unless things change
}

// evictionDecision applies NoExecute taints to a pod: a taint it does not
// tolerate evicts it at once; a tolerated taint evicts it tolerationSeconds
// (of the first matching toleration) after the taint was added (start
// gives that time); tolerations without seconds tolerate for ever.
func evictionDecision(tolerations []corev1.Toleration, taints []corev1.Taint, start func(corev1.Taint) time.Time, now time.Time) eviction {
	var deadline time.Time
	for _, taint := range taints {
		if taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		var match *corev1.Toleration
		for i := range tolerations {
			if tolerates(tolerations[i], taint) {
				match = &tolerations[i]
				break
			}
		}
		if match == nil {
			return eviction{evict: true}
		}
		if match.TolerationSeconds == nil {
			continue
		}
		d := start(taint).Add(time.Duration(*match.TolerationSeconds) * time.Second)
		if *match.TolerationSeconds <= 0 {
			d = now
		}
		if deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	switch {
	case deadline.IsZero():
		return eviction{}
	case !deadline.After(now):
		return eviction{evict: true}
	}
	return eviction{after: deadline.Sub(now)}
}
