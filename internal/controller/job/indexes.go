package job

import (
	"sort"
	"strconv"
	"strings"
)

// interval is an inclusive range of completion indexes.
type interval struct{ first, last int }

// intervals is an ordered list of non-overlapping, non-adjacent intervals,
// the form of status.completedIndexes ("1,3-5,7").
type intervals []interval

// parseIntervals reads an index list, ignoring malformed parts and indexes
// at or above completions (which an elastic job may leave behind after
// scaling down).
func parseIntervals(s string, completions int) intervals {
	if s == "" {
		return nil
	}
	var idx []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				continue
			}
		}
		for i := first; i <= last && i < completions; i++ {
			idx = append(idx, i)
		}
	}
	return intervals(nil).with(idx)
}

// with returns the union of the intervals and the given indexes.
func (iv intervals) with(idx []int) intervals {
	if len(idx) == 0 {
		return iv
	}
	all := make([]int, 0, iv.total()+len(idx))
	for _, r := range iv {
		for i := r.first; i <= r.last; i++ {
			all = append(all, i)
		}
	}
	all = append(all, idx...)
	sort.Ints(all)
	var out intervals
	for _, i := range all {
		n := len(out)
		switch {
		case n > 0 && i <= out[n-1].last:
		case n > 0 && i == out[n-1].last+1:
			out[n-1].last = i
		default:
			out = append(out, interval{i, i})
		}
	}
	return out
}

// has reports whether index i is in the list.
func (iv intervals) has(i int) bool {
	n := sort.Search(len(iv), func(k int) bool { return iv[k].last >= i })
	return n < len(iv) && iv[n].first <= i
}

// total is the number of indexes in the list.
func (iv intervals) total() int {
	n := 0
	for _, r := range iv {
		n += r.last - r.first + 1
	}
	return n
}

// String formats the list as Kubernetes does: single values, pairs as
// "a,b" and longer runs as "a-b".
func (iv intervals) String() string {
	var b strings.Builder
	for _, r := range iv {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r.first))
		switch {
		case r.last == r.first+1:
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(r.last))
		case r.last > r.first:
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.last))
		}
	}
	return b.String()
}

// overlap counts the indexes two lists share.
func overlap(a, b intervals) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		if lo, hi := max(a[i].first, b[j].first), min(a[i].last, b[j].last); lo <= hi {
			n += hi - lo + 1
		}
		if a[i].last < b[j].last {
			i++
		} else {
			j++
		}
	}
	return n
}
