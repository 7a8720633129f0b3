package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// forwarder sends questions outside the cluster domain to the upstream
// resolvers, in order, through the cache; identical questions in flight
// at once share one upstream exchange.
type forwarder struct {
	upstreams []string // host:port
	udp, tcp  *dns.Client
	cache     *answerCache
	inflight  singleflight.Group
}

func newForwarder(upstreams []string, timeout time.Duration, c *answerCache) *forwarder {
	return &forwarder{upstreams: upstreams, cache: c,
		udp: &dns.Client{Net: "udp", Timeout: timeout, UDPSize: 4096},
		tcp: &dns.Client{Net: "tcp", Timeout: timeout}}
}

// errNoUpstream means no upstream resolver is configured.
var errNoUpstream = errors.New("dns: no upstream resolver")

// forward returns the upstream answer to req (the caller's ID kept).
func (f *forwarder) forward(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	if m := f.cache.get(req); m != nil {
		return m, nil
	}
	if len(f.upstreams) == 0 {
		return nil, errNoUpstream
	}
	k, ok := keyOf(req)
	if !ok {
		return f.exchange(ctx, req)
	}
	v, err, _ := f.inflight.Do(fmt.Sprintf("%s/%d/%d/%t/%t", k.name, k.qtype, k.class, k.do, k.cd), func() (any, error) {
		return f.exchange(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	shared, ok := v.(*dns.Msg)
	if !ok {
		return nil, fmt.Errorf("dns: forward %s: unexpected result %T", req.Question[0].Name, v)
	}
	resp := shared.Copy()
	resp.Id = req.Id
	return resp, nil
}

// exchange asks the upstreams in turn, over UDP and again over TCP for a
// truncated answer, and caches the first good answer.
func (f *forwarder) exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	out := req.Copy()
	out.Id = dns.Id()
	stripOPT(out)
	out.SetEdns0(4096, doBit(req))
	var errs []error
	for _, up := range f.upstreams {
		resp, _, err := f.udp.ExchangeContext(ctx, out, up)
		if err == nil && resp.Truncated {
			resp, _, err = f.tcp.ExchangeContext(ctx, out, up)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", up, err))
			continue
		}
		if resp.Rcode == dns.RcodeServerFailure || resp.Rcode == dns.RcodeRefused {
			errs = append(errs, fmt.Errorf("%s: %s", up, dns.RcodeToString[resp.Rcode]))
			continue
		}
		resp.Id = req.Id
		stripOPT(resp)
		f.cache.put(req, resp)
		return resp, nil
	}
	return nil, fmt.Errorf("dns: forward %s: %w", req.Question[0].Name, errors.Join(errs...))
}

func doBit(m *dns.Msg) bool {
	if opt := m.IsEdns0(); opt != nil {
		return opt.Do()
	}
	return false
}

func stripOPT(m *dns.Msg) {
	extra := m.Extra[:0]
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	m.Extra = extra
}

// Upstreams picks the upstream resolvers (host:port) from the nameserver
// lines of a resolv.conf. A loopback nameserver is skipped when it is this
// server itself (one of self, or a wildcard self address on the same
// port), since forwarding to it would loop; other loopback stubs (such as
// systemd-resolved's 127.0.0.53) are kept: the server runs in the host's
// network namespace, where they answer.
func Upstreams(resolvConf []byte, self []string) []string {
	servers, _, _ := parseResolvConf(resolvConf)
	var out []string
	for _, s := range servers {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		ap := netip.AddrPortFrom(ip.Unmap(), 53)
		if ip.IsLoopback() && isSelf(ap, self) {
			continue
		}
		out = append(out, ap.String())
	}
	return out
}

func isSelf(ap netip.AddrPort, self []string) bool {
	for _, s := range self {
		host, port, err := net.SplitHostPort(s)
		if err != nil || port != fmt.Sprint(ap.Port()) {
			continue
		}
		ip, err := netip.ParseAddr(host)
		if host == "" || (err == nil && (ip.IsUnspecified() || ip.Unmap() == ap.Addr())) {
			return true
		}
	}
	return false
}
