package prober

import corev1 "k8s.io/api/core/v1"

// Result is the outcome of one probe attempt.
type Result int

// Probe attempt outcomes. Warning counts as success for the container's state
// (the kubelet reports it as a ProbeWarning event, e.g. an HTTP redirect to
// another host that was not followed).
const (
	Unknown Result = iota
	Success
	Warning
	Failure
)

// String returns the lower-case name the kubelet uses for the result.
func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Failure:
		return "failure"
	default:
		return "unknown"
	}
}

// Kind names one of the three probes a container may declare.
type Kind int

// Probe kinds.
const (
	Liveness Kind = iota
	Readiness
	Startup
)

// String returns the capitalised name used in kubelet event messages.
func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	case Startup:
		return "Startup"
	default:
		return "Unknown"
	}
}

// kinds lists the probe kinds in the order workers are created.
func kinds() []Kind { return []Kind{Startup, Liveness, Readiness} }

// probeFor returns the container's probe of the given kind, or nil.
func probeFor(c *corev1.Container, k Kind) *corev1.Probe {
	switch k {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	default:
		return nil
	}
}
