package queue

import (
	"container/heap"
	"context"
	"time"
)

// backoffDuration is 1s doubled per earlier attempt, capped (Kubernetes'
// pod back-off).
func (q *PriorityQueue) backoffDuration(p *QueuedPodInfo) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < p.Attempts; i++ {
		d *= 2
		if d >= q.opts.MaxBackoff {
			return q.opts.MaxBackoff
		}
	}
	return d
}

func (q *PriorityQueue) backoffExpiry(p *QueuedPodInfo) time.Time {
	return p.Timestamp.Add(q.backoffDuration(p))
}

func (q *PriorityQueue) isBackingOff(p *QueuedPodInfo) bool {
	return q.backoffExpiry(p).After(q.opts.Now())
}

// FlushBackoffCompleted moves pods whose back-off expired to active.
func (q *PriorityQueue) FlushBackoffCompleted() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.backoff.Len() > 0 {
		p := q.backoff.items[0]
		if q.isBackingOff(p) {
			return
		}
		heap.Pop(&q.backoff)
		heap.Push(&q.active, p)
		q.where[p.Pod.UID] = inActive
		q.cond.Broadcast()
	}
}

// FlushUnschedulableLeftover retries pods that waited in the
// unschedulable pool longer than MaxInUnschedulable.
func (q *PriorityQueue) FlushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for uid, p := range q.unschedulable {
		if now.Sub(p.Timestamp) > q.opts.MaxInUnschedulable {
			delete(q.unschedulable, uid)
			delete(q.where, uid)
			q.requeueLocked(p)
		}
	}
}

// Run flushes the back-off heap every second and the unschedulable pool
// every 30 seconds until ctx ends, then closes the queue.
func (q *PriorityQueue) Run(ctx context.Context) {
	backoff := time.NewTicker(time.Second)
	leftover := time.NewTicker(30 * time.Second)
	defer backoff.Stop()
	defer leftover.Stop()
	defer q.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-backoff.C:
			q.FlushBackoffCompleted()
		case <-leftover.C:
			q.FlushUnschedulableLeftover()
		}
	}
}

// Close wakes Pop callers with ErrClosed.
func (q *PriorityQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}
