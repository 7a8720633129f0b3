package nftables

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// baseChain is a chain hooked into the kernel's packet path.
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
	rules    []string
}

// Numeric priorities: dstnat, srcnat, and just before filter (nft 1.0.6
// accepts the names only for some hooks).
func baseChains() []baseChain {
	newOnly := "ct state new "
	return []baseChain{
		{"nat-prerouting", knftables.NATType, knftables.PreroutingHook, "-100", []string{"jump " + chainServices}},
		{"nat-output", knftables.NATType, knftables.OutputHook, "-100", []string{"jump " + chainServices}},
		{"nat-postrouting", knftables.NATType, knftables.PostroutingHook, "100", []string{"jump " + chainMasquerading}},
		{"filter-input", knftables.FilterType, knftables.InputHook, "-1", []string{newOnly + "jump " + chainNodePortsCheck, newOnly + "jump " + chainServiceCheck}},
		{"filter-forward", knftables.FilterType, knftables.ForwardHook, "-1", []string{newOnly + "jump " + chainNodePortsCheck, newOnly + "jump " + chainServiceCheck}},
		{"filter-output", knftables.FilterType, knftables.OutputHook, "-1", []string{newOnly + "jump " + chainServiceCheck}},
	}
}

func mapTypes() map[string]string {
	return map[string]string{
		mapServiceIPs:         "ipv4_addr . inet_proto . inet_service : verdict",
		mapNoEndpointServices: "ipv4_addr . inet_proto . inet_service : verdict",
		mapServiceNodePorts:   "inet_proto . inet_service : verdict",
		mapNoEndpointNodePort: "inet_proto . inet_service : verdict",
	}
}

// Syncer applies Desired states to the table, one transaction per sync,
// touching only the chains, elements and sets that changed.
type Syncer struct {
	nft     knftables.Interface
	applied *Desired // nil: the next sync is full
	// cache keeps each Service port's part of the table between syncs,
	// so that a sync recomputes only what changed.
	cache *Cache
}

// New returns a Syncer for table TableName in family ip of the current
// network namespace.
func New() (*Syncer, error) {
	nft, err := knftables.New(knftables.IPv4Family, TableName)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return NewWithInterface(nft), nil
}

// NewWithInterface returns a Syncer using nft (a knftables.Fake in tests).
func NewWithInterface(nft knftables.Interface) *Syncer { return &Syncer{nft: nft, cache: NewCache()} }

// ForceFull makes the next Sync recompute and rebuild the whole table.
func (s *Syncer) ForceFull() {
	s.applied = nil
	s.cache.Reset()
}

// Sync programs st and returns the number of operations it ran.
func (s *Syncer) Sync(ctx context.Context, st *state.State) (int, error) {
	want := s.cache.Rules(st)
	tx := s.nft.NewTransaction()
	if s.applied == nil {
		if err := s.full(ctx, tx, want); err != nil {
			return 0, err
		}
	} else {
		partial(tx, s.applied, want)
	}
	n := tx.NumOperations()
	if n == 0 {
		return 0, nil
	}
	if err := s.nft.Run(ctx, tx); err != nil {
		s.applied = nil
		return 0, fmt.Errorf("nftables: %w", err)
	}
	s.applied = want
	return n, nil
}

