package nftables

import (
	"slices"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// Cache computes table contents like Rules, remembering each Service
// port's chains, map elements and affinity sets so that the next
// computation redoes only the Service ports that changed (and everything
// when the node name, cluster CIDR or NodePort addresses change). Its
// result always equals Rules' for the same state. It is not safe for
// concurrent use.
type Cache struct {
	// globals holds the node name, cluster CIDR and NodePort addresses
	// the entries were computed with (its Services are unused).
	globals state.State
	valid   bool
	entries map[string]*cacheEntry // by portKey
	gen     uint64
	chains  int // the previous result's chain count, to size the next
}

// cacheEntry is one Service port's part of the table, computed from sp.
type cacheEntry struct {
	sp   state.ServicePort // a deep copy
	frag fragment
	gen  uint64 // the last rules call that used it
}

// fragment is one Service port's part of the table.
type fragment struct {
	chains   []namedChain
	elements []mapElement
	sets     []affinity
}

type namedChain struct {
	name  string
	rules []string
}

type mapElement struct{ m, key, value string }

type affinity struct {
	set     string
	timeout int32
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{} }

// Reset forgets every Service port.
func (c *Cache) Reset() { c.entries, c.valid = nil, false }

// Len is the number of Service ports cached.
func (c *Cache) Len() int { return len(c.entries) }

// Rules is Rules(st), reusing the part of every Service port that has not
// changed since the previous call. The result shares its rule slices
// with the cache: they must not be modified.
func (c *Cache) Rules(st *state.State) *Desired { return c.rules(st, true) }

// rules computes st's table content; with keep, through the cache.
func (c *Cache) rules(st *state.State, keep bool) *Desired {
	d := newDesired(st, c.chains)
	if keep && (!c.valid || !state.SameGlobals(&c.globals, st)) {
		c.entries = map[string]*cacheEntry{}
		c.globals = state.State{NodeName: st.NodeName, ClusterCIDR: st.ClusterCIDR, NodePortIPs: slices.Clone(st.NodePortIPs)}
		c.valid = true
	}
	c.gen++
	for i := range st.Services {
		sp := &st.Services[i]
		if !keep {
			d.servicePort(st, sp)
			continue
		}
		key := portKey(sp)
		e := c.entries[key]
		if e == nil || !e.sp.Equal(sp) {
			e = &cacheEntry{sp: sp.Clone(), frag: renderFragment(st, sp)}
			c.entries[key] = e
		}
		e.gen = c.gen
		for _, el := range e.frag.elements {
			d.Maps[el.m][el.key] = el.value
		}
		for _, ch := range e.frag.chains {
			d.Chains[ch.name] = ch.rules
		}
		for _, a := range e.frag.sets {
			d.AffinitySets[a.set] = a.timeout
		}
	}
	if keep {
		for k, e := range c.entries {
			if e.gen != c.gen {
				delete(c.entries, k)
			}
		}
	}
	c.chains = len(d.Chains)
	return d
}

// renderFragment is sp's part of the table.
func renderFragment(st *state.State, sp *state.ServicePort) fragment {
	d := &Desired{Chains: map[string][]string{}, Maps: map[string]map[string]string{
		mapServiceIPs: {}, mapServiceNodePorts: {}, mapNoEndpointServices: {}, mapNoEndpointNodePort: {},
	}, AffinitySets: map[string]int32{}}
	d.servicePort(st, sp)
	var f fragment
	for name, rules := range d.Chains {
		f.chains = append(f.chains, namedChain{name, slices.Clip(rules)})
	}
	for m, elems := range d.Maps {
		for k, v := range elems {
			f.elements = append(f.elements, mapElement{m, k, v})
		}
	}
	for set, timeout := range d.AffinitySets {
		f.sets = append(f.sets, affinity{set, timeout})
	}
	return f
}
