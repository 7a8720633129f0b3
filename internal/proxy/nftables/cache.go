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
	memo   state.Memo[fragment]
	chains int // the previous result's chain count, to size the next
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
func (c *Cache) Reset() { c.memo.Reset() }

// Len is the number of Service ports cached.
func (c *Cache) Len() int { return c.memo.Len() }

// Rules is Rules(st), reusing the part of every Service port that has not
// changed since the previous call. The result shares its rule slices
// with the cache: they must not be modified.
func (c *Cache) Rules(st *state.State) *Desired { return c.rules(st, true) }

// rules computes st's table content; with keep, through the cache.
func (c *Cache) rules(st *state.State, keep bool) *Desired {
	d := newDesired(st, c.chains)
	if keep {
		c.memo.Begin(st)
	}
	for i := range st.Services {
		sp := &st.Services[i]
		if !keep {
			d.servicePort(st, sp)
			continue
		}
		frag := c.memo.Get(sp, func() fragment { return renderFragment(st, sp) })
		for _, el := range frag.elements {
			d.Maps[el.m][el.key] = el.value
		}
		for _, ch := range frag.chains {
			d.Chains[ch.name] = ch.rules
		}
		for _, a := range frag.sets {
			d.AffinitySets[a.set] = a.timeout
		}
	}
	if keep {
		c.memo.End()
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
