package nftables

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/state/statetest"
)

// TestCacheEqualsRules walks random sequences of changes and checks after
// every step that the cached table content equals one computed from
// scratch.
func TestCacheEqualsRules(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		w := statetest.NewWalker(seed, 20)
		c := NewCache()
		for step := range 300 {
			st, what := w.Step()
			if diff := cmp.Diff(Rules(st), c.Rules(st)); diff != "" {
				t.Fatalf("seed %d step %d (%s): cached content differs (-fresh +cached):\n%s", seed, step, what, diff)
			}
			if c.Len() != len(st.Services) {
				t.Fatalf("seed %d step %d: cache holds %d ports, state has %d", seed, step, c.Len(), len(st.Services))
			}
		}
	}
}

// TestIncrementalSyncEqualsFresh programs a random walk with one Syncer,
// partial sync after partial sync, and checks that the table always
// equals what a fresh Syncer's full sync of the same state makes.
func TestIncrementalSyncEqualsFresh(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 2; seed++ {
		w := statetest.NewWalker(seed, 15)
		fake := knftables.NewFake(knftables.IPv4Family, TableName)
		s := NewWithInterface(fake)
		for step := range 200 {
			st, what := w.Step()
			if _, err := s.Sync(ctx, st); err != nil {
				t.Fatalf("seed %d step %d (%s): %v", seed, step, what, err)
			}
			fresh := knftables.NewFake(knftables.IPv4Family, TableName)
			if _, err := NewWithInterface(fresh).Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			if got, want := normalized(fake.Dump()), normalized(fresh.Dump()); got != want {
				t.Fatalf("seed %d step %d (%s): incremental table differs from a fresh one:\n%s\n---\n%s", seed, step, what, diffLines(got, want), diffLines(want, got))
			}
		}
	}
}

// normalized is a knftables.Fake dump with the map elements sorted: the
// fake lists them in the order they were added, the kernel's maps have no
// order. Chains and rules keep theirs.
func normalized(dump string) string {
	var elems, rest []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "add element ") {
			elems = append(elems, l)
		} else {
			rest = append(rest, l)
		}
	}
	slices.Sort(elems)
	return strings.Join(append(rest, elems...), "\n")
}
