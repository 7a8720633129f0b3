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
	memo state.Memo[[]chainRules]
	// sizes are the previous rule set's chain counts, to size the next.
	natSize, filterSize int
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
func (c *Cache) Reset() { c.memo.Reset() }

// Len is the number of Service ports cached.
func (c *Cache) Len() int { return c.memo.Len() }

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
	if keep {
		c.memo.Begin(st)
	}
	for i := range st.Services {
		sp := &st.Services[i]
		if !keep {
			w.servicePort(st, sp)
			continue
		}
		for _, cr := range c.memo.Get(sp, func() []chainRules { return renderFragment(st, sp) }) {
			if cur, ok := w.rs[cr.table][cr.chain]; ok {
				w.rs[cr.table][cr.chain] = append(cur, cr.rules...)
			} else {
				w.rs[cr.table][cr.chain] = cr.rules
			}
		}
	}
	if keep {
		c.memo.End()
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
