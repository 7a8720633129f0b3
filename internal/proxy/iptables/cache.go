package iptables

import (
	"slices"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// Cache renders rule sets like Rules, remembering each Service port's
// rules so that the next rule set recomputes only the Service ports that
// changed (and everything when the node name, cluster CIDR or NodePort
// addresses change). Its result always equals Rules' for the same state.
// It is not safe for concurrent use.
type Cache struct {
	// globals holds the node name, cluster CIDR and NodePort addresses
	// the entries were rendered with (its Services are unused).
	globals state.State
	valid   bool
	entries map[string]*cacheEntry // by portKey
	gen     uint64
	// sizes are the previous rule set's chain counts, to size the next.
	natSize, filterSize int
}

// cacheEntry is one Service port's rules, as rendered from sp.
type cacheEntry struct {
	sp   state.ServicePort // a deep copy
	frag []chainRules
	gen  uint64 // the last rules call that used it
}

// chainRules is one Service port's rules in one chain: all of them for a
// chain of its own, its part of a shared one (SKIFF-SERVICES,
// SKIFF-EXTERNAL-SERVICES, SKIFF-NODEPORTS).
type chainRules struct {
	table, chain string
	rules        []string // cap == len: appending copies
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{} }

// Reset forgets every Service port.
func (c *Cache) Reset() {
	c.entries, c.valid = nil, false
}

// Len is the number of Service ports cached.
func (c *Cache) Len() int { return len(c.entries) }

// Rules is Rules(st), reusing the rules of every Service port that has
// not changed since the previous call. The rule set shares its slices
// with the cache: they must not be modified.
func (c *Cache) Rules(st *state.State) Ruleset {
	return c.rules(st, true)
}

// rules computes st's rule set; with keep, through the cache.
func (c *Cache) rules(st *state.State, keep bool) Ruleset {
	w := &ruleWriter{rs: Ruleset{
		TableNAT:    make(map[string][]string, c.natSize),
		TableFilter: make(map[string][]string, c.filterSize),
	}}
	header(w)
	if keep && (!c.valid || !state.SameGlobals(&c.globals, st)) {
		c.entries = map[string]*cacheEntry{}
		c.globals = state.State{NodeName: st.NodeName, ClusterCIDR: st.ClusterCIDR, NodePortIPs: slices.Clone(st.NodePortIPs)}
		c.valid = true
	}
	c.gen++
	for i := range st.Services {
		sp := &st.Services[i]
		if !keep {
			w.servicePort(st, sp)
			continue
		}
		key := portKey(sp)
		e := c.entries[key]
		if e == nil || !e.sp.Equal(sp) {
			e = &cacheEntry{sp: sp.Clone(), frag: renderFragment(st, sp)}
			c.entries[key] = e
		}
		e.gen = c.gen
		for _, cr := range e.frag {
			if cur, ok := w.rs[cr.table][cr.chain]; ok {
				w.rs[cr.table][cr.chain] = append(cur, cr.rules...)
			} else {
				w.rs[cr.table][cr.chain] = cr.rules
			}
		}
	}
	if keep {
		for k, e := range c.entries {
			if e.gen != c.gen {
				delete(c.entries, k)
			}
		}
	}
	trailer(w, st)
	c.natSize, c.filterSize = len(w.rs[TableNAT]), len(w.rs[TableFilter])
	return w.rs
}

// renderFragment is sp's part of the rule set.
func renderFragment(st *state.State, sp *state.ServicePort) []chainRules {
	w := &ruleWriter{rs: Ruleset{TableNAT: {}, TableFilter: {}}}
	w.servicePort(st, sp)
	var frag []chainRules
	for _, table := range tables() {
		for chain, rules := range w.rs[table] {
			frag = append(frag, chainRules{table: table, chain: chain, rules: slices.Clip(rules)})
		}
	}
	return frag
}
