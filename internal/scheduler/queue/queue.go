// Package queue is the scheduler's pod queue: an active heap ordered by
// priority (then arrival), a back-off heap for pods that failed recently,
// an unschedulable pool whose pods wait for a cluster event that may help
// them (or five minutes), a pool of pods held back by scheduling gates,
// and the record of pods nominated to nodes by preemption.
package queue

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
)

// Kubernetes' defaults.
const (
	DefaultInitialBackoff             = time.Second
	DefaultMaxBackoff                 = 10 * time.Second
	DefaultMaxInUnschedulableDuration = 5 * time.Minute
)

// ErrClosed is returned by Pop once the queue is closed.
var ErrClosed = errors.New("scheduling queue is closed")

// QueuedPodInfo is a pod waiting in (or popped from) the queue.
type QueuedPodInfo struct {
	*framework.PodInfo
	// Timestamp is when the pod last entered the queue (or failed).
	Timestamp time.Time
	// InitialAttemptTimestamp is when the pod was first popped.
	InitialAttemptTimestamp time.Time
	// Attempts counts scheduling attempts.
	Attempts int
	// UnschedulablePlugins rejected the pod in its last attempt.
	UnschedulablePlugins map[string]bool
	// Cycle is the scheduling cycle that popped the pod.
	Cycle int64

	index int // in its heap
}

