package framework

import (
	"context"
	"fmt"
)

// RunPreScorePlugins prepares scoring and decides which scorers run.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status {
	var skipped skipSet
	skipped.init(len(f.preScore))
	for i, pl := range f.preScore {
		s := pl.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			skipped.set(i)
			continue
		}
		if !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running PreScore plugin %q: %w", pl.Name(), s.AsError()))
		}
	}
	state.scorers = make([]weightedScorer, 0, len(f.score))
	for i, sc := range f.score {
		if !skipped.has(f.scorePre[i]) {
			state.scorers = append(state.scorers, sc)
		}
	}
	return nil
}

// RunScorePlugins scores every node with every active scorer, normalises
// each plugin's scores, applies the weights and returns the totals in the
// order of nodes, reusing dst's storage.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo, dst []NodeScore) ([]NodeScore, *Status) {
	totals := dst[:0]
	for _, n := range nodes {
		totals = append(totals, NodeScore{Name: n.Name()})
	}
	scorers := state.scorers
	if len(scorers) == 0 {
		return totals, nil
	}
	bufs, _ := f.scoreBufs.Get().(*[][]NodeScore)
	if bufs == nil {
		bufs = new([][]NodeScore)
	}
	defer f.scoreBufs.Put(bufs)
	for len(*bufs) < len(scorers) {
		*bufs = append(*bufs, nil)
	}
	perPlugin := (*bufs)[:len(scorers)]
	for j := range perPlugin {
		if cap(perPlugin[j]) < len(nodes) {
			perPlugin[j] = make([]NodeScore, len(nodes))
		}
		perPlugin[j] = perPlugin[j][:len(nodes)]
	}
	var errs []error
	if f.workers > 1 {
		errs = make([]error, f.workers)
	}
	var seqErr error
	Until(ctx, f.workers, len(nodes), func(worker, i int) {
		ni := nodes[i]
		for j, sc := range scorers {
			s, st := sc.pl.Score(ctx, state, pod, ni)
			if !st.IsSuccess() {
				err := fmt.Errorf("plugin %q scoring node %q: %w", sc.pl.Name(), ni.Name(), st.AsError())
				if errs != nil {
					errs[worker] = err
				} else {
					seqErr = err
				}
				return
			}
			perPlugin[j][i] = NodeScore{Name: totals[i].Name, Score: s}
		}
	})
	if seqErr != nil {
		return nil, AsStatus(seqErr)
	}
	for _, err := range errs {
		if err != nil {
			return nil, AsStatus(err)
		}
	}
	for j, sc := range scorers {
		if sc.normalizer != nil {
			if st := sc.normalizer.NormalizeScore(ctx, state, pod, perPlugin[j]); !st.IsSuccess() {
				return nil, AsStatus(fmt.Errorf("normalizing scores of %q: %w", sc.pl.Name(), st.AsError()))
			}
		}
		for i := range perPlugin[j] {
			s := perPlugin[j][i].Score
			if s < MinNodeScore || s > MaxNodeScore {
				return nil, AsStatus(fmt.Errorf("plugin %q returned score %d for node %q, outside [%d, %d]",
					sc.pl.Name(), s, nodes[i].Name(), MinNodeScore, MaxNodeScore))
			}
			totals[i].Score += s * sc.weight
		}
	}
	return totals, nil
}

// DefaultNormalizeScore scales scores so the largest becomes MaxNodeScore
// (all stay 0 if all are 0); with reverse, the scale is flipped so the
// largest raw score gets the lowest result.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores []NodeScore) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := scores[i].Score * maxPriority / highest
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}
