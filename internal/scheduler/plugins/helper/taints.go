// Package helper holds matching rules several plugins share: tolerations
// against taints, node selectors and node affinity, and the selector of a
// pod's workload used for default spreading.
package helper

import (
	"strconv"

	v1 "k8s.io/api/core/v1"
)

// Tolerates reports whether toleration t tolerates taint: same effect (or
// any, if t's is empty), same key (or any key with operator Exists and no
// key), and a matching value (Equal) or any value (Exists). Gt/Lt compare
// integers.
func Tolerates(t *v1.Toleration, taint *v1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "", v1.TolerationOpEqual:
		return t.Value == taint.Value
	case v1.TolerationOpExists:
		return true
	case v1.TolerationOpLt, v1.TolerationOpGt:
		tv, err1 := strconv.ParseInt(t.Value, 10, 64)
		nv, err2 := strconv.ParseInt(taint.Value, 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if t.Operator == v1.TolerationOpLt {
			return nv < tv
		}
		return nv > tv
	}
	return false
}

// Tolerated reports whether any of tolerations tolerates taint.
func Tolerated(tolerations []v1.Toleration, taint *v1.Taint) bool {
	for i := range tolerations {
		if Tolerates(&tolerations[i], taint) {
			return true
		}
	}
	return false
}

// FindUntoleratedTaint returns the first taint with an effect accepted by
// effects that no toleration tolerates.
func FindUntoleratedTaint(taints []v1.Taint, tolerations []v1.Toleration, effects ...v1.TaintEffect) (*v1.Taint, bool) {
	for i := range taints {
		t := &taints[i]
		ok := len(effects) == 0
		for _, e := range effects {
			if t.Effect == e {
				ok = true
				break
			}
		}
		if ok && !Tolerated(tolerations, t) {
			return t, true
		}
	}
	return nil, false
}
