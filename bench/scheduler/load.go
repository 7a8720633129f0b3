package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const protobufCT = "application/vnd.kubernetes.protobuf"

// clientFor is an unthrottled protobuf client for the kubeconfig.
func clientFor(kubeconfig, agent string) (*kubernetes.Clientset, *rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = protobufCT
	cfg.AcceptContentTypes = protobufCT + ",application/json"
	cfg.UserAgent = agent
	cs, err := kubernetes.NewForConfig(cfg)
	return cs, cfg, err
}

// fakeNode is a Ready node with room for 110 pods, spread over zones.
func fakeNode(i, zones int, cpu, mem string) *corev1.Node {
	name := fmt.Sprintf("node-%04d", i)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(mem),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname:       name,
			corev1.LabelTopologyZone:   fmt.Sprintf("zone-%d", i%zones),
			corev1.LabelTopologyRegion: "bench",
			corev1.LabelOSStable:       "linux",
			corev1.LabelArchStable:     "amd64",
		}},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.32.0", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
}

// benchPod is a pod with small requests, like scheduler_perf's.
func benchPod(name, schedulerName string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{
			SchedulerName: schedulerName,
			Containers: []corev1.Container{{
				Name:  "pause",
				Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("100m"),
					corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			}},
		},
	}
}

// runConcurrent runs op for i in [0,n) on `workers` goroutines and returns
// the wall time and the first error.
func runConcurrent(ctx context.Context, n, workers int, op func(context.Context, int) error) (time.Duration, int, error) {
	var next, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := op(ctx, i); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), int(failed.Load()), firstErr
}

// boundWatcher counts pods of a namespace that got a node. It watches
// only bound pods (field selector spec.nodeName!=) and only their metadata,
// so that measuring costs the API server and this process as little as
// possible: one small event per pod.
type boundWatcher struct {
	mu    sync.Mutex
	bound map[string]time.Time
	want  int
	done  chan struct{}
	first time.Time
	last  time.Time
}

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

func watchBound(ctx context.Context, cfg *rest.Config, ns string, want int) (*boundWatcher, error) {
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	list, err := mc.Resource(podsGVR).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return nil, err
	}
	w := &boundWatcher{bound: map[string]time.Time{}, want: want, done: make(chan struct{})}
	go w.loop(ctx, mc, ns, list.ResourceVersion)
	return w, nil
}

func (w *boundWatcher) loop(ctx context.Context, mc metadata.Interface, ns, rv string) {
	for ctx.Err() == nil {
		wi, err := mc.Resource(podsGVR).Namespace(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv,
			FieldSelector: "spec.nodeName!=", AllowWatchBookmarks: true})
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ev := range wi.ResultChan() {
			m, ok := ev.Object.(*metav1.PartialObjectMetadata)
			if !ok {
				continue
			}
			rv = m.ResourceVersion
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			now := time.Now()
			w.mu.Lock()
			if _, seen := w.bound[m.Name]; !seen {
				if len(w.bound) == 0 {
					w.first = now
				}
				w.bound[m.Name] = now
				w.last = now
				if len(w.bound) == w.want {
					close(w.done)
				}
			}
			w.mu.Unlock()
		}
	}
}

func (w *boundWatcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.bound)
}

// wait blocks until all pods are bound (returning when the first and the
// last one were seen) or ctx ends.
func (w *boundWatcher) wait(ctx context.Context, timeout time.Duration) (first, last time.Time, err error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.first, w.last, nil
	case <-t.C:
		return time.Time{}, time.Time{}, fmt.Errorf("only %d of %d pods bound after %v", w.count(), w.want, timeout)
	case <-ctx.Done():
		return time.Time{}, time.Time{}, ctx.Err()
	}
}
