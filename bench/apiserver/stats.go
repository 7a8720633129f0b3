package main

import (
	"slices"
	"time"
)

// Summary describes a sample of durations.
type Summary struct {
	N                     int
	Min, Max, Mean        time.Duration
	Median, P50, P90, P99 time.Duration
	Total                 time.Duration
}

// Summarize returns the order statistics of d; d itself is not modified.
// An empty sample gives the zero Summary.
func Summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	var total time.Duration
	for _, v := range s {
		total += v
	}
	return Summary{
		N:      len(s),
		Min:    s[0],
		Max:    s[len(s)-1],
		Mean:   total / time.Duration(len(s)),
		Median: Median(s),
		P50:    Percentile(s, 50),
		P90:    Percentile(s, 90),
		P99:    Percentile(s, 99),
		Total:  total,
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of an ascending
// sample by the nearest-rank method: the smallest value such that at least
// p% of the sample is less than or equal to it. p <= 0 gives the minimum.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// rank = ceil(p/100 * n), computed in integers where possible so that
	// e.g. p=50, n=10 gives exactly 5 and not 5.000000001.
	rank := int(p * float64(n) / 100)
	if float64(rank)*100 < p*float64(n) {
		rank++
	}
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// Median of an ascending sample: the middle value, or the mean of the two
// middle values when the sample has an even size.
func Median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// Rate is events per second over a wall-clock duration (0 if d is 0).
func Rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
