package dns

import (
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// answerCache holds forwarded answers for the smallest TTL among their records,
// at most maxTTL, so that repeated lookups of external names stay local.
type answerCache struct {
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	size    int
	maxTTL  time.Duration
	now     func() time.Time
}

type cacheKey struct {
	name         string
	qtype, class uint16
	do, cd       bool
}

type cacheEntry struct {
	msg     *dns.Msg
	stored  time.Time
	expires time.Time
}

func newCache(size int, maxTTL time.Duration, now func() time.Time) *answerCache {
	return &answerCache{entries: map[cacheKey]cacheEntry{}, size: size, maxTTL: maxTTL, now: now}
}

func keyOf(req *dns.Msg) (cacheKey, bool) {
	if len(req.Question) != 1 {
		return cacheKey{}, false
	}
	q := req.Question[0]
	do := false
	if opt := req.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	return cacheKey{name: strings.ToLower(q.Name), qtype: q.Qtype, class: q.Qclass, do: do, cd: req.CheckingDisabled}, true
}

// get returns a copy of the cached answer to req with its TTLs reduced by
// the time spent in the cache, or nil.
func (c *answerCache) get(req *dns.Msg) *dns.Msg {
	if c == nil || c.size <= 0 {
		return nil
	}
	k, ok := keyOf(req)
	if !ok {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.expires) {
		delete(c.entries, k)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	m := e.msg.Copy()
	m.Id = req.Id
	age := uint32(now.Sub(e.stored) / time.Second)
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			if h.Ttl > age {
				h.Ttl -= age
			} else {
				h.Ttl = 0
			}
		}
	}
	return m
}

// cacheTTL is how long resp may be cached: the smallest record TTL, or
// for negative answers the SOA's negative TTL; 0 for uncacheable answers.
func cacheTTL(resp *dns.Msg, maxTTL time.Duration) time.Duration {
	if resp.Truncated || (resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError) {
		return 0
	}
	ttl := uint32(1<<32 - 1)
	found := false
	for _, sec := range [][]dns.RR{resp.Answer, resp.Ns} {
		for _, rr := range sec {
			h := rr.Header()
			t := h.Ttl
			if soa, ok := rr.(*dns.SOA); ok && len(resp.Answer) == 0 && soa.Minttl < t {
				t = soa.Minttl
			}
			if t < ttl {
				ttl = t
			}
			found = true
		}
	}
	if !found {
		return 0
	}
	d := time.Duration(ttl) * time.Second
	if d > maxTTL {
		d = maxTTL
	}
	return d
}

// put stores resp as the answer to req.
func (c *answerCache) put(req, resp *dns.Msg) {
	if c == nil || c.size <= 0 {
		return
	}
	k, ok := keyOf(req)
	if !ok {
		return
	}
	ttl := cacheTTL(resp, c.maxTTL)
	if ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.evict(now)
	}
	c.entries[k] = cacheEntry{msg: resp.Copy(), stored: now, expires: now.Add(ttl)}
}

// evict makes room in a full cache: it drops the expired entries and, if
// that is not enough, arbitrary ones down to 90% of the size, so that a
// full cache is swept once per tenth of its size in puts rather than on
// every put. c.mu must be held.
func (c *answerCache) evict(now time.Time) {
	for key, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, key)
		}
	}
	target := c.size - max(1, c.size/10)
	for key := range c.entries {
		if len(c.entries) <= target {
			break
		}
		delete(c.entries, key)
	}
}
