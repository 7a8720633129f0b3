package main

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestStartLatencies(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	samples := []podSample{
		{created: at(0), bound: at(5), running: at(300)},
		// The binding was seen before the create call returned.
		{created: at(10), bound: at(8), running: at(200)},
	}
	total, sched, node := startLatencies(samples)
	if want := ms(300, 190); !slices.Equal(total, want) {
		t.Errorf("total = %v, want %v", total, want)
	}
	if want := ms(5, 0); !slices.Equal(sched, want) {
		t.Errorf("scheduling = %v, want %v", sched, want)
	}
	if want := ms(295, 192); !slices.Equal(node, want) {
		t.Errorf("node = %v, want %v", node, want)
	}
}

func TestPodNamesAndPod(t *testing.T) {
	names := podNames("burst", 3)
	if want := []string{"burst-000", "burst-001", "burst-002"}; !slices.Equal(names, want) {
		t.Errorf("podNames = %v, want %v", names, want)
	}
	p := benchPod("x")
	if *p.Spec.TerminationGracePeriodSeconds != graceSeconds || p.Spec.RestartPolicy != "Always" ||
		len(p.Spec.Containers) != 1 || p.Spec.Containers[0].ReadinessProbe != nil || p.Spec.Containers[0].Image != busyboxImage {
		t.Errorf("benchPod = %+v", p.Spec)
	}
}

func TestForEach(t *testing.T) {
	var ran atomic.Int64
	if err := forEach(context.Background(), 50, 8, func(context.Context, int) error { ran.Add(1); return nil }); err != nil || ran.Load() != 50 {
		t.Errorf("forEach ran %d of 50 operations, err %v", ran.Load(), err)
	}
	boom := errors.New("boom")
	ran.Store(0)
	err := forEach(context.Background(), 1000, 1, func(_ context.Context, i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || ran.Load() != 4 {
		t.Errorf("after an error: err %v, %d operations ran, want boom after 4", err, ran.Load())
	}
	if err := forEach(context.Background(), 0, 8, func(context.Context, int) error { return boom }); err != nil {
		t.Errorf("forEach over nothing = %v", err)
	}
}
