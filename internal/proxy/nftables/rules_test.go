package nftables

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

const node = "node-a"

func ep(ip string, nodeName string) state.Endpoint {
	return state.Endpoint{IP: ip, Port: 8080, NodeName: nodeName, Ready: true, Serving: true}
}

func web(mut func(*state.ServicePort)) state.ServicePort {
	sp := state.ServicePort{
		Namespace: "ns", Name: "web", PortName: "http", Protocol: state.TCP, ClusterIP: "10.96.0.10", Port: 80,
		Endpoints: []state.Endpoint{ep("10.42.0.5", node), ep("10.42.1.5", "node-b")},
	}
	if mut != nil {
		mut(&sp)
	}
	return sp
}

func st(sps ...state.ServicePort) *state.State {
	return &state.State{NodeName: node, ClusterCIDR: "10.42.0.0/16", Services: sps}
}

func TestRules(t *testing.T) {
	w := web(nil)
	svc, loc, ext := serviceChain(&w), localChain(&w), externalChain(&w)
	epA, epB := endpointChain(&w, w.Endpoints[0]), endpointChain(&w, w.Endpoints[1])
	tests := []struct {
		name   string
		state  *state.State
		chains map[string][]string // exact rules of these chains
		absent []string
		maps   map[string]map[string]string // elements that must be present
	}{{
		name:  "cluster IP",
		state: st(w),
		chains: map[string][]string{
			svc: {"ip daddr 10.96.0.10 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
				"numgen random mod 2 0 goto " + epA, "goto " + epB},
			epB: {"ip saddr 10.42.1.5 jump mark-for-masquerade", "meta l4proto tcp dnat to 10.42.1.5:8080"},
		},
		absent: []string{loc, ext},
		maps:   map[string]map[string]string{mapServiceIPs: {"10.96.0.10 . tcp . 80": "goto " + svc}},
	}, {
		name:   "no endpoints are rejected",
		state:  st(web(func(sp *state.ServicePort) { sp.Endpoints = nil; sp.NodePort = 30080 })),
		absent: []string{svc, ext},
		maps: map[string]map[string]string{
			mapNoEndpointServices: {"10.96.0.10 . tcp . 80": "goto reject-chain"},
			mapNoEndpointNodePort: {"tcp . 30080": "goto reject-chain"},
		},
	}, {
		name: "NodePort with local external policy",
		state: st(web(func(sp *state.ServicePort) {
			sp.NodePort = 30080
			sp.ExternalPolicyLocal = true
			sp.Protocol = state.UDP
		})),
		chains: map[string][]string{
			externalChain(ptr(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP }))): {
				"ip saddr 10.42.0.0/16 goto " + serviceChain(ptr(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP }))),
				"fib saddr type local jump mark-for-masquerade",
				"fib saddr type local goto " + serviceChain(ptr(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP }))),
				"goto " + localChain(ptr(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP }))),
			},
		},
		maps: map[string]map[string]string{mapServiceNodePorts: {"udp . 30080": "goto " + externalChain(ptr(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP })))}},
	}, {
		name:   "internal policy Local without local endpoints drops",
		state:  st(web(func(sp *state.ServicePort) { sp.InternalPolicyLocal = true; sp.Endpoints = sp.Endpoints[1:] })),
		absent: []string{svc, loc},
		maps:   map[string]map[string]string{mapNoEndpointServices: {"10.96.0.10 . tcp . 80": "drop"}},
	}, {
		name:  "affinity",
		state: st(web(func(sp *state.ServicePort) { sp.AffinitySeconds = 60 })),
		chains: map[string][]string{
			serviceChain(&w): {
				"ip daddr 10.96.0.10 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
				"ip saddr @" + affinitySet(ptr(web(func(sp *state.ServicePort) { sp.AffinitySeconds = 60 })), w.Endpoints[0]) + " goto " + epA,
				"ip saddr @" + affinitySet(ptr(web(func(sp *state.ServicePort) { sp.AffinitySeconds = 60 })), w.Endpoints[1]) + " goto " + epB,
				"numgen random mod 2 0 goto " + epA, "goto " + epB,
			},
			epA: {"ip saddr 10.42.0.5 jump mark-for-masquerade",
				"update @" + affinitySet(ptr(web(func(sp *state.ServicePort) { sp.AffinitySeconds = 60 })), w.Endpoints[0]) + " { ip saddr }",
				"meta l4proto tcp dnat to 10.42.0.5:8080"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Rules(tc.state)
			for c, want := range tc.chains {
				if got := d.Chains[c]; !slices.Equal(got, want) {
					t.Errorf("chain %s:\n got %q\nwant %q", c, got, want)
				}
			}
			for _, c := range tc.absent {
				if _, ok := d.Chains[c]; ok {
					t.Errorf("chain %s exists", c)
				}
			}
			for m, elems := range tc.maps {
				for k, v := range elems {
					if got := d.Maps[m][k]; got != v {
						t.Errorf("map %s[%s] = %q, want %q", m, k, got, v)
					}
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// many is n Services with 3 endpoints each, some with affinity.
func many(n int) *state.State {
	s := st()
	for i := range n {
		sp := web(func(sp *state.ServicePort) {
			sp.Name = fmt.Sprintf("svc-%03d", i)
			sp.ClusterIP = fmt.Sprintf("10.96.1.%d", i+1)
			sp.NodePort = int32(30000 + i)
			sp.Endpoints = append(sp.Endpoints, ep(fmt.Sprintf("10.42.2.%d", i+1), "node-c"))
			if i%3 == 0 {
				sp.AffinitySeconds = 100
			}
		})
		s.Services = append(s.Services, sp)
	}
	return s
}

// TestPartialEqualsFull checks that applying a change as a partial sync
// leaves the table exactly as a full sync of the new state would, while
// running far fewer operations.
func TestPartialEqualsFull(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name   string
		mutate func(*state.State)
		maxOps int
	}{
		{"endpoint replaced", func(s *state.State) { s.Services[4].Endpoints[1].IP = "10.42.9.9" }, 12},
		{"endpoint gone unready", func(s *state.State) { s.Services[3].Endpoints[0].Ready = false }, 12},
		{"all endpoints gone", func(s *state.State) { s.Services[5].Endpoints = nil }, 25},
		{"service deleted", func(s *state.State) { s.Services = s.Services[1:] }, 25},
		{"affinity timeout changed", func(s *state.State) { s.Services[0].AffinitySeconds = 5 }, 30},
		{"service added", func(s *state.State) {
			s.Services = append(s.Services, web(func(sp *state.ServicePort) { sp.Name = "new"; sp.ClusterIP = "10.96.2.1" }))
		}, 20},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			fake := knftables.NewFake(knftables.IPv4Family, TableName)
			s := NewWithInterface(fake)
			if _, err := s.Sync(ctx, many(10)); err != nil {
				t.Fatal(err)
			}
			next := many(10)
			c.mutate(next)
			ops, err := s.Sync(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			if ops == 0 || ops > c.maxOps {
				t.Errorf("partial sync ran %d operations, want 1..%d", ops, c.maxOps)
			}
			fresh := knftables.NewFake(knftables.IPv4Family, TableName)
			if _, err := NewWithInterface(fresh).Sync(ctx, next); err != nil {
				t.Fatal(err)
			}
			if got, want := fake.Dump(), fresh.Dump(); got != want {
				t.Errorf("partial sync result differs from a full sync:\n--- partial\n%s\n--- full\n%s", got, want)
			}
			if ops, err := s.Sync(ctx, next); err != nil || ops != 0 {
				t.Errorf("idle sync: %d operations, %v", ops, err)
			}
		})
	}
}

func TestFullSyncRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	if _, err := NewWithInterface(fake).Sync(ctx, many(5)); err != nil {
		t.Fatal(err)
	}
	// A restarted proxy (fresh Syncer) with fewer Services.
	if _, err := NewWithInterface(fake).Sync(ctx, many(2)); err != nil {
		t.Fatal(err)
	}
	fresh := knftables.NewFake(knftables.IPv4Family, TableName)
	if _, err := NewWithInterface(fresh).Sync(ctx, many(2)); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Dump(), fresh.Dump(); got != want {
		t.Errorf("restart left objects behind:\n%s", diffLines(got, want))
	}
}

func diffLines(a, b string) string {
	var out []string
	bl := strings.Split(b, "\n")
	for _, l := range strings.Split(a, "\n") {
		if !slices.Contains(bl, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// BenchmarkRules10k is the pure part of a sync at 10,000 Services with 5
// endpoints each.
func BenchmarkRules10k(b *testing.B) {
	s := bigState(10000, 5)
	for range b.N {
		if d := Rules(s); len(d.Chains) < 60000 {
			b.Fatalf("%d chains", len(d.Chains))
		}
	}
}

// BenchmarkCachedRules10k is BenchmarkRules10k through a Cache, one
// endpoint changed per iteration, with the partial transaction built.
func BenchmarkCachedRules10k(b *testing.B) {
	c := NewCache()
	s := bigState(10000, 5)
	prev := c.Rules(s)
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	b.ResetTimer()
	for i := range b.N {
		s.Services[i%10000].Endpoints[i%5].IP = fmt.Sprintf("10.44.%d.%d", i/250%256, i%250+1)
		next := c.Rules(s)
		tx := fake.NewTransaction()
		partial(tx, prev, next)
		if n := tx.NumOperations(); n == 0 || n > 30 {
			b.Fatalf("%d operations", n)
		}
		prev = next
	}
}

func TestIntact(t *testing.T) {
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	s := NewWithInterface(fake)
	if s.Intact(t.Context()) {
		t.Error("intact before any sync")
	}
	if _, err := s.Sync(t.Context(), many(2)); err != nil {
		t.Fatal(err)
	}
	if !s.Intact(t.Context()) {
		t.Error("not intact after a sync")
	}
}
