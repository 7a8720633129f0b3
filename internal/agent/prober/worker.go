package prober

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxAttempts is how often one probe round retries an attempt that errored
// (could not be performed) before giving up on the round, as the kubelet does.
const maxAttempts = 3

// workerKey identifies a worker within its pod.
type workerKey struct {
	container string
	kind      Kind
}

// desired describes a worker the pod's current state calls for.
type desired struct {
	containerID string
	startedAt   time.Time
	container   *corev1.Container
	probe       *corev1.Probe
	fieldPath   string
	restarts    bool
}

// worker probes one container with one probe kind. Its fields other than
// state are immutable after creation; state is guarded by Manager.mu.
type worker struct {
	podUID      types.UID
	key         workerKey
	containerID string
	startedAt   time.Time
	probe       *corev1.Probe
	params      params
	target      Target
	ref         *corev1.ObjectReference
	failMessage string

	state   tracker
	cancel  context.CancelFunc
	trigger chan struct{}
}

// desiredWorkers lists the workers a pod needs: one per probe of every
// running regular container and running restartable (sidecar) init
// container.
func desiredWorkers(pod *corev1.Pod, running map[string]Running) map[workerKey]desired {
	out := map[workerKey]desired{}
	add := func(c *corev1.Container, fieldPath string, restarts bool) {
		r, ok := running[c.Name]
		if !ok || r.ID == "" {
			return
		}
		for _, k := range kinds() {
			if p := probeFor(c, k); p != nil {
				out[workerKey{container: c.Name, kind: k}] = desired{
					containerID: r.ID, startedAt: r.StartedAt, container: c, probe: p,
					fieldPath: fieldPath, restarts: restarts,
				}
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c, fmt.Sprintf("spec.initContainers{%s}", c.Name), true)
		}
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		add(c, fmt.Sprintf("spec.containers{%s}", c.Name), restartsAfterKill(pod, c))
	}
	return out
}

// restartsAfterKill reports whether a regular container killed for failing a
// probe will be started again: its own restart policy if set, otherwise the
// pod's, anything but Never restarts.
func restartsAfterKill(pod *corev1.Pod, c *corev1.Container) bool {
	if c.RestartPolicy != nil {
		return *c.RestartPolicy != corev1.ContainerRestartPolicyNever
	}
	return pod.Spec.RestartPolicy != corev1.RestartPolicyNever
}

// killMessage is the kubelet's reason for killing a container that failed a
// liveness or startup probe.
func killMessage(container string, k Kind, restarts bool) string {
	msg := fmt.Sprintf("Container %s failed %s probe", container, strings.ToLower(k.String()))
	if restarts {
		msg += ", will be restarted"
	}
	return msg
}

// startWorker creates the worker for key and starts its goroutine. m.mu must
// be held.
func (m *Manager) startWorker(pod *corev1.Pod, key workerKey, d desired) *worker {
	ctx, cancel := context.WithCancel(m.ctx)
	w := &worker{
		podUID:      pod.UID,
		key:         key,
		containerID: d.containerID,
		startedAt:   d.startedAt,
		probe:       d.probe,
		params:      paramsFor(d.probe, key.kind),
		target: Target{
			ContainerID: d.containerID,
			Ports:       d.container.Ports,
			Env:         d.container.Env,
			Exec:        m.exec,
		},
		ref: &corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Name: pod.Name, Namespace: pod.Namespace,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion, FieldPath: d.fieldPath,
		},
		failMessage: killMessage(key.container, key.kind, d.restarts),
		state:       newTracker(key.kind),
		cancel:      cancel,
		trigger:     make(chan struct{}, 1),
	}
	m.wg.Add(1)
	go m.run(ctx, w)
	return w
}

// poke asks the worker for an immediate probe; it never blocks.
func (w *worker) poke() {
	select {
	case w.trigger <- struct{}{}:
	default:
	}
}

// run is the worker's loop: the first probe is due initialDelaySeconds after
// the container started, later ones every periodSeconds; a poke probes early
// without moving the schedule.
func (m *Manager) run(ctx context.Context, w *worker) {
	defer m.wg.Done()
	next := w.startedAt.Add(w.params.initialDelay)
	for {
		if !m.waitTurn(ctx, w, next) {
			return
		}
		start := m.clock.Now()
		if !m.probeOnce(ctx, w) {
			return
		}
		if !start.Before(next) {
			next = start.Add(w.params.period)
		}
	}
}

// waitTurn blocks until next, a poke, or the worker's end; it reports whether
// to probe.
func (m *Manager) waitTurn(ctx context.Context, w *worker, next time.Time) bool {
	wait := next.Sub(m.clock.Now())
	if wait <= 0 {
		return ctx.Err() == nil
	}
	t := m.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	case <-w.trigger:
		return true
	}
}

// probeOnce runs one probe round if the worker's gates allow it and folds
// the result. It reports whether the worker should keep going.
func (m *Manager) probeOnce(ctx context.Context, w *worker) bool {
	m.mu.Lock()
	e := m.pods[w.podUID]
	if e == nil || e.workers[w.key] != w || w.state.onHold {
		m.mu.Unlock()
		return false
	}
	if m.clock.Since(w.startedAt) < w.params.initialDelay {
		m.mu.Unlock()
		return true
	}
	started := e.startedLocked(w.key.container)
	if w.key.kind == Startup && started {
		m.mu.Unlock()
		return false
	}
	if w.key.kind != Startup && !started {
		m.mu.Unlock()
		return true
	}
	target := w.target
	target.PodIP = e.podIP
	m.mu.Unlock()

	result, output, err := runRound(ctx, w.probe, target)
	if ctx.Err() != nil {
		return false
	}
	m.record(w, result, output, err)
	if err != nil {
		return true
	}

	m.mu.Lock()
	e = m.pods[w.podUID]
	if e == nil || e.workers[w.key] != w {
		m.mu.Unlock()
		return false
	}
	changed := w.state.observe(verdictOf(result), w.params)
	if changed && w.key.kind != Readiness && w.state.reported == verdictFailure {
		e.failed[w.key.container] = failure{containerID: w.containerID, message: w.failMessage}
		m.log.Info("container failed its probe", "pod", w.ref.Namespace+"/"+w.ref.Name,
			"container", w.key.container, "containerID", w.containerID, "probe", w.key.kind.String())
	}
	done := w.state.onHold
	if w.key.kind == Startup && w.state.reported == verdictSuccess {
		done = true
		if r := e.workers[workerKey{container: w.key.container, kind: Readiness}]; r != nil {
			r.poke()
		}
	}
	m.mu.Unlock()
	if changed {
		m.notify(w.podUID)
	}
	return !done
}

// runRound performs one probe round: an attempt that errors is retried up to
// maxAttempts times in total.
func runRound(ctx context.Context, p *corev1.Probe, t Target) (Result, string, error) {
	var (
		result Result
		output string
		err    error
	)
	for range maxAttempts {
		result, output, err = Run(ctx, p, t)
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	return result, output, err
}
