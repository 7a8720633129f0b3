package dns

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func reply(q string, rcode int, rrs ...string) (*dns.Msg, *dns.Msg) {
	req := new(dns.Msg).SetQuestion(q, dns.TypeA)
	resp := new(dns.Msg).SetReply(req)
	resp.Rcode = rcode
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		if rr.Header().Rrtype == dns.TypeSOA {
			resp.Ns = append(resp.Ns, rr)
		} else {
			resp.Answer = append(resp.Answer, rr)
		}
	}
	return req, resp
}

func TestCacheTTL(t *testing.T) {
	const soaRR = "example. 300 IN SOA ns.example. h.example. 1 2 3 4 20"
	tests := []struct {
		name  string
		rcode int
		rrs   []string
		want  time.Duration
	}{
		{"smallest record TTL", dns.RcodeSuccess, []string{"a.example. 20 IN A 192.0.2.1", "a.example. 10 IN A 192.0.2.2"}, 10 * time.Second},
		{"capped", dns.RcodeSuccess, []string{"a.example. 3600 IN A 192.0.2.1"}, 30 * time.Second},
		{"negative: SOA minimum", dns.RcodeNameError, []string{soaRR}, 20 * time.Second},
		{"NODATA: SOA minimum", dns.RcodeSuccess, []string{soaRR}, 20 * time.Second},
		{"no records: not cached", dns.RcodeSuccess, nil, 0},
		{"SERVFAIL not cached", dns.RcodeServerFailure, []string{"a.example. 20 IN A 192.0.2.1"}, 0},
	}
	for _, tt := range tests {
		_, resp := reply("a.example.", tt.rcode, tt.rrs...)
		if got := cacheTTL(resp, 30*time.Second); got != tt.want {
			t.Errorf("%s: cacheTTL = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestCacheAgesAndExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(2, time.Minute, func() time.Time { return now })
	req, resp := reply("a.example.", dns.RcodeSuccess, "a.example. 10 IN A 192.0.2.1")
	c.put(req, resp)
	now = now.Add(4 * time.Second)
	q := new(dns.Msg).SetQuestion("A.Example.", dns.TypeA)
	got := c.get(q)
	if got == nil || got.Id != q.Id || got.Answer[0].Header().Ttl != 6 {
		t.Fatalf("get after 4s = %v, want ID %d and TTL 6", got, q.Id)
	}
	if resp.Answer[0].Header().Ttl != 10 {
		t.Fatal("cached copy shares records with the original")
	}
	if c.get(new(dns.Msg).SetQuestion("a.example.", dns.TypeAAAA)) != nil {
		t.Fatal("AAAA answered from the A entry")
	}
	now = now.Add(6 * time.Second)
	if got := c.get(q); got != nil {
		t.Fatalf("get after expiry = %v", got)
	}
	for _, n := range []string{"b.example.", "c.example.", "d.example."} {
		req, resp := reply(n, dns.RcodeSuccess, n+" 10 IN A 192.0.2.1")
		c.put(req, resp)
	}
	if len(c.entries) > 2 {
		t.Fatalf("cache holds %d entries, limit 2", len(c.entries))
	}
}

// TestCacheEvictsInBatches: a cache full of live answers makes room for a
// tenth of its size at once, not one entry per put.
func TestCacheEvictsInBatches(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(100, time.Minute, func() time.Time { return now })
	put := func(i int) {
		n := fmt.Sprintf("n%d.example.", i)
		req, resp := reply(n, dns.RcodeSuccess, n+" 30 IN A 192.0.2.1")
		c.put(req, resp)
	}
	for i := range 100 {
		put(i)
	}
	if len(c.entries) != 100 {
		t.Fatalf("cache holds %d entries, want 100", len(c.entries))
	}
	put(100)
	if len(c.entries) != 91 {
		t.Fatalf("after a put into a full cache: %d entries, want 91", len(c.entries))
	}
	for i := 101; i < 110; i++ {
		put(i)
	}
	if len(c.entries) != 100 {
		t.Fatalf("after 9 more puts: %d entries, want 100 (no eviction until full)", len(c.entries))
	}
	now = now.Add(time.Minute) // all expired: a sweep drops them and nothing else
	put(200)
	if len(c.entries) != 1 {
		t.Fatalf("after expiry: %d entries, want 1", len(c.entries))
	}
}
