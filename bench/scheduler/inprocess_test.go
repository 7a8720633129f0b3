package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkScheduleEndToEnd runs the end-to-end phase in one process (an
// in-process server, the scheduler, the creating clients) so that both the
// scheduler's and the API server's hot spots show in one profile:
//
//	go test ./bench/scheduler -run '^$' -bench EndToEnd -benchtime 5000x -cpuprofile /tmp/e2e.out -o /tmp/e2e.test
//	go tool pprof -top -cum /tmp/e2e.test /tmp/e2e.out | grep skiff
func BenchmarkScheduleEndToEnd(b *testing.B) {
	s := testserver.StartWith(b, func(c *server.Config) { c.DisableControllers, c.DisableScheduler = true, true })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs, cfg, err := clientFor(s.Kubeconfig, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := runConcurrent(ctx, 1000, 32, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(i, 10, "32", "128Gi"), metav1.CreateOptions{})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- scheduler.RunStandalone(ctx, cfg, scheduler.StandaloneOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	time.Sleep(2 * time.Second) // informers sync
	w, err := watchBound(ctx, cfg, "e2e", b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if _, _, err := runConcurrent(ctx, b.N, 64, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Pods("e2e").Create(ctx, benchPod(fmt.Sprintf("p-%06d", i), scheduler.DefaultSchedulerName), metav1.CreateOptions{})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	_, last, err := w.wait(ctx, 5*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/last.Sub(start).Seconds(), "pods/s")
	cancel()
	<-done
}
