package batch

import (
	"fmt"
	"strconv"
	"strings"
)

// indexInterval is an inclusive range of completion indexes.
type indexInterval struct{ first, last int32 }

// parseIndexes reads a list of indexes such as "1,3-5,7": increasing,
// non-overlapping values and intervals, all below completions.
func parseIndexes(s string, completions int32) ([]indexInterval, error) {
	if s == "" {
		return nil, nil
	}
	var out []indexInterval
	prev := int32(-1)
	for _, part := range strings.Split(s, ",") {
		limits := strings.Split(part, "-")
		if len(limits) > 2 {
			return nil, fmt.Errorf("the fragment %q violates the requirement that an index interval can have at most two parts separated by '-'", part)
		}
		var iv indexInterval
		for i, l := range limits {
			n, err := strconv.Atoi(l)
			if err != nil {
				return nil, fmt.Errorf("cannot convert string to integer for index: %q", l)
			}
			if n >= int(completions) {
				return nil, fmt.Errorf("too large index: %q", l)
			}
			if int32(n) <= prev {
				return nil, fmt.Errorf("non-increasing order, previous: %d, current: %d", prev, n)
			}
			prev = int32(n)
			if i == 0 {
				iv.first = int32(n)
			}
			iv.last = int32(n)
		}
		out = append(out, iv)
	}
	return out, nil
}

// countIndexes returns how many indexes a list names.
func countIndexes(s string, completions int32) (int32, error) {
	ivs, err := parseIndexes(s, completions)
	if err != nil {
		return 0, err
	}
	var total int32
	for _, iv := range ivs {
		total += iv.last - iv.first + 1
	}
	return total, nil
}

// firstOverlap returns the first index named by both lists, if any.
func firstOverlap(a, b []indexInterval) (int32, bool) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := max(a[i].first, b[j].first), min(a[i].last, b[j].last)
		if lo <= hi {
			return lo, true
		}
		if a[i].last < b[j].last {
			i++
		} else {
			j++
		}
	}
	return 0, false
}
