package main

import (
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of a sample by the
// nearest-rank method: the smallest value such that at least p% of the
// sample is less than or equal to it. The sample is not modified; an empty
// sample gives 0.
func Percentile(sample []time.Duration, p float64) time.Duration {
	n := len(sample)
	if n == 0 {
		return 0
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	if p <= 0 {
		return s[0]
	}
	if p >= 100 {
		return s[n-1]
	}
	// rank = ceil(p/100 * n), so that p=50, n=10 gives exactly 5.
	rank := int(p * float64(n) / 100)
	if float64(rank)*100 < p*float64(n) {
		rank++
	}
	return s[max(rank, 1)-1]
}
