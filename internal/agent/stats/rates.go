package stats

import "time"

// cpuRates remembers the previous cumulative CPU sample of each node, pod or
// container so that usage in nano cores can be derived from two samples. The
// zero value is ready for use; it is not safe for concurrent use.
type cpuRates struct {
	prev map[string]cpuSample
}

// cpuSample is one cumulative reading and the rate last derived from it.
type cpuSample struct {
	at    time.Time
	usage uint64
	rate  *uint64
}

// nanoCores records a cumulative sample for key and returns the average
// usage, in billionths of a core, since the previous sample. It returns nil
// for the first sample and after the counter went backwards (a restarted
// container); a sample no newer than the previous one repeats the previous
// rate.
func (r *cpuRates) nanoCores(key string, at time.Time, usage uint64) *uint64 {
	if r.prev == nil {
		r.prev = map[string]cpuSample{}
	}
	p, ok := r.prev[key]
	if ok && !at.After(p.at) {
		return p.rate
	}
	var rate *uint64
	if ok && usage >= p.usage {
		v := uint64(float64(usage-p.usage) / float64(at.Sub(p.at).Nanoseconds()) * float64(time.Second))
		rate = &v
	}
	r.prev[key] = cpuSample{at: at, usage: usage, rate: rate}
	return rate
}

// retain forgets every key not in keep, so that removed pods and containers
// do not accumulate.
func (r *cpuRates) retain(keep map[string]bool) {
	for k := range r.prev {
		if !keep[k] {
			delete(r.prev, k)
		}
	}
}
