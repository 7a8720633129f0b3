package framework

import (
	"context"
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
)

type weightedScorer struct {
	pl         ScorePlugin
	normalizer ScoreNormalizer
	weight     int64
}

// PluginSpec enables a plugin; Weight matters for Score plugins only
// (0 means 1).
type PluginSpec struct {
	Plugin Plugin
	Weight int32
}

// Framework runs a fixed, ordered set of plugins at each extension point.
// The order of filters decides which reason a node reports when several
// filters would reject it: the first failing filter wins.
type Framework struct {
	preFilter []PreFilterPlugin
	filter    []FilterPlugin
	preScore  []PreScorePlugin
	score     []weightedScorer
	// filterPre[i] is the index in preFilter of filter i's plugin (-1:
	// none); scorePre likewise for score and preScore.
	filterPre, scorePre []int
	scoreBufs           sync.Pool
	preBind             []PreBindPlugin
	// extensions maps a plugin name to its PreFilterExtensions.
	extensions []namedExtensions
	events     map[string][]ClusterEvent
	workers    int
}

type namedExtensions struct {
	name string
	ext  PreFilterExtensions
}

// NewFramework registers plugins at every extension point they implement.
// parallelism is the number of goroutines filtering and scoring nodes
// (at least 1).
func NewFramework(plugins []PluginSpec, parallelism int) (*Framework, error) {
	f := &Framework{events: map[string][]ClusterEvent{}, workers: max(parallelism, 1)}
	seen := map[string]bool{}
	for _, spec := range plugins {
		p := spec.Plugin
		if seen[p.Name()] {
			return nil, fmt.Errorf("plugin %q registered twice", p.Name())
		}
		seen[p.Name()] = true
		if pl, ok := p.(PreFilterPlugin); ok {
			f.preFilter = append(f.preFilter, pl)
		}
		if pl, ok := p.(PreFilterExtensions); ok {
			f.extensions = append(f.extensions, namedExtensions{p.Name(), pl})
		}
		if pl, ok := p.(FilterPlugin); ok {
			f.filter = append(f.filter, pl)
		}
		if pl, ok := p.(PreScorePlugin); ok {
			f.preScore = append(f.preScore, pl)
		}
		if pl, ok := p.(ScorePlugin); ok {
			w := int64(spec.Weight)
			if w <= 0 {
				w = 1
			}
			n, _ := p.(ScoreNormalizer)
			f.score = append(f.score, weightedScorer{pl: pl, normalizer: n, weight: w})
		}
		if pl, ok := p.(PreBindPlugin); ok {
			f.preBind = append(f.preBind, pl)
		}
		if pl, ok := p.(EnqueueExtensions); ok {
			f.events[p.Name()] = pl.EventsToRegister()
		}
	}
	indexOf := func(name string, names []string) int {
		for i, n := range names {
			if n == name {
				return i
			}
		}
		return -1
	}
	var preNames, preScoreNames []string
	for _, pl := range f.preFilter {
		preNames = append(preNames, pl.Name())
	}
	for _, pl := range f.preScore {
		preScoreNames = append(preScoreNames, pl.Name())
	}
	for _, pl := range f.filter {
		f.filterPre = append(f.filterPre, indexOf(pl.Name(), preNames))
	}
	for _, sc := range f.score {
		f.scorePre = append(f.scorePre, indexOf(sc.pl.Name(), preScoreNames))
	}
	return f, nil
}

// skipSet is a small set of plugin indexes.
type skipSet struct {
	small [64]bool
	big   []bool
}

func (s *skipSet) init(n int) {
	if n > len(s.small) {
		s.big = make([]bool, n)
	}
}

func (s *skipSet) set(i int) {
	if s.big != nil {
		s.big[i] = true
	} else {
		s.small[i] = true
	}
}

func (s *skipSet) has(i int) bool {
	if i < 0 {
		return false
	}
	if s.big != nil {
		return s.big[i]
	}
	return s.small[i]
}

// Parallelism is the number of goroutines used for per-node work.
func (f *Framework) Parallelism() int { return f.workers }

// EventInterest returns the names of the PreFilter and Filter plugins whose
// rejections ev may resolve (plugins that register no events are
// interested in every event).
func (f *Framework) EventInterest(ev ClusterEvent) map[string]bool {
	out := map[string]bool{}
	for _, pl := range f.filter {
		evs, ok := f.events[pl.Name()]
		if !ok {
			out[pl.Name()] = true
			continue
		}
		for _, e := range evs {
			if e == ev {
				out[pl.Name()] = true
			}
		}
	}
	for _, pl := range f.preFilter {
		if _, done := out[pl.Name()]; done {
			continue
		}
		evs, ok := f.events[pl.Name()]
		if !ok {
			out[pl.Name()] = true
			continue
		}
		for _, e := range evs {
			if e == ev {
				out[pl.Name()] = true
			}
		}
	}
	return out
}