// full rebuilds the table in one transaction: the old table, whatever
// an earlier run left in it, is deleted and everything re-added.
// Established connections keep their NAT (it lives in conntrack).
func (s *Syncer) full(ctx context.Context, tx *knftables.Transaction, want *Desired) error {
	_, err := s.nft.List(ctx, "chains")
	switch {
	case err == nil:
		tx.Delete(&knftables.Table{})
	case !knftables.IsNotFound(err):
		return fmt.Errorf("nftables: listing chains: %w", err)
	}
	tx.Add(&knftables.Table{})
	for name, typ := range mapTypes() {
		tx.Add(&knftables.Map{Name: name, Type: typ})
	}
	addSets(tx, want, nil)
	for _, c := range sortedKeys(want.Chains) {
		tx.Add(&knftables.Chain{Name: c})
	}
	for _, b := range baseChains() {
		tx.Add(&knftables.Chain{Name: b.name, Type: &b.typ, Hook: &b.hook, Priority: &b.priority})
		for _, r := range b.rules {
			tx.Add(&knftables.Rule{Chain: b.name, Rule: r})
		}
	}
	for _, c := range sortedKeys(want.Chains) {
		for _, r := range want.Chains[c] {
			tx.Add(&knftables.Rule{Chain: c, Rule: r})
		}
	}
	for _, m := range sortedKeys(want.Maps) {
		for _, k := range sortedKeys(want.Maps[m]) {
			tx.Add(element(m, k, want.Maps[m][k]))
		}
	}
	return nil
}

// partial turns old into want: new and changed chains are flushed and
// refilled, map elements updated one by one, then vanished chains and
// sets deleted once nothing refers to them. Only what differs is sorted
// (into a stable order of operations), so that a small change to a large
// table costs little.
func partial(tx *knftables.Transaction, old, want *Desired) {
	addSets(tx, want, old)
	changed := sortedWhere(want.Chains, func(c string, rules []string) bool {
		old, ok := old.Chains[c]
		return !ok || !slices.Equal(old, rules)
	})
	for _, c := range changed {
		tx.Add(&knftables.Chain{Name: c})
		tx.Flush(&knftables.Chain{Name: c})
	}
	for _, c := range changed {
		for _, r := range want.Chains[c] {
			tx.Add(&knftables.Rule{Chain: c, Rule: r})
		}
	}
	for _, m := range sortedKeys(want.Maps) {
		stale := sortedWhere(old.Maps[m], func(k, v string) bool {
			w, ok := want.Maps[m][k]
			return !ok || w != v
		})
		for _, k := range stale {
			tx.Delete(element(m, k, old.Maps[m][k]))
		}
		fresh := sortedWhere(want.Maps[m], func(k, v string) bool {
			o, ok := old.Maps[m][k]
			return !ok || o != v
		})
		for _, k := range fresh {
			tx.Add(element(m, k, want.Maps[m][k]))
		}
	}
	gone := sortedWhere(old.Chains, func(c string, _ []string) bool {
		_, ok := want.Chains[c]
		return !ok
	})
	for _, c := range gone {
		tx.Flush(&knftables.Chain{Name: c})
	}
	for _, c := range gone {
		tx.Delete(&knftables.Chain{Name: c})
	}
	for _, set := range sortedWhere(old.AffinitySets, func(set string, _ int32) bool {
		_, ok := want.AffinitySets[set]
		return !ok
	}) {
		tx.Delete(&knftables.Set{Name: set})
	}
}

// addSets adds the affinity sets of want missing from old (all if old is
// nil).
func addSets(tx *knftables.Transaction, want, old *Desired) {
	missing := sortedWhere(want.AffinitySets, func(set string, _ int32) bool {
		if old == nil {
			return true
		}
		_, ok := old.AffinitySets[set]
		return !ok
	})
	for _, set := range missing {
		timeout := time.Duration(want.AffinitySets[set]) * time.Second
		tx.Add(&knftables.Set{Name: set, Type: "ipv4_addr", Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag}, Timeout: &timeout})
	}
}

// sortedWhere is the sorted keys of m whose entries satisfy keep.
func sortedWhere[V any](m map[string]V, keep func(string, V) bool) []string {
	var keys []string
	for k, v := range m {
		if keep(k, v) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func element(m, key, value string) *knftables.Element {
	return &knftables.Element{Map: m, Key: strings.Split(key, " . "), Value: []string{value}}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Intact reports whether the table still has its chains (false when
// someone deleted or flushed the ruleset).
func (s *Syncer) Intact(ctx context.Context) bool {
	chains, err := s.nft.List(ctx, "chains")
	return err == nil && slices.Contains(chains, chainServices)
}
