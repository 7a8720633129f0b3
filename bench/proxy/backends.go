package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/proxy/iptables"
	"github.com/skiff-io/skiff/internal/proxy/nftables"
	"github.com/skiff-io/skiff/internal/proxy/state"
)

// params are the sizes of one backend's run.
type params struct {
	Services, Endpoints, Changes, PureRounds int
}

// recorder sees what a Syncer ran: the text of its last load and how
// long the tool took for it.
type recorder interface {
	text() []byte
	toolTime() time.Duration
}

// syncer is what both backends' Syncer types have in common.
type syncer interface {
	Sync(ctx context.Context, st *state.State) (int, error)
}

// runBackend measures one backend in a fresh namespace of its own: the
// first full sync, then single-endpoint changes; then the references,
// loads of the generated full text by the tool alone, each into another
// fresh namespace. newSyncer makes the Syncer for the namespace and a
// recorder of what it runs.
func runBackend(ctx context.Context, log *slog.Logger, name string, p params,
	newSyncer func(*netns) (syncer, recorder, error), refs []reference) (res backendResult, err error) {
	res = backendResult{Name: name, Services: p.Services, Endpoints: p.Endpoints}
	c, err := newCluster(p.Services, p.Endpoints)
	if err != nil {
		return res, err
	}
	ns, err := newNetns(name)
	if err != nil {
		return res, err
	}
	defer func() {
		if ns != nil {
			err = errors.Join(err, ns.Delete())
		}
	}()
	s, rec, err := newSyncer(ns)
	if err != nil {
		return res, err
	}

	start := time.Now()
	st := c.State()
	res.Build = time.Since(start)
	log.Info("full sync", "backend", name, "services", p.Services, "service ports", len(st.Services))
	start = time.Now()
	n, err := s.Sync(ctx, st)
	res.Full = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%s full sync: %w", name, err)
	}
	res.FullSize = n
	text := rec.text()
	res.FullTextBytes, res.FullTool = len(text), rec.toolTime()
	log.Info("full sync done", "backend", name, "took", res.Full)

	for k := range p.Changes {
		c.changeEndpoint(k, p.Changes)
		start := time.Now()
		st := c.State()
		build := time.Since(start)
		start = time.Now()
		n, err := s.Sync(ctx, st)
		took := time.Since(start)
		if err != nil {
			return res, fmt.Errorf("%s change %d: %w", name, k+1, err)
		}
		if n == 0 {
			return res, fmt.Errorf("%s change %d: the syncer wrote nothing", name, k+1)
		}
		res.ChangeBuilds = append(res.ChangeBuilds, build)
		res.Changes = append(res.Changes, took)
		res.ChangeTools = append(res.ChangeTools, rec.toolTime())
		res.ChangeSizes = append(res.ChangeSizes, n)
		log.Info("change", "backend", name, "n", k+1, "took", took, "size", n)
	}
	err = ns.Delete()
	ns = nil
	if err != nil {
		return res, err
	}
	for i, ref := range refs {
		log.Info("reference load", "backend", name, "what", ref.What, "bytes", len(text))
		took, err := loadReference(ctx, fmt.Sprintf("%s-ref%d", name, i), ref, text)
		if err != nil {
			return res, fmt.Errorf("%s reference %q: %w", name, ref.What, err)
		}
		log.Info("reference load done", "backend", name, "what", ref.What, "took", took)
		res.Refs = append(res.Refs, refResult{What: ref.What, Took: took})
	}
	return res, nil
}

// reference is a load of the Syncer's full text by the tool alone.
type reference struct {
	What string
	Load func(context.Context, *netns, []byte) (time.Duration, error)
}

// loadReference times ref in a fresh namespace of its own.
func loadReference(ctx context.Context, nsName string, ref reference, text []byte) (took time.Duration, err error) {
	ns, err := newNetns(nsName)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, ns.Delete()) }()
	return ref.Load(ctx, ns, text)
}

// measureIPTables runs the iptables backend, with the system's
// iptables tools or, with legacy, the iptables-legacy ones (the same
// Syncer and rules; only the binaries differ).
func measureIPTables(ctx context.Context, log *slog.Logger, p params, legacy, noflushRef bool) (backendResult, error) {
	name := "iptables"
	if legacy {
		name = "iptables-legacy"
	}
	res, err := runBackend(ctx, log, name, p,
		func(ns *netns) (syncer, recorder, error) {
			ex := &recordingExecutor{ns: ns, legacy: legacy}
			return iptables.NewSyncer(ex, log), ex, nil
		},
		iptablesRefs(legacy, noflushRef))
	if err != nil {
		return res, err
	}
	res.Pure = pureIPTables(p)
	return res, nil
}

