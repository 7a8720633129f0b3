package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Images the agent imports from <data-dir>/agent/images.
const (
	busyboxImage = "skiff.local/busybox:1.36"
	// graceSeconds is the pods' terminationGracePeriodSeconds: busybox
	// sleep as PID 1 ignores SIGTERM, so every deletion waits it out.
	graceSeconds = 1
)

// benchPod is the measured workload: busybox `sleep 3600`, restartPolicy
// Always, no probes, no requests (BestEffort).
func benchPod(name string) *corev1.Pod {
	grace := int64(graceSeconds)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "agent-bench"}},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{
				Name:            "sleep",
				Image:           busyboxImage,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{"sleep", "3600"},
			}},
		},
	}
}

// startRun is one measured start of n pods.
type startRun struct {
	names   []string
	uids    []types.UID
	samples []podSample
	// wall is from the first create call to the last pod seen Running.
	wall time.Duration
}

// podSample is one pod's timeline on the client's clock.
type podSample struct {
	created time.Time // the create call returned
	bound   time.Time // the watch showed spec.nodeName
	running time.Time // the watch showed Running and Ready
}

// startLatencies splits the samples into create→Running (the measured
// latency), create→bound (API server and scheduler) and bound→Running
// (the agent, the runtime and the status update). Negative spans (an
// event seen before the create call returned) count as 0.
func startLatencies(samples []podSample) (total, scheduling, node []time.Duration) {
	span := func(from, to time.Time) time.Duration { return max(to.Sub(from), 0) }
	for _, s := range samples {
		total = append(total, span(s.created, s.running))
		scheduling = append(scheduling, span(s.created, s.bound))
		node = append(node, span(s.bound, s.running))
	}
	return total, scheduling, node
}

// podNames are the names of a phase's n pods.
func podNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return names
}

// startSequential creates the pods one at a time, each once the
// previous one was seen Running and Ready. before, if not nil, runs ahead
// of each create (the reference interleaved with the pods, so that both
// see the same machine); the wall time leaves it out.
func startSequential(ctx context.Context, cs kubernetes.Interface, w *podWatch, ns string, names []string, perPod time.Duration, before func(int) error) (startRun, error) {
	run := startRun{names: names, uids: make([]types.UID, len(names))}
	created := make([]time.Time, len(names))
	var elsewhere time.Duration
	begin := time.Now()
	for i, name := range names {
		if before != nil {
			t := time.Now()
			if err := before(i); err != nil {
				return run, err
			}
			elsewhere += time.Since(t)
		}
		p, err := cs.CoreV1().Pods(ns).Create(ctx, benchPod(name), metav1.CreateOptions{})
		if err != nil {
			return run, fmt.Errorf("creating pod %s/%s: %w", ns, name, err)
		}
		created[i], run.uids[i] = time.Now(), p.UID
		if err := w.waitUntil(ctx, perPod, allRunning(names[i:i+1])); err != nil {
			return run, fmt.Errorf("pod %s/%s: %w", ns, name, err)
		}
	}
	run.finish(w, begin.Add(elsewhere), created)
	return run, nil
}

// startBurst creates all pods at once from `clients` goroutines and
// waits until every one was seen Running and Ready.
func startBurst(ctx context.Context, cs kubernetes.Interface, w *podWatch, ns string, names []string, clients int, timeout time.Duration) (startRun, error) {
	run := startRun{names: names, uids: make([]types.UID, len(names))}
	created := make([]time.Time, len(names))
	begin := time.Now()
	err := forEach(ctx, len(names), clients, func(ctx context.Context, i int) error {
		p, err := cs.CoreV1().Pods(ns).Create(ctx, benchPod(names[i]), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating pod %s/%s: %w", ns, names[i], err)
		}
		created[i], run.uids[i] = time.Now(), p.UID
		return nil
	})
	if err != nil {
		return run, err
	}
	if err := w.waitUntil(ctx, timeout, allRunning(names)); err != nil {
		return run, fmt.Errorf("burst in %s: %w", ns, err)
	}
	run.finish(w, begin, created)
	return run, nil
}

func (r *startRun) finish(w *podWatch, begin time.Time, created []time.Time) {
	var last time.Time
	for i, name := range r.names {
		t := w.times(name)
		r.samples = append(r.samples, podSample{created: created[i], bound: t.bound, running: t.running})
		if t.running.After(last) {
			last = t.running
		}
	}
	r.wall = last.Sub(begin)
}

// deleteRun is one measured deletion of a phase's pods.
type deleteRun struct {
	// latencies are from each delete call's return to its DELETED event.
	latencies []time.Duration
	// wall is from the first delete call to the last pod gone.
	wall time.Duration
}

// deletePods deletes the pods with the default grace period (the pods'
// own terminationGracePeriodSeconds) from `clients` goroutines and waits
// until all are gone from the API.
func deletePods(ctx context.Context, cs kubernetes.Interface, w *podWatch, ns string, names []string, clients int, timeout time.Duration) (deleteRun, error) {
	called := make([]time.Time, len(names))
	begin := time.Now()
	err := forEach(ctx, len(names), clients, func(ctx context.Context, i int) error {
		if err := cs.CoreV1().Pods(ns).Delete(ctx, names[i], metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("deleting pod %s/%s: %w", ns, names[i], err)
		}
		called[i] = time.Now()
		return nil
	})
	if err != nil {
		return deleteRun{}, err
	}
	if err := w.waitUntil(ctx, timeout, allDeleted(names)); err != nil {
		return deleteRun{}, fmt.Errorf("deleting pods in %s: %w", ns, err)
	}
	var run deleteRun
	var last time.Time
	for i, name := range names {
		gone := w.times(name).deleted
		run.latencies = append(run.latencies, max(gone.Sub(called[i]), 0))
		if gone.After(last) {
			last = gone
		}
	}
	run.wall = last.Sub(begin)
	return run, nil
}

// forEach runs op for i in [0,n) on `workers` goroutines and returns the
// first error; after an error no new operations start.
func forEach(ctx context.Context, n, workers int, op func(context.Context, int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range max(min(workers, n), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				if i >= n || stop || ctx.Err() != nil {
					return
				}
				if err := op(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
