// Package statetest generates random walks through proxy states for
// property tests: each step changes one thing, the way a cluster does
// (a Service added or removed, an endpoint turning unready, a port or a
// node address changing), so that incremental rule computation can be
// compared with computing from scratch.
package statetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// Walker is a random walk through states. It changes its state in place,
// slices included, as a careless caller might.
type Walker struct {
	rng  *rand.Rand
	st   state.State
	next int // the next Service number
}

// nodes are the node names endpoints run on; the walk's own node is
// among them.
func nodes() []string { return []string{"node-a", "node-b", "node-c"} }

func (w *Walker) node() string { return nodes()[w.rng.IntN(len(nodes()))] }

// NewWalker starts a walk from n random Service ports.
func NewWalker(seed uint64, n int) *Walker {
	w := &Walker{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), st: state.State{NodeName: "node-a", ClusterCIDR: "10.42.0.0/16"}}
	for range n {
		w.addService()
	}
	w.sort()
	return w
}

// State is the current state; the walk changes it at the next Step.
func (w *Walker) State() *state.State { return &w.st }

// Step makes one random change and returns the state and what changed.
func (w *Walker) Step() (*state.State, string) {
	steps := []struct {
		name string
		do   func() bool
	}{
		{"add service", func() bool { w.addService(); return true }},
		{"remove service", w.removeService},
		{"toggle endpoint ready", func() bool {
			return w.endpoint(func(e *state.Endpoint) { e.Ready = !e.Ready; e.Serving = e.Ready || w.rng.IntN(2) == 0 })
		}},
		{"toggle endpoint terminating", func() bool {
			return w.endpoint(func(e *state.Endpoint) { e.Terminating = !e.Terminating })
		}},
		{"move endpoint", func() bool { return w.endpoint(func(e *state.Endpoint) { e.IP = w.ip("10.42") }) }},
		{"move endpoint to another node", func() bool {
			return w.endpoint(func(e *state.Endpoint) { e.NodeName = w.node() })
		}},
		{"add endpoint", func() bool {
			return w.port(func(sp *state.ServicePort) { sp.Endpoints = append(sp.Endpoints, w.newEndpoint()); sortEndpoints(sp) })
		}},
		{"remove endpoint", func() bool {
			return w.port(func(sp *state.ServicePort) {
				if len(sp.Endpoints) > 0 {
					sp.Endpoints = slices.Delete(sp.Endpoints, 0, 1)
				}
			})
		}},
		{"change port", func() bool { return w.port(func(sp *state.ServicePort) { sp.Port = int32(1 + w.rng.IntN(1000)) }) }},
		{"change node port", func() bool {
			return w.port(func(sp *state.ServicePort) { sp.NodePort = int32(w.rng.IntN(2)) * int32(30000+w.rng.IntN(2000)) })
		}},
		{"change target port", func() bool {
			return w.port(func(sp *state.ServicePort) {
				for i := range sp.Endpoints {
					sp.Endpoints[i].Port++
				}
			})
		}},
		{"flip policies", func() bool {
			return w.port(func(sp *state.ServicePort) {
				sp.InternalPolicyLocal = w.rng.IntN(2) == 0
				sp.ExternalPolicyLocal = w.rng.IntN(2) == 0
			})
		}},
		{"change affinity", func() bool {
			return w.port(func(sp *state.ServicePort) { sp.AffinitySeconds = int32(w.rng.IntN(3) * 100) })
		}},
		{"change external IPs", func() bool {
			return w.port(func(sp *state.ServicePort) {
				if len(sp.ExternalIPs) > 0 && w.rng.IntN(2) == 0 {
					sp.ExternalIPs[0] = w.ip("192.0.2") // in place
				} else {
					sp.ExternalIPs = nil
					if w.rng.IntN(2) == 0 {
						sp.ExternalIPs = []string{w.ip("192.0.2")}
					}
				}
				sp.LoadBalancerIPs = nil
				if w.rng.IntN(3) == 0 {
					sp.LoadBalancerIPs = []string{w.ip("198.51.100")}
				}
			})
		}},
		{"change node IPs", func() bool {
			switch w.rng.IntN(3) {
			case 0:
				w.st.NodePortIPs = nil
			case 1:
				w.st.NodePortIPs = []string{w.ip("172.16.0")}
			default:
				w.st.NodePortIPs = append(w.st.NodePortIPs, w.ip("172.16.1"))
			}
			return true
		}},
		{"change cluster CIDR", func() bool {
			w.st.ClusterCIDR = []string{"", "10.42.0.0/16", "10.88.0.0/16"}[w.rng.IntN(3)]
			return true
		}},
		{"change node name", func() bool { w.st.NodeName = w.node(); return true }},
		{"nothing", func() bool { return true }},
	}
	for {
		s := steps[w.rng.IntN(len(steps))]
		if s.do() {
			w.sort()
			return &w.st, s.name
		}
	}
}

