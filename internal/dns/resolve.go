package dns

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// PodMode is how `<ip>.<ns>.pod.<domain>` names are answered, as in
// CoreDNS's kubernetes plugin.
type PodMode int

const (
	// PodsInsecure answers any well-formed dashed IP without checking
	// that a pod has it (CoreDNS's "pods insecure", the default).
	PodsInsecure PodMode = iota
	// PodsVerified answers only if a pod in the namespace has the IP.
	PodsVerified
	// PodsDisabled answers NXDOMAIN for every pod name.
	PodsDisabled
)

// SchemaVersion is the version of the Kubernetes DNS schema served at
// dns-version.<domain>.
const SchemaVersion = "1.1.0"

// Zone is what the resolver needs to know about the cluster domain.
type Zone struct {
	// Domain is the cluster domain, e.g. "cluster.local" (any case,
	// with or without the trailing dot).
	Domain string
	// TTL of every answer, in seconds.
	TTL uint32
	// Pods selects how pod names are answered.
	Pods PodMode
}

// Answer is the outcome of a resolution.
type Answer struct {
	// Forward says the name is not ours: send the query upstream.
	Forward bool
	Rcode   int
	Answer  []dns.RR
	Ns      []dns.RR
	Extra   []dns.RR
	// Target is set when Answer ends in a CNAME to a name outside the
	// cluster domain whose address records the server should fetch
	// upstream (ExternalName Services queried for A/AAAA).
	Target string
}

// resolver holds one question's context.
type resolver struct {
	st     Store
	zone   string // lower-case FQDN, "cluster.local."
	ttl    uint32
	pods   PodMode
	q      dns.Question
	qname  string // lower-case
	answer Answer
}

// Resolve answers one question from the cluster state. Names outside the
// cluster domain, and reverse names of addresses the cluster does not
// know, come back with Forward set.
func Resolve(st Store, z Zone, q dns.Question) Answer {
	r := &resolver{st: st, zone: dns.Fqdn(strings.ToLower(z.Domain)), ttl: z.TTL, pods: z.Pods, q: q,
		qname: strings.ToLower(dns.Fqdn(q.Name))}
	switch {
	case dns.IsSubDomain(r.zone, r.qname):
		if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
			return Answer{Rcode: dns.RcodeRefused}
		}
		r.inZone(labelsBelow(r.qname, r.zone))
	case q.Qtype == dns.TypePTR && (dns.IsSubDomain("in-addr.arpa.", r.qname) || dns.IsSubDomain("ip6.arpa.", r.qname)):
		if !r.reverse() {
			return Answer{Forward: true}
		}
	default:
		return Answer{Forward: true}
	}
	return r.answer
}

// labelsBelow returns the labels of name below zone, outermost last.
func labelsBelow(name, zone string) []string {
	rest := strings.TrimSuffix(strings.TrimSuffix(name, zone), ".")
	if rest == "" {
		return nil
	}
	return strings.Split(rest, ".")
}

func (r *resolver) inZone(l []string) {
	n := len(l)
	switch {
	case n == 0:
		r.apex()
	case n == 1 && l[0] == "dns-version":
		if r.q.Qtype == dns.TypeTXT {
			r.add(&dns.TXT{Hdr: r.hdr(r.q.Name, dns.TypeTXT), Txt: []string{SchemaVersion}})
		}
		r.nodata()
	case n == 1 && l[0] == "dns":
		r.nodata()
	case n == 2 && l[0] == "ns" && l[1] == "dns":
		r.nameserverAddrs(r.q.Name, false)
		r.nodata()
	case l[n-1] == "svc":
		r.svc(l[:n-1])
	case l[n-1] == "pod":
		r.pod(l[:n-1])
	default:
		r.nxdomain()
	}
}

func (r *resolver) apex() {
	switch r.q.Qtype {
	case dns.TypeSOA:
		r.add(r.soa())
	case dns.TypeNS:
		ns := "ns.dns." + r.zone
		r.add(&dns.NS{Hdr: r.hdr(r.q.Name, dns.TypeNS), Ns: ns})
		r.nameserverAddrs(ns, true)
	}
	r.nodata()
}

// nameserverAddrs adds the kube-dns ClusterIPs as the address of name.
func (r *resolver) nameserverAddrs(name string, extra bool) {
	svc := r.st.Service("kube-system", "kube-dns")
	if svc == nil {
		return
	}
	for _, ip := range serviceIPs(svc) {
		if rr := r.addrRR(name, ip, extra); rr != nil {
			if extra {
				r.answer.Extra = append(r.answer.Extra, rr)
			} else {
				r.add(rr)
			}
		}
	}
}

// addrRR returns an A or AAAA record for ip if it matches the question
// type (always, for additional records), else nil.
func (r *resolver) addrRR(name, ip string, extra bool) dns.RR {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	a = a.Unmap()
	qt := r.q.Qtype
	if a.Is4() && (extra || qt == dns.TypeA || qt == dns.TypeANY) {
		return &dns.A{Hdr: r.hdr(name, dns.TypeA), A: a.AsSlice()}
	}
	if a.Is6() && (extra || qt == dns.TypeAAAA || qt == dns.TypeANY) {
		return &dns.AAAA{Hdr: r.hdr(name, dns.TypeAAAA), AAAA: a.AsSlice()}
	}
	return nil
}

func (r *resolver) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: r.ttl}
}

func (r *resolver) add(rr dns.RR) { r.answer.Answer = append(r.answer.Answer, rr) }

func (r *resolver) soa() *dns.SOA {
	return &dns.SOA{Hdr: r.hdr(r.zone, dns.TypeSOA), Ns: "ns.dns." + r.zone, Mbox: "hostmaster." + r.zone,
		Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: r.ttl}
}

// nodata finishes an answer for an existing name: if nothing was added it
// is NODATA, with the SOA in the authority section.
func (r *resolver) nodata() {
	r.answer.Rcode = dns.RcodeSuccess
	if len(r.answer.Answer) == 0 {
		r.answer.Ns = []dns.RR{r.soa()}
	}
}

func (r *resolver) nxdomain() {
	r.answer.Rcode = dns.RcodeNameError
	r.answer.Answer, r.answer.Extra = nil, nil
	r.answer.Ns = []dns.RR{r.soa()}
}
