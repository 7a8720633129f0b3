package prober

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Running describes a container the pod worker currently has running.
type Running struct {
	// ID is the runtime's container ID; a new ID means a new container.
	ID string
	// StartedAt is when the container started; initialDelaySeconds counts
	// from it.
	StartedAt time.Time
}

// Config configures a Manager. Every field is optional.
type Config struct {
	// Exec runs exec probes inside containers.
	Exec Execer
	// Logger receives probe diagnostics; nil discards them.
	Logger *slog.Logger
	// OnChange is called, without the manager's lock held, whenever Ready,
	// Started or Failed may have changed for a pod.
	OnChange func(podUID types.UID)
	// Clock drives probe timing; nil means the real clock.
	Clock clock.WithTicker
	// Recorder receives the kubelet's probe events (Unhealthy,
	// ProbeWarning); nil records none.
	Recorder record.EventRecorder
}

// Manager runs the periodic probe workers of every pod on the node and
// answers the pod worker's questions about readiness, startup and liveness.
// It is safe for concurrent use.
type Manager struct {
	exec     Execer
	log      *slog.Logger
	onChange func(types.UID)
	clock    clock.WithTicker
	recorder record.EventRecorder

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	pods map[types.UID]*podEntry
}

// podEntry is what the manager knows about one pod. Guarded by Manager.mu.
type podEntry struct {
	podIP   string
	running map[string]Running
	workers map[workerKey]*worker
	failed  map[string]failure
}

// failure is a liveness or startup failure waiting to be collected by the pod
// worker.
type failure struct {
	containerID string
	message     string
}

// New returns a Manager with no pods. Call Stop to end all its workers.
func New(cfg Config) *Manager {
	m := &Manager{
		exec:     cfg.Exec,
		log:      cfg.Logger,
		onChange: cfg.OnChange,
		clock:    cfg.Clock,
		recorder: cfg.Recorder,
		pods:     map[types.UID]*podEntry{},
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.clock == nil {
		m.clock = clock.RealClock{}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Update tells the manager the pod's spec, IP and currently running
// containers (name to ID and start time; entries without an ID are
// ignored). It starts a worker for every probe of a running container,
// restarts workers whose container got a new ID (resetting their counters)
// and stops workers of containers that are no longer running. Once the pod
// has a deletion timestamp, liveness and startup probes stop and count as
// successful so the terminating container is not restarted. Update is
// idempotent and meant to be called on every pod sync.
func (m *Manager) Update(pod *corev1.Pod, podIP string, running map[string]Running) {
	uid := pod.UID
	m.mu.Lock()
	e := m.pods[uid]
	if e == nil {
		e = &podEntry{workers: map[workerKey]*worker{}, failed: map[string]failure{}}
		m.pods[uid] = e
	}
	e.podIP = podIP
	e.running = maps.Clone(running)
	maps.DeleteFunc(e.running, func(_ string, r Running) bool { return r.ID == "" })
	m.syncWorkers(e, pod)
	changed := false
	if pod.DeletionTimestamp != nil {
		changed = settleForDeletion(e)
	}
	// Like the kubelet, every sync asks not-ready readiness probes of started
	// containers for a prompt retry.
	for key, w := range e.workers {
		if key.kind == Readiness && w.state.reported != verdictSuccess && e.startedLocked(key.container) {
			w.poke()
		}
	}
	m.mu.Unlock()
	if changed {
		m.notify(uid)
	}
}

// syncWorkers makes e's workers match pod's probes and e.running, and drops
// pending failures of containers that are gone. m.mu must be held.
func (m *Manager) syncWorkers(e *podEntry, pod *corev1.Pod) {
	want := desiredWorkers(pod, e.running)
	for key, w := range e.workers {
		if d, ok := want[key]; !ok || d.containerID != w.containerID {
			w.cancel()
			delete(e.workers, key)
		}
	}
	if m.ctx.Err() == nil {
		for key, d := range want {
			if _, ok := e.workers[key]; !ok {
				e.workers[key] = m.startWorker(pod, key, d)
			}
		}
	}
	for name, f := range e.failed {
		if r, ok := e.running[name]; !ok || r.ID != f.containerID {
			delete(e.failed, name)
		}
	}
}

// settleForDeletion stops the liveness and startup workers of a terminating
// pod with a successful verdict and drops pending failures. It reports
// whether any answer changed.
func settleForDeletion(e *podEntry) bool {
	changed := len(e.failed) > 0
	clear(e.failed)
	for key, w := range e.workers {
		if key.kind == Readiness {
			continue
		}
		if w.state.settle() {
			changed = true
		}
		w.cancel()
	}
	return changed
}

// Remove stops every worker of the pod and forgets it.
func (m *Manager) Remove(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pods[podUID]
	if e == nil {
		return
	}
	for _, w := range e.workers {
		w.cancel()
	}
	delete(m.pods, podUID)
}

// Stop ends all workers and waits for them to return. The manager starts no
// workers afterwards.
func (m *Manager) Stop() {
	m.cancel()
	m.wg.Wait()
}

// Started reports whether the container is running and its startup probe, if
// it has one, has succeeded. A running container without a startup probe is
// started.
func (m *Manager) Started(podUID types.UID, container string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pods[podUID]
	return e != nil && e.startedLocked(container)
}

// Ready reports whether the container is started and its readiness probe, if
// it has one, has succeeded often enough. A readiness probe that has not yet
// succeeded means not ready; without one, readiness follows Started.
func (m *Manager) Ready(podUID types.UID, container string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pods[podUID]
	return e != nil && e.readyLocked(container)
}

// Failed reports, once, a container whose liveness or startup probe crossed
// its failure threshold: its ID and the kubelet's kill message, e.g.
// "Container web failed liveness probe, will be restarted". The pod worker is
// expected to kill the container; its workers stay idle until a container
// with a new ID is reported through Update.
func (m *Manager) Failed(podUID types.UID, container string) (containerID string, message string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pods[podUID]
	if e == nil {
		return "", "", false
	}
	f, ok := e.failed[container]
	if !ok {
		return "", "", false
	}
	delete(e.failed, container)
	return f.containerID, f.message, true
}

// startedLocked is Started for a pod entry; m.mu must be held.
func (e *podEntry) startedLocked(container string) bool {
	if _, ok := e.running[container]; !ok {
		return false
	}
	w := e.workers[workerKey{container: container, kind: Startup}]
	return w == nil || w.state.reported == verdictSuccess
}

// readyLocked is Ready for a pod entry; m.mu must be held.
func (e *podEntry) readyLocked(container string) bool {
	if !e.startedLocked(container) {
		return false
	}
	w := e.workers[workerKey{container: container, kind: Readiness}]
	return w == nil || w.state.reported == verdictSuccess
}

// notify calls OnChange if configured. m.mu must not be held.
func (m *Manager) notify(uid types.UID) {
	if m.onChange != nil {
		m.onChange(uid)
	}
}