// Options configure a queue.
type Options struct {
	// Priority resolves a pod's priority (nil: spec.priority).
	Priority func(*v1.Pod) int32
	// Interest returns the plugins whose rejections an event may resolve
	// (nil: every event may help every pod).
	Interest                   func(framework.ClusterEvent) map[string]bool
	InitialBackoff, MaxBackoff time.Duration
	MaxInUnschedulable         time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// PriorityQueue is safe for concurrent use.
type PriorityQueue struct {
	opts Options
	mu   sync.Mutex
	cond *sync.Cond

	active        podHeap
	backoff       podHeap
	unschedulable map[types.UID]*QueuedPodInfo
	gated         map[types.UID]*QueuedPodInfo
	// where records which structure holds each queued pod.
	where map[types.UID]place

	schedulingCycle  int64
	moveRequestCycle int64
	closed           bool

	nominator nominator
	interest  [framework.ClusterEventCount]map[string]bool
}

type place int

const (
	inActive place = iota + 1
	inBackoff
	inUnschedulable
	inGated
)

// New returns an empty queue.
func New(opts Options) *PriorityQueue {
	if opts.Priority == nil {
		opts.Priority = framework.PodPriority
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxInUnschedulable <= 0 {
		opts.MaxInUnschedulable = DefaultMaxInUnschedulableDuration
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := &PriorityQueue{opts: opts, unschedulable: map[types.UID]*QueuedPodInfo{}, gated: map[types.UID]*QueuedPodInfo{},
		where: map[types.UID]place{}, nominator: newNominator()}
	q.active.less = activeLess
	q.backoff.less = func(a, b *QueuedPodInfo) bool { return q.backoffExpiry(a).Before(q.backoffExpiry(b)) }
	q.cond = sync.NewCond(&q.mu)
	if opts.Interest != nil {
		for e := framework.ClusterEvent(0); e < framework.ClusterEventCount; e++ {
			q.interest[e] = opts.Interest(e)
		}
	}
	return q
}

// activeLess orders by priority (higher first), then arrival.
func activeLess(a, b *QueuedPodInfo) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return a.Timestamp.Before(b.Timestamp)
}

func (q *PriorityQueue) newQueued(pod *v1.Pod) *QueuedPodInfo {
	return &QueuedPodInfo{PodInfo: framework.NewPodInfo(pod, q.opts.Priority(pod)), Timestamp: q.opts.Now()}
}

func gated(pod *v1.Pod) bool { return len(pod.Spec.SchedulingGates) > 0 }

// Add queues a new pending pod (or updates it if already queued).
func (q *PriorityQueue) Add(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.where[pod.UID]; ok {
		q.updateLocked(pod, true)
		return
	}
	q.insertLocked(q.newQueued(pod))
}

// insertLocked puts a fresh or requeued pod into active or gated.
func (q *PriorityQueue) insertLocked(p *QueuedPodInfo) {
	q.nominateFromStatus(p.PodInfo)
	if gated(p.Pod) {
		q.gated[p.Pod.UID] = p
		q.where[p.Pod.UID] = inGated
		return
	}
	heap.Push(&q.active, p)
	q.where[p.Pod.UID] = inActive
	q.cond.Broadcast()
}

// relevantUpdate reports whether a change may change scheduling: anything
// but status and bookkeeping metadata.
func relevantUpdate(old, cur *v1.Pod) bool {
	if old == nil {
		return true
	}
	strip := func(p *v1.Pod) *v1.Pod {
		c := p.DeepCopy()
		c.ResourceVersion, c.Generation, c.ManagedFields, c.Status = "", 0, nil, v1.PodStatus{}
		return c
	}
	return !equality.Semantic.DeepEqual(strip(old), strip(cur))
}

// Update reflects a change to a pending pod. A pod waiting in the
// unschedulable pool is retried if its spec or metadata changed; a pod
// whose gates are lifted becomes active.
func (q *PriorityQueue) Update(old, cur *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.updateLocked(cur, relevantUpdate(old, cur))
}

func (q *PriorityQueue) updateLocked(cur *v1.Pod, relevant bool) {
	uid := cur.UID
	pl, ok := q.where[uid]
	if !ok {
		if relevant {
			q.insertLocked(q.newQueued(cur))
		}
		return
	}
	var p *QueuedPodInfo
	switch pl {
	case inActive:
		p = q.active.get(uid)
	case inBackoff:
		p = q.backoff.get(uid)
	case inUnschedulable:
		p = q.unschedulable[uid]
	case inGated:
		p = q.gated[uid]
	}
	if !relevant {
		// Keep the latest object (status included) in a new PodInfo: the
		// old one may be read by a scheduling cycle (nominated pods).
		old := p.Pod
		np := *p.PodInfo
		np.Pod = cur
		p.PodInfo = &np
		if old.Status.NominatedNodeName != "" && cur.Status.NominatedNodeName == "" {
			q.nominator.delete(uid)
		} else if _, nominated := q.nominator.node[uid]; nominated || cur.Status.NominatedNodeName != "" {
			q.nominator.update(p.PodInfo, q.nominatedNode(uid, cur))
		}
		return
	}
	np := *p
	np.PodInfo = framework.NewPodInfo(cur, q.opts.Priority(cur))
	q.removeLocked(uid)
	switch {
	case pl == inActive || pl == inGated:
		q.insertLocked(&np)
	case pl == inBackoff:
		q.nominateFromStatus(np.PodInfo)
		heap.Push(&q.backoff, &np)
		q.where[uid] = inBackoff
	default: // unschedulable: retry now or after back-off
		q.requeueLocked(&np)
	}
}

// requeueLocked moves a previously failed pod to backoff or active.
func (q *PriorityQueue) requeueLocked(p *QueuedPodInfo) {
	if gated(p.Pod) {
		q.gated[p.Pod.UID] = p
		q.where[p.Pod.UID] = inGated
		return
	}
	if q.isBackingOff(p) {
		heap.Push(&q.backoff, p)
		q.where[p.Pod.UID] = inBackoff
		return
	}
	heap.Push(&q.active, p)
	q.where[p.Pod.UID] = inActive
	q.cond.Broadcast()
}

// nominatedNode is the pod's nomination: its status's, or the one
// recorded by AddNominated while the status update is in flight.
func (q *PriorityQueue) nominatedNode(uid types.UID, pod *v1.Pod) string {
	if nn := pod.Status.NominatedNodeName; nn != "" {
		return nn
	}
	return q.nominator.node[uid]
}

// nominateFromStatus records a nomination the pod's status carries (an
// empty status leaves a nomination made by AddNominated in place: the
// status update may still be in flight).
func (q *PriorityQueue) nominateFromStatus(pi *framework.PodInfo) {
	if nn := pi.Pod.Status.NominatedNodeName; nn != "" {
		q.nominator.update(pi, nn)
	}
}

func (q *PriorityQueue) removeLocked(uid types.UID) {
	switch q.where[uid] {
	case inActive:
		q.active.remove(uid)
	case inBackoff:
		q.backoff.remove(uid)
	case inUnschedulable:
		delete(q.unschedulable, uid)
	case inGated:
		delete(q.gated, uid)
	}
	delete(q.where, uid)
}

// Delete forgets a pod (deleted, or bound by someone else).
func (q *PriorityQueue) Delete(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.removeLocked(pod.UID)
	q.nominator.delete(pod.UID)
}

// Pop blocks until a pod is active (or ctx ends or the queue closes) and
// returns it, counting a scheduling attempt.
func (q *PriorityQueue) Pop(ctx context.Context) (*QueuedPodInfo, error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 {
		if q.closed {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.cond.Wait()
	}
	p := heap.Pop(&q.active).(*QueuedPodInfo)
	delete(q.where, p.Pod.UID)
	q.schedulingCycle++
	p.Cycle = q.schedulingCycle
	p.Attempts++
	if p.InitialAttemptTimestamp.IsZero() {
		p.InitialAttemptTimestamp = q.opts.Now()
	}
	return p, nil
}

// SchedulingCycle is the number of pods popped so far.
func (q *PriorityQueue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// AddUnschedulable returns a pod that failed to schedule. Rejected pods
// wait in the unschedulable pool for a helpful event, unless such an event
// happened while they were being scheduled (then they back off); pods that
// hit an error back off. A pod already queued again (updated meanwhile) is
// left alone.
func (q *PriorityQueue) AddUnschedulable(p *QueuedPodInfo, rejected bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.where[p.Pod.UID]; ok {
		return
	}
	p.Timestamp = q.opts.Now()
	if gated(p.Pod) {
		q.gated[p.Pod.UID] = p
		q.where[p.Pod.UID] = inGated
		return
	}
	if !rejected || q.moveRequestCycle >= p.Cycle {
		heap.Push(&q.backoff, p)
		q.where[p.Pod.UID] = inBackoff
		return
	}
	q.unschedulable[p.Pod.UID] = p
	q.where[p.Pod.UID] = inUnschedulable
}

// MoveOnEvent retries the unschedulable pods that ev may help: pods
// rejected by a plugin interested in ev (or by no particular plugin), and
// for which match (nil: all) returns true.
func (q *PriorityQueue) MoveOnEvent(ev framework.ClusterEvent, match func(*framework.PodInfo) bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveRequestCycle = q.schedulingCycle
	if len(q.unschedulable) == 0 {
		return
	}
	interest := q.interest[ev]
	for uid, p := range q.unschedulable {
		if !q.helps(interest, p) || (match != nil && !match(p.PodInfo)) {
			continue
		}
		delete(q.unschedulable, uid)
		delete(q.where, uid)
		q.requeueLocked(p)
	}
}

func (q *PriorityQueue) helps(interest map[string]bool, p *QueuedPodInfo) bool {
	if q.opts.Interest == nil || len(p.UnschedulablePlugins) == 0 {
		return true
	}
	for pl := range p.UnschedulablePlugins {
		if interest[pl] {
			return true
		}
	}
	return false
}

// MoveAll retries every unschedulable pod (e.g. on request).
func (q *PriorityQueue) MoveAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveRequestCycle = q.schedulingCycle
	for uid, p := range q.unschedulable {
		delete(q.unschedulable, uid)
		delete(q.where, uid)
		q.requeueLocked(p)
	}
}

// Lengths returns the sizes of the active, back-off, unschedulable and
// gated pools.
func (q *PriorityQueue) Lengths() (active, backoff, unschedulable, gated int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable), len(q.gated)
}

// Has reports whether the pod is queued (in any pool).
func (q *PriorityQueue) Has(uid types.UID) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.where[uid]
	return ok
}

// AddNominated records that pod is nominated to node (after preemption).
func (q *PriorityQueue) AddNominated(pi *framework.PodInfo, node string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nominator.update(pi, node)
}

// DeleteNominated forgets the pod's nomination.
func (q *PriorityQueue) DeleteNominated(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nominator.delete(uid)
}

// HasNominatedPods reports whether any pod is nominated to a node.
func (q *PriorityQueue) HasNominatedPods() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.nominator.node) > 0
}

// NominatedPodsForNode returns the pods nominated to node (a copy).
func (q *PriorityQueue) NominatedPodsForNode(node string) []*framework.PodInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.nominator.forNode(node)
}
