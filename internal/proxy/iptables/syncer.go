package iptables

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// Syncer applies rule sets, remembering what it applied so that each sync
// writes only the chains that changed.
type Syncer struct {
	exec Executor
	log  *slog.Logger
	// applied is the rule set last applied successfully; nil forces a
	// full sync (at start and after a failure).
	applied Ruleset
	// cache keeps each Service port's rules between syncs, so that a
	// sync recomputes only what changed.
	cache *Cache
}

// NewSyncer returns a Syncer that runs the iptables tools with exec.
func NewSyncer(exec Executor, log *slog.Logger) *Syncer {
	if exec == nil {
		exec = HostExecutor{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Syncer{exec: exec, log: log, cache: NewCache()}
}

// ForceFull makes the next Sync recompute and rewrite every chain and
// re-check the jumps from the built-in chains.
func (s *Syncer) ForceFull() {
	s.applied = nil
	s.cache.Reset()
}

// Sync programs st. It returns the number of bytes written to
// iptables-restore (0 when nothing changed).
func (s *Syncer) Sync(ctx context.Context, st *state.State) (int, error) {
	desired := s.cache.Rules(st)
	full := s.applied == nil
	applied := s.applied
	if full {
		applied = s.existing(ctx)
	}
	input := Diff(applied, desired)
	if input != nil {
		if out, err := s.exec.Exec(ctx, input, "iptables-restore", "-w", "5", "--noflush"); err != nil {
			s.applied = nil
			return 0, fmt.Errorf("iptables-restore: %w (%s)", err, out)
		}
	}
	if full {
		if err := s.ensureJumps(ctx); err != nil {
			return len(input), err
		}
	}
	s.applied = desired
	return len(input), nil
}

// existing finds the Skiff chains already in the kernel, e.g. from an
// earlier run, so that a full sync deletes those no longer wanted.
func (s *Syncer) existing(ctx context.Context) Ruleset {
	rs := Ruleset{}
	for _, table := range tables() {
		rs[table] = map[string][]string{}
		out, err := s.exec.Exec(ctx, nil, "iptables-save", "-t", table)
		if err != nil {
			s.log.Warn("listing existing chains", "table", table, "err", err)
			continue
		}
		for _, c := range ownedChains(out) {
			rs[table][c] = []string{unknownRule}
		}
	}
	return rs
}

// ensureJumps adds the jumps from the built-in chains that are missing.
func (s *Syncer) ensureJumps(ctx context.Context) error {
	for _, j := range Jumps() {
		check := append([]string{"-w", "5", "-t", j.Table, "-C", j.Chain}, j.Args...)
		if _, err := s.exec.Exec(ctx, nil, "iptables", check...); err == nil {
			continue
		}
		insert := append([]string{"-w", "5", "-t", j.Table, "-I", j.Chain, "1"}, j.Args...)
		if out, err := s.exec.Exec(ctx, nil, "iptables", insert...); err != nil {
			return fmt.Errorf("adding jump %s/%s -> %v: %w (%s)", j.Table, j.Chain, j.Args, err, out)
		}
	}
	return nil
}

// Cleanup removes every jump and chain Skiff owns.
func (s *Syncer) Cleanup(ctx context.Context) error {
	for _, j := range Jumps() {
		del := append([]string{"-w", "5", "-t", j.Table, "-D", j.Chain}, j.Args...)
		_, _ = s.exec.Exec(ctx, nil, "iptables", del...) // absent is fine
	}
	input := Diff(s.existing(ctx), Ruleset{})
	s.applied = nil
	if input == nil {
		return nil
	}
	if out, err := s.exec.Exec(ctx, input, "iptables-restore", "-w", "5", "--noflush"); err != nil {
		return fmt.Errorf("iptables-restore: %w (%s)", err, out)
	}
	return nil
}

// Intact reports whether Skiff's rules still seem in place: the jump from
// nat PREROUTING (gone when someone flushed the built-in chains or
// deleted Skiff's). The proxy checks it periodically and resyncs fully
// when it fails, as kube-proxy does with its canary chain.
func (s *Syncer) Intact(ctx context.Context) bool {
	j := Jumps()[0]
	check := append([]string{"-w", "5", "-t", j.Table, "-C", j.Chain}, j.Args...)
	_, err := s.exec.Exec(ctx, nil, "iptables", check...)
	return err == nil
}
