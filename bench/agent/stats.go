package main

import (
	"slices"
	"time"
)

// Summary holds the order statistics of a sample of latencies.
type Summary struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summarize returns the nearest-rank percentiles of d (d is not modified).
// An empty sample gives the zero Summary.
func Summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return Summary{N: len(s), P50: Percentile(s, 50), P90: Percentile(s, 90), P99: Percentile(s, 99), Max: s[len(s)-1]}
}

// Percentile returns the p-th percentile of an ascending sample by the
// nearest-rank method: the smallest value such that at least p% of the
// sample is less than or equal to it. p <= 0 gives the minimum, p >= 100
// the maximum, an empty sample 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case p <= 0:
		return sorted[0]
	case p >= 100:
		return sorted[n-1]
	}
	// rank = ceil(p/100 * n), exact for integral products such as p=50, n=10.
	rank := int(p * float64(n) / 100)
	if float64(rank)*100 < p*float64(n) {
		rank++
	}
	return sorted[max(rank, 1)-1]
}

// Ratio is a/b, or 0 when b is 0 (nothing to compare with).
func Ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
