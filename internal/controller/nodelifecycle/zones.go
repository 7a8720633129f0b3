package nodelifecycle

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/flowcontrol"
)

// zoneState is the health of a zone, which sets how fast nodes in it are
// tainted for eviction.
type zoneState string

const (
	zoneNormal            zoneState = "Normal"
	zonePartialDisruption zoneState = "PartialDisruption"
	zoneFullDisruption    zoneState = "FullDisruption"
)

// labelExcludeDisruption keeps a node out of the zone health computation.
const labelExcludeDisruption = "node.kubernetes.io/exclude-disruption"

// zoneKey identifies a node's failure domain by region and zone labels
// (the stable ones, or the deprecated beta ones).
func zoneKey(n *corev1.Node) string {
	get := func(stable, beta string) string {
		if v := n.Labels[stable]; v != "" {
			return v
		}
		return n.Labels[beta]
	}
	region := get(corev1.LabelTopologyRegion, corev1.LabelFailureDomainBetaRegion)
	zone := get(corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone)
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

// zoneStat is a zone's state and size.
type zoneStat struct {
	state zoneState
	size  int
}

// computeZoneStates classifies every zone: fully disrupted when none of
// its nodes is Ready, partially when more than two are not and they are
// at least threshold of the zone, normal otherwise.
func computeZoneStates(nodes []*corev1.Node, threshold float32) map[string]zoneStat {
	ready, notReady := map[string]int{}, map[string]int{}
	for _, n := range nodes {
		if _, excluded := n.Labels[labelExcludeDisruption]; excluded {
			continue
		}
		z := zoneKey(n)
		if c := nodeCondition(n.Status.Conditions, corev1.NodeReady); c != nil && c.Status == corev1.ConditionTrue {
			ready[z]++
		} else {
			notReady[z]++
		}
	}
	out := map[string]zoneStat{}
	for z := range mergeKeys(ready, notReady) {
		r, nr := ready[z], notReady[z]
		st := zoneNormal
		switch {
		case r == 0 && nr > 0:
			st = zoneFullDisruption
		case nr > 2 && float32(nr)/float32(r+nr) >= threshold:
			st = zonePartialDisruption
		}
		out[z] = zoneStat{state: st, size: r + nr}
	}
	return out
}

func mergeKeys(a, b map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// allFullyDisrupted reports whether every zone is down: master disruption
// mode, in which the controller evicts nothing.
func allFullyDisrupted(zones map[string]zoneStat) bool {
	if len(zones) == 0 {
		return false
	}
	for _, z := range zones {
		if z.state != zoneFullDisruption {
			return false
		}
	}
	return true
}

// zoneRate is how many nodes per second of a zone may get NoExecute
// taints: the normal rate, or for a partially disrupted zone the
// secondary rate if the zone is large and none if it is small.
func zoneRate(z zoneStat, cfg *Config) float32 {
	if z.state == zonePartialDisruption {
		if z.size > cfg.LargeClusterSizeThreshold {
			return cfg.SecondaryEvictionRate
		}
		return 0
	}
	return cfg.EvictionRate
}

// limiters paces NoExecute tainting per zone.
type limiters struct {
	mu    sync.Mutex
	rate  float32 // for zones not classified yet
	zones map[string]*zoneLimiter
}

type zoneLimiter struct {
	qps float32
	rl  flowcontrol.RateLimiter
}

func newZoneLimiter(qps float32) *zoneLimiter {
	z := &zoneLimiter{qps: qps}
	if qps > 0 {
		z.rl = flowcontrol.NewTokenBucketRateLimiter(qps, 1)
	}
	return z
}

// tryAccept takes a token of the zone's bucket if one is available.
func (l *limiters) tryAccept(zone string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	z := l.zones[zone]
	if z == nil {
		z = newZoneLimiter(l.rate)
		l.zones[zone] = z
	}
	return z.rl != nil && z.rl.TryAccept()
}

// set changes a zone's rate, keeping its bucket if the rate is the same.
func (l *limiters) set(zone string, qps float32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if z := l.zones[zone]; z != nil && z.qps == qps {
		return
	}
	l.zones[zone] = newZoneLimiter(qps)
}
