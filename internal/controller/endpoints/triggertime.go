package endpoints

import (
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TriggerTimes computes the endpoints.kubernetes.io/last-change-trigger-time
// annotation: the earliest time among the pod and Service changes a sync
// publishes that were not published by the previous sync of the same
// Service. A pod's change time is its Ready condition's last transition;
// a Service's is its creation. The first sync of a Service reports the
// Service's creation. Safe for concurrent use on different keys.
type TriggerTimes struct {
	mu    sync.Mutex
	state map[string]triggerState
}

type triggerState struct {
	service time.Time
	pods    map[string]time.Time
}

// NewTriggerTimes returns an empty tracker.
func NewTriggerTimes() *TriggerTimes { return &TriggerTimes{state: map[string]triggerState{}} }

// Compute records the pods (all those selected, published or not) and the
// Service of key and returns the trigger time to publish (zero: none).
func (t *TriggerTimes) Compute(key string, svc *corev1.Service, pods []*corev1.Pod) time.Time {
	t.mu.Lock()
	prev, known := t.state[key]
	t.mu.Unlock()

	var earliest time.Time
	consider := func(ts time.Time) {
		if earliest.IsZero() || ts.Before(earliest) {
			earliest = ts
		}
	}
	next := triggerState{service: svc.CreationTimestamp.Time, pods: make(map[string]time.Time, len(pods))}
	for _, pod := range pods {
		c := readyCondition(pod)
		if c == nil || c.LastTransitionTime.IsZero() {
			continue
		}
		ts := c.LastTransitionTime.Time
		next.pods[pod.Name] = ts
		if ts.After(prev.pods[pod.Name]) {
			consider(ts)
		}
	}
	if next.service.After(prev.service) {
		consider(next.service)
	}
	t.mu.Lock()
	t.state[key] = next
	t.mu.Unlock()
	if !known {
		return svc.CreationTimestamp.Time
	}
	return earliest
}

// Forget drops the state of a deleted Service.
func (t *TriggerTimes) Forget(key string) {
	t.mu.Lock()
	delete(t.state, key)
	t.mu.Unlock()
}

// FormatTriggerTime is the annotation value for a trigger time.
func FormatTriggerTime(ts time.Time) string { return ts.UTC().Format(time.RFC3339Nano) }

// OlderResourceVersion reports whether resource version a is known to be
// older than b. Resource versions are opaque in general; Skiff's are etcd
// revisions, so two numeric versions compare numerically, and anything
// else is never reported as older.
func OlderResourceVersion(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}
