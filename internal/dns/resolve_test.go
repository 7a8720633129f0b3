package dns

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	tcp = corev1.ProtocolTCP
	udp = corev1.ProtocolUDP
	v4  = discoveryv1.AddressTypeIPv4
)

func fixture() *fakeStore {
	pub := headless("default", "pub", port("http", tcp, 80))
	pub.Spec.PublishNotReadyAddresses = true
	return &fakeStore{
		services: []*corev1.Service{
			svc("default", "kubernetes", []string{"10.43.0.1"}, port("https", tcp, 443)),
			svc("kube-system", "kube-dns", []string{"10.43.0.10"}, port("dns", udp, 53), port("dns-tcp", tcp, 53)),
			svc("default", "dual", []string{"10.43.0.20", "fd00::20"}, port("dns", udp, 53), port("", tcp, 99)),
			headless("default", "web", port("web", tcp, 80)),
			headless("default", "nodes", port("web", tcp, 80)),
			headless("default", "anon"),
			headless("default", "web6", port("web", tcp, 80)),
			pub,
			externalName("default", "ext", "Example.COM"),
			externalName("default", "inner", "kubernetes.default.svc.cluster.local"),
		},
		slices: []*discoveryv1.EndpointSlice{
			slice("default", "web", "web-a", v4, []discoveryv1.EndpointPort{slicePort("web", tcp, 8080)},
				ep{ip: "10.42.0.6", hostname: "web-1"}, ep{ip: "10.42.0.5", hostname: "web-0"}, ep{ip: "10.42.0.7", hostname: "web-2", notReady: true}),
			slice("default", "anon", "anon-a", v4, nil, ep{ip: "10.42.1.9"}),
			slice("default", "web6", "web6-a", v4, nil, ep{ip: "10.42.3.1", hostname: "w0"}),
			slice("default", "web6", "web6-b", discoveryv1.AddressTypeIPv6, nil, ep{ip: "fd00:42::1", hostname: "w0"}),
			slice("default", "pub", "pub-a", v4, []discoveryv1.EndpointPort{slicePort("http", tcp, 8080)}, ep{ip: "10.42.2.1", notReady: true}),
			slice("default", "kubernetes", "kubernetes", v4, nil, ep{ip: "192.0.2.1"}),
		},
		pods: []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"}, Status: corev1.PodStatus{PodIP: "10.42.0.5"}}},
	}
}

// short renders a record as "name TYPE rdata" (no TTL, no class).
func short(rr dns.RR) string {
	f := strings.Split(rr.String(), "\t")
	return f[0] + " " + f[3] + " " + strings.Join(f[4:], " ")
}

func shorts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, short(rr))
	}
	return out
}

const soa = "cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"

