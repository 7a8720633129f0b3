package iptables

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skiff-io/skiff/internal/proxy/state/statetest"
)

// TestCacheEqualsRules walks random sequences of changes and checks after
// every step that the cached rule set equals one computed from scratch,
// and that the Diff between consecutive cached rule sets equals the Diff
// between the from-scratch ones.
func TestCacheEqualsRules(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		w := statetest.NewWalker(seed, 20)
		c := NewCache()
		prevCached, prevFresh := Ruleset{}, Ruleset{}
		for step := range 300 {
			st, what := w.Step()
			got, want := c.Rules(st), Rules(st)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("seed %d step %d (%s): cached rules differ (-fresh +cached):\n%s", seed, step, what, diff)
			}
			if a, b := string(Diff(prevFresh, want)), string(Diff(prevCached, got)); a != b {
				t.Fatalf("seed %d step %d (%s): diffs differ:\n--- fresh\n%s\n--- cached\n%s", seed, step, what, a, b)
			}
			if c.Len() != len(st.Services) {
				t.Fatalf("seed %d step %d: cache holds %d ports, state has %d", seed, step, c.Len(), len(st.Services))
			}
			prevCached, prevFresh = got, Rules(st)
		}
	}
}

// TestCacheReusesUnchanged checks that an unchanged Service port's chains
// are the very slices of the previous rule set, not recomputed.
func TestCacheReusesUnchanged(t *testing.T) {
	c := NewCache()
	s := threeServices()
	first := c.Rules(s)
	s.Services[0].Endpoints = s.Services[0].Endpoints[:1]
	second := c.Rules(s)
	same := func(chain string) bool {
		a, b := first[TableNAT][chain], second[TableNAT][chain]
		return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
	}
	if !same(svcChain(&s.Services[1])) {
		t.Errorf("unchanged Service's chain was recomputed")
	}
	if same(svcChain(&s.Services[0])) {
		t.Errorf("changed Service's chain was reused")
	}
	// A global input changes: everything is recomputed.
	s.ClusterCIDR = "10.88.0.0/16"
	if third := c.Rules(s); &third[TableNAT][svcChain(&s.Services[1])][0] == &second[TableNAT][svcChain(&s.Services[1])][0] {
		t.Errorf("chain reused after the cluster CIDR changed")
	}
}