// RunPreFilterPlugins runs every PreFilter plugin and decides which Filter
// plugins run for this pod. A rejecting status carries the failing plugin's
// name; the merged PreFilterResult narrows the nodes to filter. When the
// results of several plugins leave no node, the status says which.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo) (*PreFilterResult, *Status, []string) {
	var result *PreFilterResult
	var narrowing []string
	var skipped skipSet
	skipped.init(len(f.preFilter))
	for i, pl := range f.preFilter {
		r, s := pl.PreFilter(ctx, state, pod)
		if s.IsSkip() {
			skipped.set(i)
			continue
		}
		if !s.IsSuccess() {
			s.WithPlugin(pl.Name())
			if s.IsRejected() {
				return nil, s, nil
			}
			return nil, AsStatus(fmt.Errorf("running PreFilter plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name()), nil
		}
		if r != nil {
			narrowing = append(narrowing, pl.Name())
			result = mergePreFilter(result, r)
			if len(result.NodeNames) == 0 {
				msg := fmt.Sprintf("node(s) didn't satisfy plugin(s) %v simultaneously", narrowing)
				if len(narrowing) == 1 {
					msg = fmt.Sprintf("node(s) didn't satisfy plugin %v", narrowing[0])
				}
				return nil, NewStatus(UnschedulableAndUnresolvable, msg).WithPlugin(pl.Name()), narrowing
			}
		}
	}
	state.filters = make([]FilterPlugin, 0, len(f.filter))
	for i, pl := range f.filter {
		if !skipped.has(f.filterPre[i]) {
			state.filters = append(state.filters, pl)
		}
	}
	return result, nil, narrowing
}

func mergePreFilter(a, b *PreFilterResult) *PreFilterResult {
	if a == nil {
		return b
	}
	out := &PreFilterResult{NodeNames: map[string]struct{}{}}
	for n := range a.NodeNames {
		if _, ok := b.NodeNames[n]; ok {
			out.NodeNames[n] = struct{}{}
		}
	}
	return out
}

// RunFilterPlugins runs the pod's active filters on one node and returns
// the first rejection (with the plugin name), or nil.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, ni *NodeInfo) *Status {
	filters := state.filters
	if filters == nil {
		filters = f.filter
	}
	for _, pl := range filters {
		if s := pl.Filter(ctx, state, pod, ni); !s.IsSuccess() {
			if !s.IsRejected() {
				s = AsStatus(fmt.Errorf("running %q filter plugin: %w", pl.Name(), s.AsError()))
			}
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunFilterPluginsWithNominatedPods is RunFilterPlugins that also accounts
// for pods nominated to the node with at least the pod's priority (they
// were promised the room by preemption): the pod must fit both with them
// and without them (the latter matters for anti-affinity).
func (f *Framework) RunFilterPluginsWithNominatedPods(ctx context.Context, state *CycleState, pod *PodInfo, ni *NodeInfo) *Status {
	if state.Nominated == nil || ni.Node() == nil {
		return f.RunFilterPlugins(ctx, state, pod, ni)
	}
	nominated := state.Nominated(ni.Name())
	var add []*PodInfo
	for _, p := range nominated {
		if p.Priority >= pod.Priority && p.Pod.UID != pod.Pod.UID {
			add = append(add, p)
		}
	}
	if len(add) == 0 {
		return f.RunFilterPlugins(ctx, state, pod, ni)
	}
	st := state.Clone()
	withNominated := ni.Clone()
	for _, p := range add {
		withNominated.AddPod(p)
		if s := f.RunPreFilterExtensionAddPod(ctx, st, pod, p, withNominated); !s.IsSuccess() {
			return s
		}
	}
	if s := f.RunFilterPlugins(ctx, st, pod, withNominated); !s.IsSuccess() {
		return s
	}
	return f.RunFilterPlugins(ctx, state, pod, ni)
}

// RunPreFilterExtensionAddPod tells every plugin with PreFilter state that
// add now runs on nodeInfo.
func (f *Framework) RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, pod, add *PodInfo, ni *NodeInfo) *Status {
	for _, e := range f.extensions {
		if s := e.ext.AddPod(ctx, state, pod, add, ni); !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running AddPod of %q: %w", e.name, s.AsError()))
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod tells every plugin with PreFilter state
// that remove no longer runs on nodeInfo.
func (f *Framework) RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, pod, remove *PodInfo, ni *NodeInfo) *Status {
	for _, e := range f.extensions {
		if s := e.ext.RemovePod(ctx, state, pod, remove, ni); !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running RemovePod of %q: %w", e.name, s.AsError()))
		}
	}
	return nil
}

// RunPreBindPlugins runs the PreBind plugins in order.
func (f *Framework) RunPreBindPlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodeName string) *Status {
	for _, pl := range f.preBind {
		if s := pl.PreBind(ctx, state, pod, nodeName); !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running PreBind plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
	}
	return nil
}

// FilterPluginNames lists the filters in order (for tests and logs).
func (f *Framework) FilterPluginNames() []string {
	out := make([]string, 0, len(f.filter))
	for _, pl := range f.filter {
		out = append(out, pl.Name())
	}
	return out
}

// ScoreWeights maps each Score plugin to its weight.
func (f *Framework) ScoreWeights() map[string]int64 {
	out := map[string]int64{}
	for _, sc := range f.score {
		out[sc.pl.Name()] = sc.weight
	}
	return out
}
