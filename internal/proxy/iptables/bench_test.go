package iptables

import (
	"fmt"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// bigState is n Services with eps endpoints each.
func bigState(n, eps int) *state.State {
	s := &state.State{NodeName: node, ClusterCIDR: "10.42.0.0/16"}
	for i := 0; i < n; i++ {
		sp := state.ServicePort{Namespace: "ns", Name: fmt.Sprintf("svc-%05d", i), PortName: "http", Protocol: state.TCP,
			ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), Port: 80, NodePort: int32(30000 + i%2000)}
		for j := 0; j < eps; j++ {
			sp.Endpoints = append(sp.Endpoints, ep(fmt.Sprintf("10.42.%d.%d", (i*eps+j)/250%256, (i*eps+j)%250+1), 8080, "node-b"))
		}
		s.Services = append(s.Services, sp)
	}
	return s
}

// BenchmarkRules10k is the pure part of a sync at 10,000 Services with 5
// endpoints each: computing the rules and the restore input after one
// endpoint changed.
func BenchmarkRules10k(b *testing.B) {
	before := Rules(bigState(10000, 5))
	after := bigState(10000, 5)
	after.Services[5000].Endpoints[2].IP = "10.43.0.1"
	b.ResetTimer()
	for range b.N {
		d := Diff(before, Rules(after))
		if len(d) == 0 || len(d) > 4000 {
			b.Fatalf("diff is %d bytes", len(d))
		}
	}
}

// BenchmarkKernelSync10k applies 10,000 Services with 5 endpoints each to
// the kernel of a fresh network namespace (root only), then measures one
// endpoint change per iteration; the initial full sync is reported as
// full-sync-ms.
func BenchmarkKernelSync10k(b *testing.B) {
	ns := scratchNetns(b)
	ctx := b.Context()
	s := NewSyncer(NetnsExecutor{Netns: ns}, nil)
	st := bigState(10000, 5)
	start := time.Now()
	if _, err := s.Sync(ctx, st); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "full-sync-ms")
	b.ResetTimer()
	for i := range b.N {
		st.Services[i%10000].Endpoints[i%5].IP = fmt.Sprintf("10.44.%d.%d", i/250%256, i%250+1)
		if _, err := s.Sync(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedRules10k is BenchmarkRules10k through a Cache: after one
// endpoint change only that Service port's rules are recomputed.
func BenchmarkCachedRules10k(b *testing.B) {
	c := NewCache()
	s := bigState(10000, 5)
	prev := c.Rules(s)
	b.ResetTimer()
	for i := range b.N {
		s.Services[i%10000].Endpoints[i%5].IP = fmt.Sprintf("10.44.%d.%d", i/250%256, i%250+1)
		next := c.Rules(s)
		if d := Diff(prev, next); len(d) == 0 || len(d) > 4000 {
			b.Fatalf("diff is %d bytes", len(d))
		}
		prev = next
	}
}
