package main

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

func pod(name, node string, phase corev1.PodPhase, ready corev1.ConditionStatus) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
	if ready != "" {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: ready}}
	}
	return p
}

func TestRunningAndReady(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"pending", pod("p", "n", corev1.PodPending, corev1.ConditionFalse), false},
		{"running, not ready yet", pod("p", "n", corev1.PodRunning, corev1.ConditionFalse), false},
		{"running, no Ready condition", pod("p", "n", corev1.PodRunning, ""), false},
		{"running and ready", pod("p", "n", corev1.PodRunning, corev1.ConditionTrue), true},
		{"ready but succeeded", pod("p", "n", corev1.PodSucceeded, corev1.ConditionTrue), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runningAndReady(tt.pod); got != tt.want {
				t.Errorf("runningAndReady = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestObserveKeepsFirstTimes(t *testing.T) {
	w := newPodWatch()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	w.observe(watch.Added, pod("a", "", corev1.PodPending, ""), at(0))
	w.observe(watch.Modified, pod("a", "node", corev1.PodPending, ""), at(1))
	w.observe(watch.Modified, pod("a", "node", corev1.PodRunning, corev1.ConditionFalse), at(2))
	w.observe(watch.Modified, pod("a", "node", corev1.PodRunning, corev1.ConditionTrue), at(3))
	w.observe(watch.Modified, pod("a", "node", corev1.PodRunning, corev1.ConditionTrue), at(4))
	w.observe(watch.Deleted, pod("a", "node", corev1.PodRunning, corev1.ConditionFalse), at(5))
	got := w.times("a")
	want := podTimes{bound: at(1), running: at(3), deleted: at(5)}
	if got != want {
		t.Errorf("times = %+v, want %+v", got, want)
	}
	if (w.times("unknown") != podTimes{}) {
		t.Errorf("an unknown pod has times")
	}
}

func TestWaitUntil(t *testing.T) {
	ctx := context.Background()
	w := newPodWatch()
	names := []string{"a", "b"}
	done := make(chan error, 1)
	go func() { done <- w.waitUntil(ctx, time.Minute, allRunning(names)) }()
	w.observe(watch.Added, pod("a", "n", corev1.PodRunning, corev1.ConditionTrue), time.Now())
	select {
	case err := <-done:
		t.Fatalf("returned (%v) with one of two pods running", err)
	default:
	}
	w.observe(watch.Added, pod("b", "n", corev1.PodRunning, corev1.ConditionTrue), time.Now())
	if err := <-done; err != nil {
		t.Fatalf("waitUntil: %v", err)
	}

	err := w.waitUntil(ctx, 10*time.Millisecond, allDeleted(names))
	if err == nil || !strings.Contains(err.Error(), "0 of 2 pods deleted") {
		t.Errorf("waitUntil on a condition never met = %v, want a timeout naming 0 of 2", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.waitUntil(cancelled, time.Minute, allDeleted(names)); err != context.Canceled {
		t.Errorf("waitUntil with a cancelled context = %v", err)
	}
}
