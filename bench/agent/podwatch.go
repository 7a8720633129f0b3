package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// podTimes is when the watch first showed a pod in each state (client
// clock); zero until then.
type podTimes struct {
	bound   time.Time // spec.nodeName set
	running time.Time // phase Running with Ready=True
	deleted time.Time // DELETED event
}

// runningAndReady is the state a pod's start is measured to: phase
// Running and the Ready condition True.
func runningAndReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podWatch follows the pods of one namespace and records, per pod name,
// when each state was first seen.
type podWatch struct {
	mu      sync.Mutex
	pods    map[string]*podTimes
	changed chan struct{} // closed and replaced on every change
}

func newPodWatch() *podWatch {
	return &podWatch{pods: map[string]*podTimes{}, changed: make(chan struct{})}
}

// watchPods starts a watch on the namespace; it runs until ctx ends.
// Events after the call returns are all seen.
func watchPods(ctx context.Context, cs kubernetes.Interface, ns string) (*podWatch, error) {
	w := newPodWatch()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	now := time.Now()
	for i := range list.Items {
		w.observe(watch.Added, &list.Items[i], now)
	}
	go w.loop(ctx, cs, ns, list.ResourceVersion)
	return w, nil
}

func (w *podWatch) loop(ctx context.Context, cs kubernetes.Interface, ns, rv string) {
	for ctx.Err() == nil {
		wi, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		for ev := range wi.ResultChan() {
			if ev.Type == watch.Error {
				// Most likely "too old resource version": list again.
				if list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
					now := time.Now()
					for i := range list.Items {
						w.observe(watch.Modified, &list.Items[i], now)
					}
					rv = list.ResourceVersion
				}
				break
			}
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			rv = pod.ResourceVersion
			if ev.Type != watch.Bookmark {
				w.observe(ev.Type, pod, time.Now())
			}
		}
		wi.Stop()
	}
}

// observe records what one event shows about a pod, keeping the first
// time each state was seen.
func (w *podWatch) observe(t watch.EventType, pod *corev1.Pod, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pods[pod.Name]
	if p == nil {
		p = &podTimes{}
		w.pods[pod.Name] = p
	}
	before := *p
	if p.bound.IsZero() && pod.Spec.NodeName != "" {
		p.bound = now
	}
	if p.running.IsZero() && runningAndReady(pod) {
		p.running = now
	}
	if p.deleted.IsZero() && t == watch.Deleted {
		p.deleted = now
	}
	if *p != before {
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

// times returns what was recorded for a pod (zero values if nothing).
func (w *podWatch) times(name string) podTimes {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.pods[name]; p != nil {
		return *p
	}
	return podTimes{}
}

// waitUntil blocks until done reports true over the recorded times, the
// timeout passes (the error quotes done's last explanation) or ctx ends.
func (w *podWatch) waitUntil(ctx context.Context, timeout time.Duration, done func(map[string]*podTimes) (bool, string)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, why := done(w.pods)
		changed := w.changed
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("after %v: %s", timeout, why)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// allRunning is a waitUntil condition: every named pod was seen Running
// and Ready.
func allRunning(names []string) func(map[string]*podTimes) (bool, string) {
	return allIn(names, "Running and Ready", func(p *podTimes) bool { return !p.running.IsZero() })
}

// allDeleted is a waitUntil condition: every named pod is gone from the
// API (a DELETED event was seen).
func allDeleted(names []string) func(map[string]*podTimes) (bool, string) {
	return allIn(names, "deleted", func(p *podTimes) bool { return !p.deleted.IsZero() })
}

func allIn(names []string, state string, in func(*podTimes) bool) func(map[string]*podTimes) (bool, string) {
	return func(pods map[string]*podTimes) (bool, string) {
		n := 0
		for _, name := range names {
			if p := pods[name]; p != nil && in(p) {
				n++
			}
		}
		return n == len(names), fmt.Sprintf("%d of %d pods %s", n, len(names), state)
	}
}
