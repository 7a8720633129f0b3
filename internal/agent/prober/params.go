package prober

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Defaults the API server applies to probes; repeated here so a probe that
// reaches the agent without defaulting still behaves as documented.
const (
	defaultTimeoutSeconds   = 1
	defaultPeriodSeconds    = 10
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

// params are a probe's timing and threshold settings with defaults applied.
type params struct {
	initialDelay     time.Duration
	timeout          time.Duration
	period           time.Duration
	successThreshold int
	failureThreshold int
}

// paramsFor returns the effective settings of p for a probe of kind k.
// Liveness and startup probes always use a success threshold of 1, as API
// validation requires.
func paramsFor(p *corev1.Probe, k Kind) params {
	out := params{
		initialDelay:     seconds(p.InitialDelaySeconds, 0),
		timeout:          timeoutOf(p),
		period:           seconds(p.PeriodSeconds, defaultPeriodSeconds),
		successThreshold: positive(p.SuccessThreshold, defaultSuccessThreshold),
		failureThreshold: positive(p.FailureThreshold, defaultFailureThreshold),
	}
	if k != Readiness {
		out.successThreshold = 1
	}
	return out
}

// timeoutOf returns the probe's timeoutSeconds as a duration, 1s when unset.
func timeoutOf(p *corev1.Probe) time.Duration {
	return seconds(p.TimeoutSeconds, defaultTimeoutSeconds)
}

// seconds converts a seconds field to a duration, using def when it is not
// positive.
func seconds(v int32, def int32) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v) * time.Second
}

// positive returns v, or def when v is not positive.
func positive(v int32, def int) int {
	if v <= 0 {
		return def
	}
	return int(v)
}
