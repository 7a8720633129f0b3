package dns

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeUpstream answers external.test. with 192.0.2.77, fail.test. with
// SERVFAIL and tc.test. with a truncated answer over UDP and two records
// over TCP, over UDP and TCP on one port, counting the queries it gets.
func fakeUpstream(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		n.Add(1)
		m := new(dns.Msg).SetReply(r)
		switch r.Question[0].Name {
		case "external.test.":
			if r.Question[0].Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "external.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.ParseIP("192.0.2.77")})
			}
		case "fail.test.":
			m.Rcode = dns.RcodeServerFailure
		case "tc.test.":
			if w.LocalAddr().Network() == "udp" {
				m.Truncated = true
				break
			}
			for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "tc.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.ParseIP(ip)})
			}
		default:
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String(), &n
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready after 30s")
	}
	return s
}

func bigHeadless(n int) []runtime.Object {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "big-a",
		Labels: map[string]string{discoveryv1.LabelServiceName: "big"}}, AddressType: discoveryv1.AddressTypeIPv4}
	for i := 0; i < n; i++ {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.42.%d.%d", i/250, i%250+1)}})
	}
	return []runtime.Object{headless("default", "big"), s}
}

// wireLen is the compressed size of m, as it came over the wire.
func wireLen(m *dns.Msg) int {
	c := m.Copy()
	c.Compress = true
	return c.Len()
}

func exchange(t *testing.T, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s: %v", network, m.Question[0].Name, err)
	}
	return resp
}

func TestServerRoundTrip(t *testing.T) {
	upstream, upstreamQueries := fakeUpstream(t)
	objs := append(bigHeadless(200),
		svc("default", "kubernetes", []string{"10.43.0.1"}, port("https", tcp, 443)),
		externalName("default", "ext", "external.test"))
	client := fake.NewClientset(objs...)
	s := startServer(t, Config{Client: client, Listen: []string{"127.0.0.1:0"}, Upstreams: []string{upstream}})
	addr := s.Addrs()[0].String()

	for _, network := range []string{"udp", "tcp"} {
		resp := exchange(t, network, addr, new(dns.Msg).SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA))
		if !resp.Authoritative || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.43.0.1" {
			t.Errorf("%s: A kubernetes.default = %v", network, resp)
		}
		nx := exchange(t, network, addr, new(dns.Msg).SetQuestion("nope.default.svc.cluster.local.", dns.TypeA))
		if nx.Rcode != dns.RcodeNameError || len(nx.Ns) != 1 || nx.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Errorf("%s: NXDOMAIN answer = %v", network, nx)
		}
	}

	t.Run("truncation", func(t *testing.T) {
		q := new(dns.Msg).SetQuestion("big.default.svc.cluster.local.", dns.TypeA)
		plain := exchange(t, "udp", addr, q)
		if !plain.Truncated || wireLen(plain) > dns.MinMsgSize || len(plain.Answer) >= 200 {
			t.Errorf("UDP without EDNS: truncated=%v len=%d answers=%d", plain.Truncated, wireLen(plain), len(plain.Answer))
		}
		q.SetEdns0(1232, false)
		edns := exchange(t, "udp", addr, q)
		if !edns.Truncated || wireLen(edns) > 1232 || edns.IsEdns0() == nil || len(edns.Answer) <= len(plain.Answer) {
			t.Errorf("UDP with EDNS 1232: truncated=%v len=%d answers=%d opt=%v", edns.Truncated, wireLen(edns), len(edns.Answer), edns.IsEdns0())
		}
		full := exchange(t, "tcp", addr, q)
		if full.Truncated || len(full.Answer) != 200 {
			t.Errorf("TCP: truncated=%v answers=%d", full.Truncated, len(full.Answer))
		}
		q.Extra = nil
		q.SetEdns0(4096, false)
		big := exchange(t, "udp", addr, q)
		if big.Truncated || len(big.Answer) != 200 {
			t.Errorf("UDP with EDNS 4096: truncated=%v answers=%d len=%d", big.Truncated, len(big.Answer), wireLen(big))
		}
	})

	t.Run("forward and cache", func(t *testing.T) {
		before := upstreamQueries.Load()
		for i := 0; i < 3; i++ {
			resp := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("external.test.", dns.TypeA))
			if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.77" {
				t.Fatalf("forwarded answer = %v", resp)
			}
			if resp.Authoritative {
				t.Error("forwarded answer marked authoritative")
			}
		}
		if got := upstreamQueries.Load() - before; got != 1 {
			t.Errorf("upstream got %d queries for 3 lookups, want 1 (cached)", got)
		}
		tc := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("tc.test.", dns.TypeA))
		if tc.Truncated || len(tc.Answer) != 2 {
			t.Errorf("truncated upstream answer not retried over TCP: %v", tc)
		}
		fail := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("fail.test.", dns.TypeA))
		if fail.Rcode != dns.RcodeServerFailure {
			t.Errorf("upstream SERVFAIL relayed as %s", dns.RcodeToString[fail.Rcode])
		}
	})

	t.Run("ExternalName chased upstream", func(t *testing.T) {
		resp := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("ext.default.svc.cluster.local.", dns.TypeA))
		if len(resp.Answer) != 2 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME || resp.Answer[1].(*dns.A).A.String() != "192.0.2.77" {
			t.Errorf("ExternalName answer = %v", resp.Answer)
		}
	})

	t.Run("follows the API", func(t *testing.T) {
		_, err := client.CoreV1().Services("prod").Create(context.Background(),
			svc("prod", "api", []string{"10.43.1.1"}, port("http", tcp, 80)), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("api.prod.svc.cluster.local.", dns.TypeA))
			if resp.Rcode == dns.RcodeSuccess && len(resp.Answer) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("new Service not resolvable after 10s: %v", resp)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		m := new(dns.Msg).SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA)
		m.Opcode = dns.OpcodeNotify
		if resp := exchange(t, "udp", addr, m); resp.Rcode != dns.RcodeNotImplemented {
			t.Errorf("NOTIFY answered %s", dns.RcodeToString[resp.Rcode])
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without client succeeded")
	}
	if _, err := New(Config{Client: fake.NewClientset(), Domain: "bad..domain"}); err == nil {
		t.Error("New with bad domain succeeded")
	}
}