// measureNFTables runs the nftables backend.
func measureNFTables(ctx context.Context, log *slog.Logger, p params) (backendResult, error) {
	res, err := runBackend(ctx, log, "nftables", p,
		func(ns *netns) (syncer, recorder, error) {
			nft, err := newRecordingNFT(ns, nftables.TableName)
			if err != nil {
				return nil, nil, err
			}
			return nftables.NewWithInterface(nft), nft, nil
		},
		[]reference{{"nft -f of the full transaction", func(ctx context.Context, ns *netns, text []byte) (time.Duration, error) {
			return ns.timed(ctx, text, "nft", "-f", "-")
		}}})
	if err != nil {
		return res, err
	}
	res.Pure = pureNFTables(p)
	return res, nil
}

// iptablesRefs are the iptables references: a flush-and-load of the
// whole text (the main one) and, with noflush, the same text with
// --noflush, as the Syncer loads it.
func iptablesRefs(legacy, noflush bool) []reference {
	restore := "iptables-restore"
	if legacy {
		restore = legacyTool(restore)
	}
	refs := []reference{{restore + " (flush and load, no --noflush)", func(ctx context.Context, ns *netns, text []byte) (time.Duration, error) {
		return ns.timed(ctx, text, restore, "-w", "5")
	}}}
	if noflush {
		refs = append(refs, reference{restore + " --noflush of the same text", func(ctx context.Context, ns *netns, text []byte) (time.Duration, error) {
			return ns.timed(ctx, text, restore, "-w", "5", "--noflush")
		}})
	}
	return refs
}

// pureIPTables times the rule computation alone (no kernel): from
// scratch, the state from the objects, the rule set, the full restore
// text, and the rule set plus restore text after one endpoint change;
// then what the proxy does after one change, with its caches: the state
// through state.Builder and the rules through iptables.Cache, plus Diff.
func pureIPTables(p params) []pureResult {
	c, err := newCluster(p.Services, p.Endpoints)
	if err != nil {
		return nil
	}
	cache := iptables.NewCache()
	prev := cache.Rules(c.State())
	var build, rules, full, change, cachedBuild, cachedChange []time.Duration
	for k := range p.PureRounds {
		start := time.Now()
		st := c.FreshState()
		build = append(build, time.Since(start))
		start = time.Now()
		before := iptables.Rules(st)
		rules = append(rules, time.Since(start))
		start = time.Now()
		_ = iptables.Diff(iptables.Ruleset{}, before)
		full = append(full, time.Since(start))
		c.changeEndpoint(k, p.PureRounds)
		st = c.FreshState()
		start = time.Now()
		_ = iptables.Diff(before, iptables.Rules(st))
		change = append(change, time.Since(start))

		start = time.Now()
		st = c.State()
		cachedBuild = append(cachedBuild, time.Since(start))
		start = time.Now()
		next := cache.Rules(st)
		_ = iptables.Diff(prev, next)
		cachedChange = append(cachedChange, time.Since(start))
		prev = next
	}
	return []pureResult{
		{"state.Build (objects -> state, from scratch)", build},
		{"iptables.Rules (state -> rule set, from scratch)", rules},
		{"iptables.Diff (full restore text)", full},
		{"iptables Rules+Diff after one change, from scratch", change},
		{"state.Builder after one change (cached by resourceVersion)", cachedBuild},
		{"iptables Cache.Rules+Diff after one change (as the Syncer does)", cachedChange},
	}
}

// pureNFTables times nftables.Rules from scratch and nftables.Cache.Rules
// after one change (the transaction is built inside the Syncer and not
// exported).
func pureNFTables(p params) []pureResult {
	c, err := newCluster(p.Services, p.Endpoints)
	if err != nil {
		return nil
	}
	st := c.FreshState()
	var rules, cached []time.Duration
	for range p.PureRounds {
		start := time.Now()
		_ = nftables.Rules(st)
		rules = append(rules, time.Since(start))
	}
	cache := nftables.NewCache()
	_ = cache.Rules(c.State())
	for k := range p.PureRounds {
		c.changeEndpoint(k, p.PureRounds)
		st := c.State()
		start := time.Now()
		_ = cache.Rules(st)
		cached = append(cached, time.Since(start))
	}
	return []pureResult{
		{"nftables.Rules (state -> table content, from scratch)", rules},
		{"nftables Cache.Rules after one change (as the Syncer does)", cached},
	}
}
