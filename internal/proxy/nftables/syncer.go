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
func NewWithInterface(nft knftables.Interface) *Syncer { return &Syncer{nft: nft} }

// ForceFull makes the next Sync rebuild the whole table.
func (s *Syncer) ForceFull() { s.applied = nil }

// Sync programs st and returns the number of operations it ran.
func (s *Syncer) Sync(ctx context.Context, st *state.State) (int, error) {
	want := Rules(st)
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
// sets deleted once nothing refers to them.
func partial(tx *knftables.Transaction, old, want *Desired) {
	addSets(tx, want, old)
	var changed, gone []string
	for _, c := range sortedKeys(want.Chains) {
		if rules, ok := old.Chains[c]; !ok || !slices.Equal(rules, want.Chains[c]) {
			changed = append(changed, c)
			tx.Add(&knftables.Chain{Name: c})
			tx.Flush(&knftables.Chain{Name: c})
		}
	}
	for _, c := range changed {
		for _, r := range want.Chains[c] {
			tx.Add(&knftables.Rule{Chain: c, Rule: r})
		}
	}
	for _, m := range sortedKeys(want.Maps) {
		for _, k := range sortedKeys(old.Maps[m]) {
			if v, ok := want.Maps[m][k]; !ok || v != old.Maps[m][k] {
				tx.Delete(element(m, k, old.Maps[m][k]))
			}
		}
		for _, k := range sortedKeys(want.Maps[m]) {
			if v, ok := old.Maps[m][k]; !ok || v != want.Maps[m][k] {
				tx.Add(element(m, k, want.Maps[m][k]))
			}
		}
	}
	for _, c := range sortedKeys(old.Chains) {
		if _, ok := want.Chains[c]; !ok {
			gone = append(gone, c)
			tx.Flush(&knftables.Chain{Name: c})
		}
	}
	for _, c := range gone {
		tx.Delete(&knftables.Chain{Name: c})
	}
	for _, set := range sortedKeys(old.AffinitySets) {
		if _, ok := want.AffinitySets[set]; !ok {
			tx.Delete(&knftables.Set{Name: set})
		}
	}
}

// addSets adds the affinity sets of want missing from old (all if old is
// nil).
func addSets(tx *knftables.Transaction, want, old *Desired) {
	for _, set := range sortedKeys(want.AffinitySets) {
		if old != nil {
			if _, ok := old.AffinitySets[set]; ok {
				continue
			}
		}
		timeout := time.Duration(want.AffinitySets[set]) * time.Second
		tx.Add(&knftables.Set{Name: set, Type: "ipv4_addr", Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag}, Timeout: &timeout})
	}
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