func TestResolve(t *testing.T) {
	nx := dns.RcodeNameError
	ok := dns.RcodeSuccess
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		pods    PodMode
		forward bool
		rcode   int
		answer  []string
		ns      []string
		extra   []string
		target  string
	}{
		{name: "clusterIP A", qname: "kubernetes.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"kubernetes.default.svc.cluster.local. A 10.43.0.1"}},
		{name: "case kept in owner, matched insensitively", qname: "Kubernetes.DEFAULT.svc.Cluster.Local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"Kubernetes.DEFAULT.svc.Cluster.Local. A 10.43.0.1"}},
		{name: "clusterIP AAAA on IPv4 service is NODATA", qname: "kubernetes.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: ok, ns: []string{soa}},
		{name: "clusterIP TXT is NODATA", qname: "kubernetes.default.svc.cluster.local.", qtype: dns.TypeTXT, rcode: ok, ns: []string{soa}},
		{name: "dual-stack A", qname: "dual.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"dual.default.svc.cluster.local. A 10.43.0.20"}},
		{name: "dual-stack AAAA", qname: "dual.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: ok,
			answer: []string{"dual.default.svc.cluster.local. AAAA fd00::20"}},
		{name: "missing service NXDOMAIN", qname: "nope.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "missing namespace NXDOMAIN", qname: "kubernetes.nope.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "namespace name NODATA", qname: "default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok, ns: []string{soa}},
		{name: "unknown namespace name NXDOMAIN", qname: "nope.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "svc apex NODATA", qname: "svc.cluster.local.", qtype: dns.TypeA, rcode: ok, ns: []string{soa}},
		{name: "zone apex SOA", qname: "cluster.local.", qtype: dns.TypeSOA, rcode: ok, answer: []string{soa}},
		{name: "zone apex NS", qname: "cluster.local.", qtype: dns.TypeNS, rcode: ok,
			answer: []string{"cluster.local. NS ns.dns.cluster.local."}, extra: []string{"ns.dns.cluster.local. A 10.43.0.10"}},
		{name: "zone apex A NODATA", qname: "cluster.local.", qtype: dns.TypeA, rcode: ok, ns: []string{soa}},
		{name: "nameserver address", qname: "ns.dns.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"ns.dns.cluster.local. A 10.43.0.10"}},
		{name: "schema version", qname: "dns-version.cluster.local.", qtype: dns.TypeTXT, rcode: ok,
			answer: []string{`dns-version.cluster.local. TXT "1.1.0"`}},
		{name: "unknown top label NXDOMAIN", qname: "foo.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "too deep NXDOMAIN", qname: "a.b.c.d.e.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},

		{name: "headless A: ready endpoints only, sorted", qname: "web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"web.default.svc.cluster.local. A 10.42.0.5", "web.default.svc.cluster.local. A 10.42.0.6"}},
		{name: "headless AAAA NODATA", qname: "web.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: ok, ns: []string{soa}},
		{name: "dual-stack headless A", qname: "web6.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"web6.default.svc.cluster.local. A 10.42.3.1"}},
		{name: "dual-stack headless AAAA", qname: "web6.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: ok,
			answer: []string{"web6.default.svc.cluster.local. AAAA fd00:42::1"}},
		{name: "dual-stack endpoint hostname AAAA", qname: "w0.web6.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: ok,
			answer: []string{"w0.web6.default.svc.cluster.local. AAAA fd00:42::1"}},
		{name: "PTR IPv6 endpoint", qname: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.4.0.0.0.0.d.f.ip6.arpa.", qtype: dns.TypePTR, rcode: ok,
			answer: []string{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.4.0.0.0.0.d.f.ip6.arpa. PTR w0.web6.default.svc.cluster.local."}},
		{name: "headless without endpoints NXDOMAIN", qname: "nodes.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "headless publishNotReadyAddresses", qname: "pub.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"pub.default.svc.cluster.local. A 10.42.2.1"}},
		{name: "endpoint hostname", qname: "web-0.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"web-0.web.default.svc.cluster.local. A 10.42.0.5"}},
		{name: "endpoint hostname AAAA NODATA", qname: "web-0.web.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: ok, ns: []string{soa}},
		{name: "not ready endpoint hostname NXDOMAIN", qname: "web-2.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "endpoint without hostname by dashed IP", qname: "10-42-1-9.anon.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"10-42-1-9.anon.default.svc.cluster.local. A 10.42.1.9"}},
		{name: "child of clusterIP service NXDOMAIN", qname: "web-0.kubernetes.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},

		{name: "SRV clusterIP named port", qname: "_https._tcp.kubernetes.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: ok,
			answer: []string{"_https._tcp.kubernetes.default.svc.cluster.local. SRV 0 100 443 kubernetes.default.svc.cluster.local."},
			extra:  []string{"kubernetes.default.svc.cluster.local. A 10.43.0.1"}},
		{name: "SRV wrong protocol NXDOMAIN", qname: "_https._udp.kubernetes.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: nx, ns: []string{soa}},
		{name: "SRV unknown port NXDOMAIN", qname: "_http._tcp.kubernetes.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: nx, ns: []string{soa}},
		{name: "SRV name asked for A is NODATA", qname: "_https._tcp.kubernetes.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok, ns: []string{soa}},
		{name: "SRV protocol label NODATA", qname: "_tcp.kubernetes.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: ok, ns: []string{soa}},
		{name: "SRV headless per endpoint", qname: "_web._tcp.web.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: ok,
			answer: []string{"_web._tcp.web.default.svc.cluster.local. SRV 0 50 8080 web-0.web.default.svc.cluster.local.",
				"_web._tcp.web.default.svc.cluster.local. SRV 0 50 8080 web-1.web.default.svc.cluster.local."},
			extra: []string{"web-0.web.default.svc.cluster.local. A 10.42.0.5", "web-1.web.default.svc.cluster.local. A 10.42.0.6"}},
		{name: "SRV of the service name lists named ports", qname: "dual.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: ok,
			answer: []string{"_dns._udp.dual.default.svc.cluster.local. SRV 0 100 53 dual.default.svc.cluster.local."},
			extra:  []string{"dual.default.svc.cluster.local. A 10.43.0.20", "dual.default.svc.cluster.local. AAAA fd00::20"}},

		{name: "ExternalName CNAME with target to chase", qname: "ext.default.svc.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"ext.default.svc.cluster.local. CNAME example.com."}, target: "example.com."},
		{name: "ExternalName CNAME for TXT, no chase", qname: "ext.default.svc.cluster.local.", qtype: dns.TypeTXT, rcode: ok,
			answer: []string{"ext.default.svc.cluster.local. CNAME example.com."}},
		{name: "ExternalName SRV NXDOMAIN", qname: "_http._tcp.ext.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: nx, ns: []string{soa}},

		{name: "PTR clusterIP", qname: "1.0.43.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: ok,
			answer: []string{"1.0.43.10.in-addr.arpa. PTR kubernetes.default.svc.cluster.local."}},
		{name: "PTR IPv6 clusterIP", qname: "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", qtype: dns.TypePTR, rcode: ok,
			answer: []string{"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR dual.default.svc.cluster.local."}},
		{name: "PTR headless endpoint hostname", qname: "5.0.42.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: ok,
			answer: []string{"5.0.42.10.in-addr.arpa. PTR web-0.web.default.svc.cluster.local."}},
		{name: "PTR headless endpoint without hostname", qname: "9.1.42.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: ok,
			answer: []string{"9.1.42.10.in-addr.arpa. PTR 10-42-1-9.anon.default.svc.cluster.local."}},
		{name: "PTR of a clusterIP service's endpoint is not ours", qname: "1.2.0.192.in-addr.arpa.", qtype: dns.TypePTR, forward: true},
		{name: "PTR not ready endpoint forwarded", qname: "7.0.42.10.in-addr.arpa.", qtype: dns.TypePTR, forward: true},
		{name: "PTR unknown forwarded", qname: "8.8.8.8.in-addr.arpa.", qtype: dns.TypePTR, forward: true},

		{name: "pod A insecure", qname: "10-42-0-99.default.pod.cluster.local.", qtype: dns.TypeA, rcode: ok,
			answer: []string{"10-42-0-99.default.pod.cluster.local. A 10.42.0.99"}},
		{name: "pod AAAA insecure", qname: "fd00--5.default.pod.cluster.local.", qtype: dns.TypeAAAA, rcode: ok,
			answer: []string{"fd00--5.default.pod.cluster.local. AAAA fd00::5"}},
		{name: "pod AAAA of IPv4 NODATA", qname: "10-42-0-99.default.pod.cluster.local.", qtype: dns.TypeAAAA, rcode: ok, ns: []string{soa}},
		{name: "pod bad IP NXDOMAIN", qname: "10-42-0.default.pod.cluster.local.", qtype: dns.TypeA, rcode: nx, ns: []string{soa}},
		{name: "pod verified present", qname: "10-42-0-5.default.pod.cluster.local.", qtype: dns.TypeA, pods: PodsVerified, rcode: ok,
			answer: []string{"10-42-0-5.default.pod.cluster.local. A 10.42.0.5"}},
		{name: "pod verified absent", qname: "10-42-0-99.default.pod.cluster.local.", qtype: dns.TypeA, pods: PodsVerified, rcode: nx, ns: []string{soa}},
		{name: "pod verified wrong namespace", qname: "10-42-0-5.other.pod.cluster.local.", qtype: dns.TypeA, pods: PodsVerified, rcode: nx, ns: []string{soa}},
		{name: "pods disabled", qname: "10-42-0-99.default.pod.cluster.local.", qtype: dns.TypeA, pods: PodsDisabled, rcode: nx, ns: []string{soa}},

		{name: "outside zone forwarded", qname: "example.com.", qtype: dns.TypeA, forward: true},
		{name: "look-alike zone forwarded", qname: "notcluster.local.", qtype: dns.TypeA, forward: true},
	}
	st := fixture()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(st, Zone{Domain: "cluster.local", TTL: 5, Pods: tt.pods}, dns.Question{Name: tt.qname, Qtype: tt.qtype, Qclass: dns.ClassINET})
			if got.Forward != tt.forward {
				t.Fatalf("Forward = %v, want %v", got.Forward, tt.forward)
			}
			if tt.forward {
				return
			}
			if got.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tt.rcode])
			}
			if d := cmp.Diff(tt.answer, shorts(got.Answer)); d != "" {
				t.Errorf("answer (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.ns, shorts(got.Ns)); d != "" {
				t.Errorf("authority (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.extra, shorts(got.Extra)); d != "" {
				t.Errorf("additional (-want +got):\n%s", d)
			}
			if got.Target != tt.target {
				t.Errorf("target = %q, want %q", got.Target, tt.target)
			}
			for _, rr := range append(got.Answer, got.Ns...) {
				if rr.Header().Ttl != 5 {
					t.Errorf("TTL of %s = %d, want 5", rr, rr.Header().Ttl)
				}
			}
		})
	}
}

func TestResolveOtherDomainAndTTL(t *testing.T) {
	got := Resolve(fixture(), Zone{Domain: "Corp.Example.", TTL: 30}, dns.Question{Name: "kubernetes.default.svc.corp.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	if want := []string{"kubernetes.default.svc.corp.example. A 10.43.0.1"}; !cmp.Equal(shorts(got.Answer), want) || got.Answer[0].Header().Ttl != 30 {
		t.Fatalf("answer = %v, want %v with TTL 30", got.Answer, want)
	}
	if got := Resolve(fixture(), Zone{Domain: "corp.example", TTL: 30}, dns.Question{Name: "kubernetes.default.svc.cluster.local.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); !got.Forward {
		t.Fatalf("cluster.local under another domain not forwarded: %+v", got)
	}
}

func TestParseDashedIP(t *testing.T) {
	for in, want := range map[string]string{"1-2-3-4": "1.2.3.4", "fd00--1": "fd00::1", "1-2-3": "", "x": "", "1-2-3-4-5": "", "--ffff-1-2": "", "--ffff-1-2-3-4": "::ffff:1:2:3:4"} {
		ip, ok := parseDashedIP(in)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != want {
			t.Errorf("parseDashedIP(%q) = %q, want %q", in, got, want)
		}
	}
}
