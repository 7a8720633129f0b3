package prober

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Event reasons the kubelet uses for probe outcomes.
const (
	ReasonUnhealthy    = "Unhealthy"
	ReasonProbeWarning = "ProbeWarning"
)

// eventFor returns the event the kubelet records for one probe round, if
// any: Unhealthy for failures and errors, ProbeWarning for warnings.
func eventFor(k Kind, result Result, output string, err error) (reason, message string, ok bool) {
	switch {
	case err != nil:
		return ReasonUnhealthy, fmt.Sprintf("%s probe errored and resulted in %s state: %s", k, result, err), true
	case result == Failure:
		return ReasonUnhealthy, fmt.Sprintf("%s probe failed: %s", k, output), true
	case result == Warning:
		return ReasonProbeWarning, fmt.Sprintf("%s probe warning: %s", k, output), true
	default:
		return "", "", false
	}
}

// record logs a probe round and emits its event.
func (m *Manager) record(w *worker, result Result, output string, err error) {
	attrs := []any{
		"pod", w.ref.Namespace + "/" + w.ref.Name, "container", w.key.container,
		"probe", w.key.kind.String(), "result", result.String(),
	}
	switch {
	case err != nil:
		m.log.Debug("probe errored", append(attrs, "err", err)...)
	case result == Success:
		m.log.Debug("probe succeeded", attrs...)
	default:
		m.log.Debug("probe did not succeed", append(attrs, "output", output)...)
	}
	reason, message, ok := eventFor(w.key.kind, result, output, err)
	if ok && m.recorder != nil {
		m.recorder.Event(w.ref, corev1.EventTypeWarning, reason, message)
	}
}
