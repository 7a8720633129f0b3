package state

import "slices"

// Key identifies a Service port across syncs: namespace, name, port name
// and protocol.
func (sp *ServicePort) Key() string { return sp.String() + "/" + string(sp.Protocol) }

// Memo remembers what a backend computed from each Service port (its
// rendered rules), so that a sync recomputes only the ports that changed.
// Everything is forgotten when the node name, cluster CIDR or NodePort
// addresses change, since every port's rules depend on them. A pass is
// Begin, Get for every port of the state, End. It is not safe for
// concurrent use.
type Memo[F any] struct {
	// globals holds the node name, cluster CIDR and NodePort addresses
	// the values were computed with (its Services are unused).
	globals State
	valid   bool
	entries map[string]*memoEntry[F]
	gen     uint64
}

type memoEntry[F any] struct {
	sp  ServicePort // a deep copy of what val was computed from
	val F
	gen uint64 // the last pass that used it
}

// Begin starts a pass over st, forgetting everything if st's globals
// differ from the previous pass's.
func (m *Memo[F]) Begin(st *State) {
	if !m.valid || !SameGlobals(&m.globals, st) {
		m.entries = map[string]*memoEntry[F]{}
		m.globals = State{NodeName: st.NodeName, ClusterCIDR: st.ClusterCIDR, NodePortIPs: slices.Clone(st.NodePortIPs)}
		m.valid = true
	}
	m.gen++
}

// Get returns sp's value, calling compute when sp is new or changed since
// the value was computed.
func (m *Memo[F]) Get(sp *ServicePort, compute func() F) F {
	key := sp.Key()
	e := m.entries[key]
	if e == nil || !e.sp.Equal(sp) {
		e = &memoEntry[F]{sp: sp.Clone(), val: compute()}
		m.entries[key] = e
	}
	e.gen = m.gen
	return e.val
}

// End forgets the Service ports the pass did not Get (deleted ones).
func (m *Memo[F]) End() {
	for k, e := range m.entries {
		if e.gen != m.gen {
			delete(m.entries, k)
		}
	}
}

// Reset forgets everything.
func (m *Memo[F]) Reset() { m.entries, m.valid = nil, false }

// Len is the number of Service ports remembered.
func (m *Memo[F]) Len() int { return len(m.entries) }
