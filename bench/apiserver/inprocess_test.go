package main

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/testserver"
	"k8s.io/client-go/kubernetes"
)

// These benchmarks run the same requests as the process benchmark against
// an in-process server so that the server's hot spots can be profiled:
//
//	go test ./bench/apiserver -run '^$' -bench CreatePods -benchtime 10000x -cpuprofile cpu.out
//	go tool pprof -top -cum bench/apiserver/apiserver.test cpu.out
//
// The profile includes the client (encoding, TLS), as the process benchmark's
// load generator shares the machine too.

func inProcessClient(b *testing.B) kubernetes.Interface {
	b.Helper()
	s := testserver.Start(b)
	cs, _, err := clientFor(s.Kubeconfig, protobufCT)
	if err != nil {
		b.Fatal(err)
	}
	if err := ensureNamespace(context.Background(), cs, "bench"); err != nil {
		b.Fatal(err)
	}
	return cs
}

// BenchmarkCreatePods creates b.N pods from 64 concurrent clients.
func BenchmarkCreatePods(b *testing.B) {
	cs := inProcessClient(b)
	b.ResetTimer()
	r := createPods(context.Background(), cs, "bench", b.N, 64)
	b.StopTimer()
	if r.Errors > 0 {
		b.Fatalf("%d of %d creates failed, first: %v", r.Errors, b.N, r.FirstErr)
	}
	b.ReportMetric(r.PerSecond(), "pods/s")
	b.ReportMetric(float64(r.Latency.P99.Microseconds())/1000, "p99-ms")
}

// BenchmarkListPods lists 10,000 pods (protobuf, decoded) b.N times.
func BenchmarkListPods(b *testing.B) {
	const n = 10000
	cs := inProcessClient(b)
	if r := createPods(context.Background(), cs, "bench", n, 64); r.Errors > 0 {
		b.Fatalf("%d creates failed, first: %v", r.Errors, r.FirstErr)
	}
	list := listTyped(cs, "bench", n)
	b.ResetTimer()
	for range b.N {
		if err := list(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "pods/list")
}