func (w *Walker) ip(prefix string) string {
	return fmt.Sprintf("%s.%d", prefix, 1+w.rng.IntN(250))
}

func (w *Walker) newEndpoint() state.Endpoint {
	ready := w.rng.IntN(4) != 0
	return state.Endpoint{
		IP: fmt.Sprintf("10.42.%d.%d", w.rng.IntN(4), 1+w.rng.IntN(250)), Port: 8080,
		NodeName: w.node(), Ready: ready, Serving: ready || w.rng.IntN(2) == 0,
		Terminating: !ready && w.rng.IntN(2) == 0,
	}
}

func (w *Walker) addService() {
	w.next++
	sp := state.ServicePort{
		Namespace: "ns", Name: fmt.Sprintf("svc-%d", w.next), PortName: "http", Protocol: state.TCP,
		ClusterIP: fmt.Sprintf("10.96.%d.%d", w.next/250%256, w.next%250+1), Port: 80,
	}
	if w.rng.IntN(3) == 0 {
		sp.Protocol, sp.PortName = state.UDP, "dns"
	}
	if w.rng.IntN(3) == 0 {
		sp.NodePort = int32(30000 + w.rng.IntN(2000))
	}
	sp.InternalPolicyLocal = w.rng.IntN(5) == 0
	sp.ExternalPolicyLocal = w.rng.IntN(3) == 0
	if w.rng.IntN(4) == 0 {
		sp.AffinitySeconds = 10800
	}
	if w.rng.IntN(5) == 0 {
		sp.ExternalIPs = []string{w.ip("192.0.2")}
	}
	for range w.rng.IntN(5) {
		sp.Endpoints = append(sp.Endpoints, w.newEndpoint())
	}
	sortEndpoints(&sp)
	w.st.Services = append(w.st.Services, sp)
}

func (w *Walker) removeService() bool {
	if len(w.st.Services) == 0 {
		return false
	}
	i := w.rng.IntN(len(w.st.Services))
	w.st.Services = slices.Delete(w.st.Services, i, i+1)
	return true
}

// port changes one random Service port in place.
func (w *Walker) port(f func(*state.ServicePort)) bool {
	if len(w.st.Services) == 0 {
		return false
	}
	f(&w.st.Services[w.rng.IntN(len(w.st.Services))])
	return true
}

// endpoint changes one random endpoint in place.
func (w *Walker) endpoint(f func(*state.Endpoint)) bool {
	if len(w.st.Services) == 0 {
		return false
	}
	sp := &w.st.Services[w.rng.IntN(len(w.st.Services))]
	if len(sp.Endpoints) == 0 {
		return false
	}
	f(&sp.Endpoints[w.rng.IntN(len(sp.Endpoints))])
	sortEndpoints(sp)
	return true
}

// sortEndpoints keeps sp's endpoints sorted and unique, as Build makes
// them.
func sortEndpoints(sp *state.ServicePort) {
	sort.SliceStable(sp.Endpoints, func(i, j int) bool {
		a, b := sp.Endpoints[i], sp.Endpoints[j]
		if a.IP != b.IP {
			return a.IP < b.IP
		}
		return a.Port < b.Port
	})
	sp.Endpoints = slices.CompactFunc(sp.Endpoints, func(a, b state.Endpoint) bool { return a.Addr() == b.Addr() })
}

// sort keeps the Service ports in Build's order.
func (w *Walker) sort() {
	sort.SliceStable(w.st.Services, func(i, j int) bool {
		a, b := &w.st.Services[i], &w.st.Services[j]
		if a.String() != b.String() {
			return a.String() < b.String()
		}
		return a.Protocol < b.Protocol
	})
}
