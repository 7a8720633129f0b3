package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cleanup removes everything the run created, whatever state it is in:
// pods, sandboxes, the server, leftover processes and mounts, pod
// cgroups, the run's host routes and addresses, and the temp dirs. What
// it had to clean up beyond the normal course goes into the report.
func (b *bench) cleanup(res *results) {
	if b.cleaned {
		return
	}
	b.cleaned = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	note := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.cleanupNotes = append(res.cleanupNotes, msg)
		logf("cleanup: %s", msg)
	}
	if b.srv.Alive() && b.cs != nil {
		b.deleteAllPods(ctx, note)
		if b.raw != nil {
			if n, err := removeAllSandboxes(ctx, b.raw.rt); err != nil || n > 0 {
				note("removed %d leftover sandboxes directly (%v)", n, err)
			}
			if _, err := waitRuntimeEmpty(ctx, b.socket(), time.Minute); err != nil {
				note("containerd not empty: %v", err)
			}
		}
	}
	if b.raw != nil {
		b.raw.close()
	}
	if _, err := b.srv.Stop(30 * time.Second); err != nil {
		note("%v", err)
	}
	if killed := killLeftovers(b.root); len(killed) > 0 {
		note("killed leftover processes: %s", strings.Join(killed, ", "))
	}
	if done, err := unmountUnder(b.root); err != nil || len(done) > 0 {
		note("unmounted %d leftover mounts (%v)", len(done), err)
	}
	if b.raw != nil {
		removePodCgroups(b.raw.createdUIDs())
	}
	res.cgroupLeftovers = removePodCgroups(b.agentUID)
	if b.podCIDR != "" {
		gw, err := bridgeGateway(b.podCIDR)
		if err == nil {
			if done := removeNetwork(gw, b.o.clusterCIDR, b.o.serviceCIDR); len(done) > 0 {
				logf("cleanup: removed %s", strings.Join(done, ", "))
			}
		}
	}
	if err := os.RemoveAll(b.root); err != nil {
		note("removing %s: %v", b.root, err)
	}
}

// deleteAllPods deletes what is left in the benchmark's namespaces and
// waits (bounded) until the pods are gone.
func (b *bench) deleteAllPods(ctx context.Context, note func(string, ...any)) {
	namespaces := []string{"bench-warmup", "bench-sequential", "bench-burst"}
	left := 0
	for _, ns := range namespaces {
		list, err := b.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for _, p := range list.Items {
			left++
			_ = b.cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{})
		}
	}
	if left == 0 {
		return
	}
	note("deleted %d pods left by an unfinished run", left)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		remaining := 0
		for _, ns := range namespaces {
			if list, err := b.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
				remaining += len(list.Items)
			}
		}
		if remaining == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	note("pods still present after a minute")
}
