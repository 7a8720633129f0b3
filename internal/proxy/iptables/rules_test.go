package iptables

import (
	"slices"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

const node = "node-a"

func ep(ip string, port int32, nodeName string) state.Endpoint {
	return state.Endpoint{IP: ip, Port: port, NodeName: nodeName, Ready: true, Serving: true}
}

func web(mut func(*state.ServicePort)) state.ServicePort {
	sp := state.ServicePort{
		Namespace: "ns", Name: "web", PortName: "http", Protocol: state.TCP, ClusterIP: "10.96.0.10", Port: 80,
		Endpoints: []state.Endpoint{ep("10.42.0.5", 8080, node), ep("10.42.1.5", 8080, "node-b"), ep("10.42.2.5", 8080, "node-c")},
	}
	if mut != nil {
		mut(&sp)
	}
	return sp
}

func st(sps ...state.ServicePort) *state.State {
	return &state.State{NodeName: node, ClusterCIDR: "10.42.0.0/16", Services: sps}
}

// has lists lines that must appear in table/chain; lacks lists substrings
// no line of the chain may contain; absent lists chains that must not exist.
type expect struct {
	table, chain string
	has          []string
	lacks        []string
	absent       bool
}

func TestRules(t *testing.T) {
	w := web(nil)
	svc, svl, ext := svcChain(&w), svlChain(&w), extChain(&w)
	sep := func(sp state.ServicePort, i int) string { return sepChain(&sp, sp.Endpoints[i]) }
	const cipMatch = `-d 10.96.0.10/32 -p tcp -m tcp --dport 80`
	tests := []struct {
		name   string
		state  *state.State
		expect []expect
	}{{
		name:  "cluster IP spreads over ready endpoints with equal probability",
		state: st(w),
		expect: []expect{
			{table: TableNAT, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http cluster IP" ` + cipMatch + ` -j ` + svc}},
			{table: TableNAT, chain: svc, has: []string{
				`-A ` + svc + ` -m comment --comment "ns/web:http cluster IP" ` + cipMatch + ` ! -s 10.42.0.0/16 -j SKIFF-MARK-MASQ`,
				`-A ` + svc + ` -m comment --comment "ns/web:http -> 10.42.0.5:8080" -m statistic --mode random --probability 0.3333333333 -j ` + sep(w, 0),
				`-A ` + svc + ` -m comment --comment "ns/web:http -> 10.42.1.5:8080" -m statistic --mode random --probability 0.5000000000 -j ` + sep(w, 1),
				`-A ` + svc + ` -m comment --comment "ns/web:http -> 10.42.2.5:8080" -j ` + sep(w, 2),
			}, lacks: []string{"recent"}},
			{table: TableNAT, chain: sep(w, 1), has: []string{
				`-A ` + sep(w, 1) + ` -m comment --comment "ns/web:http" -s 10.42.1.5/32 -j SKIFF-MARK-MASQ`,
				`-A ` + sep(w, 1) + ` -m comment --comment "ns/web:http" -p tcp -m tcp -j DNAT --to-destination 10.42.1.5:8080`,
			}},
			{table: TableFilter, chain: ChainServices, lacks: []string{"10.96.0.10"}},
			{table: TableNAT, chain: svl, absent: true},
			{table: TableNAT, chain: ext, absent: true},
		},
	}, {
		name:  "no endpoints rejects in the filter table",
		state: st(web(func(sp *state.ServicePort) { sp.Endpoints = nil })),
		expect: []expect{
			{table: TableFilter, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http has no endpoints" ` + cipMatch + ` -j REJECT --reject-with icmp-port-unreachable`}},
			{table: TableNAT, chain: ChainServices, lacks: []string{"10.96.0.10"}},
			{table: TableNAT, chain: svc, absent: true},
		},
	}, {
		name: "only unready endpoints reject too",
		state: st(web(func(sp *state.ServicePort) {
			for i := range sp.Endpoints {
				sp.Endpoints[i].Ready, sp.Endpoints[i].Serving = false, false
			}
		})),
		expect: []expect{
			{table: TableFilter, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http has no endpoints" ` + cipMatch + ` -j REJECT --reject-with icmp-port-unreachable`}},
		},
	}, {
		name: "unready endpoints are skipped, serving terminating ones are the fallback",
		state: st(web(func(sp *state.ServicePort) {
			sp.Endpoints[0].Ready = false
			sp.Endpoints[1].Ready, sp.Endpoints[1].Serving = false, false
		}), state.ServicePort{Namespace: "ns", Name: "term", Protocol: state.TCP, ClusterIP: "10.96.0.11", Port: 80,
			Endpoints: []state.Endpoint{{IP: "10.42.3.3", Port: 80, Serving: true, Terminating: true}, {IP: "10.42.3.4", Port: 80, Terminating: true}}}),
		expect: []expect{
			{table: TableNAT, chain: svc, has: []string{`-A ` + svc + ` -m comment --comment "ns/web:http -> 10.42.2.5:8080" -j ` + sep(w, 2)},
				lacks: []string{"10.42.0.5", "10.42.1.5"}},
			{table: TableNAT, chain: "SKIFF-SVC-" + hashName("ns/term/TCP"), has: []string{`-A SKIFF-SVC-` + hashName("ns/term/TCP") + ` -m comment --comment "ns/term -> 10.42.3.3:80" -j SKIFF-SEP-` + hashName("ns/term/TCP/10.42.3.3:80")},
				lacks: []string{"10.42.3.4"}},
		},
	}, {
		name:  "UDP and SCTP ports",
		state: st(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP; sp.Port = 53 }), web(func(sp *state.ServicePort) { sp.Name = "sctp"; sp.Protocol = state.SCTP })),
		expect: []expect{
			{table: TableNAT, chain: ChainServices, has: []string{
				`-A SKIFF-SERVICES -m comment --comment "ns/web:http cluster IP" -d 10.96.0.10/32 -p udp -m udp --dport 53 -j ` + svcChain(ptr(web(func(sp *state.ServicePort) { sp.Protocol = state.UDP }))),
				`-A SKIFF-SERVICES -m comment --comment "ns/sctp:http cluster IP" -d 10.96.0.10/32 -p sctp -m sctp --dport 80 -j ` + svcChain(ptr(web(func(sp *state.ServicePort) { sp.Name = "sctp"; sp.Protocol = state.SCTP }))),
			}},
		},
	}, {
		name:  "NodePort with cluster policy masquerades and uses every endpoint",
		state: st(web(func(sp *state.ServicePort) { sp.NodePort = 30080 })),
		expect: []expect{
			{table: TableNAT, chain: ChainNodePorts, has: []string{`-A SKIFF-NODEPORTS -m comment --comment "ns/web:http" -p tcp -m tcp --dport 30080 -j ` + ext}},
			{table: TableNAT, chain: ext, has: []string{
				`-A ` + ext + ` -m comment --comment "masquerade traffic for ns/web:http external destinations" -j SKIFF-MARK-MASQ`,
				`-A ` + ext + ` -j ` + svc,
			}},
			{table: TableNAT, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "skiff service nodeports; NOTE: this must be the last rule in this chain" ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j SKIFF-NODEPORTS`}},
		},
	}, {
		name: "NodePort restricted to node IPs",
		state: func() *state.State {
			s := st(web(func(sp *state.ServicePort) { sp.NodePort = 30080; sp.Endpoints = nil }))
			s.NodePortIPs = []string{"192.0.2.7"}
			return s
		}(),
		expect: []expect{
			{table: TableNAT, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "skiff service nodeports; NOTE: this must be the last rule in this chain" -d 192.0.2.7/32 -j SKIFF-NODEPORTS`}, lacks: []string{"addrtype"}},
			{table: TableFilter, chain: ChainExternalServices, has: []string{`-A SKIFF-EXTERNAL-SERVICES -m comment --comment "ns/web:http has no endpoints" -d 192.0.2.7/32 -p tcp -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable`}},
		},
	}, {
		name:  "NodePort without endpoints is rejected on local addresses",
		state: st(web(func(sp *state.ServicePort) { sp.NodePort = 30080; sp.Endpoints = nil })),
		expect: []expect{
			{table: TableFilter, chain: ChainExternalServices, has: []string{`-A SKIFF-EXTERNAL-SERVICES -m comment --comment "ns/web:http has no endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable`}},
			{table: TableNAT, chain: ChainNodePorts, lacks: []string{"30080"}},
		},
	}, {
		name:  "externalTrafficPolicy Local sends outside traffic to local endpoints only",
		state: st(web(func(sp *state.ServicePort) { sp.NodePort = 30080; sp.ExternalPolicyLocal = true })),
		expect: []expect{
			{table: TableNAT, chain: ext, has: []string{
				`-A ` + ext + ` -m comment --comment "pod traffic for ns/web:http external destinations" -s 10.42.0.0/16 -j ` + svc,
				`-A ` + ext + ` -m comment --comment "masquerade LOCAL traffic for ns/web:http external destinations" -m addrtype --src-type LOCAL -j SKIFF-MARK-MASQ`,
				`-A ` + ext + ` -m comment --comment "route LOCAL traffic for ns/web:http external destinations" -m addrtype --src-type LOCAL -j ` + svc,
				`-A ` + ext + ` -j ` + svl,
			}, lacks: []string{`"masquerade traffic for`}},
			{table: TableNAT, chain: svl, has: []string{`-A ` + svl + ` -m comment --comment "ns/web:http -> 10.42.0.5:8080" -j ` + sep(w, 0)}, lacks: []string{"10.42.1.5", "10.42.2.5", "statistic"}},
			{table: TableNAT, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http cluster IP" ` + cipMatch + ` -j ` + svc}},
		},
	}, {
		name: "externalTrafficPolicy Local without local endpoints drops NodePort traffic",
		state: st(web(func(sp *state.ServicePort) {
			sp.NodePort = 30080
			sp.ExternalPolicyLocal = true
			sp.Endpoints = sp.Endpoints[1:]
		})),
		expect: []expect{
			{table: TableFilter, chain: ChainExternalServices, has: []string{`-A SKIFF-EXTERNAL-SERVICES -m comment --comment "ns/web:http has no local endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j DROP`}},
			{table: TableNAT, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http cluster IP" ` + cipMatch + ` -j ` + svc}},
			{table: TableNAT, chain: ext, absent: true},
		},
	}, {
		name:  "internalTrafficPolicy Local",
		state: st(web(func(sp *state.ServicePort) { sp.InternalPolicyLocal = true })),
		expect: []expect{
			{table: TableNAT, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http cluster IP" ` + cipMatch + ` -j ` + svl}},
			{table: TableNAT, chain: svl, has: []string{`-A ` + svl + ` -m comment --comment "ns/web:http -> 10.42.0.5:8080" -j ` + sep(w, 0)}, lacks: []string{"10.42.1.5"}},
			{table: TableNAT, chain: svc, absent: true},
			{table: TableNAT, chain: sep(w, 1), absent: true},
		},
	}, {
		name:  "internalTrafficPolicy Local without local endpoints drops",
		state: st(web(func(sp *state.ServicePort) { sp.InternalPolicyLocal = true; sp.Endpoints = sp.Endpoints[1:] })),
		expect: []expect{
			{table: TableFilter, chain: ChainServices, has: []string{`-A SKIFF-SERVICES -m comment --comment "ns/web:http has no local endpoints" ` + cipMatch + ` -j DROP`}},
			{table: TableNAT, chain: svl, absent: true},
		},
	}, {
		name:  "ClientIP session affinity",
		state: st(web(func(sp *state.ServicePort) { sp.AffinitySeconds = 600 })),
		expect: []expect{
			{table: TableNAT, chain: svc, has: []string{
				`-A ` + svc + ` -m comment --comment "ns/web:http -> 10.42.1.5:8080" -m recent --name ` + sep(w, 1) + ` --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j ` + sep(w, 1),
				`-A ` + svc + ` -m comment --comment "ns/web:http -> 10.42.0.5:8080" -m statistic --mode random --probability 0.3333333333 -j ` + sep(w, 0),
			}},
			{table: TableNAT, chain: sep(w, 1), has: []string{
				`-A ` + sep(w, 1) + ` -m comment --comment "ns/web:http" -p tcp -m recent --name ` + sep(w, 1) + ` --mask 255.255.255.255 --rsource --set -m tcp -j DNAT --to-destination 10.42.1.5:8080`,
			}},
		},
	}, {
		name: "external and load-balancer IPs",
		state: st(web(func(sp *state.ServicePort) {
			sp.ExternalIPs = []string{"192.0.2.1"}
			sp.LoadBalancerIPs = []string{"192.0.2.2"}
		})),
		expect: []expect{
			{table: TableNAT, chain: ChainServices, has: []string{
				`-A SKIFF-SERVICES -m comment --comment "ns/web:http external IP" -d 192.0.2.1/32 -p tcp -m tcp --dport 80 -j ` + ext,
				`-A SKIFF-SERVICES -m comment --comment "ns/web:http external IP" -d 192.0.2.2/32 -p tcp -m tcp --dport 80 -j ` + ext,
			}},
			{table: TableNAT, chain: ext, has: []string{`-A ` + ext + ` -j ` + svc}},
		},
	}, {
		name: "without a cluster CIDR all ClusterIP traffic is masqueraded",
		state: func() *state.State {
			s := st(w)
			s.ClusterCIDR = ""
			return s
		}(),
		expect: []expect{
			{table: TableNAT, chain: svc, has: []string{`-A ` + svc + ` -m comment --comment "ns/web:http cluster IP" ` + cipMatch + ` -j SKIFF-MARK-MASQ`}},
		},
	}, {
		name:  "masquerade marking and forwarding",
		state: st(),
		expect: []expect{
			{table: TableNAT, chain: ChainMarkMasq, has: []string{`-A SKIFF-MARK-MASQ -j MARK --or-mark 0x4000`}},
			{table: TableNAT, chain: ChainPostrouting, has: []string{
				`-A SKIFF-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`,
				`-A SKIFF-POSTROUTING -j MARK --xor-mark 0x4000`,
				`-A SKIFF-POSTROUTING -m comment --comment "skiff service traffic requiring SNAT" -j MASQUERADE --random-fully`,
			}},
			{table: TableFilter, chain: ChainForward, has: []string{`-A SKIFF-FORWARD -m comment --comment "skiff forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`}},
			{table: TableFilter, chain: ChainExternalServices},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := Rules(tc.state)
			for _, e := range tc.expect {
				rules, ok := rs[e.table][e.chain]
				if e.absent {
					if ok {
						t.Errorf("%s/%s exists, want none:\n%s", e.table, e.chain, strings.Join(rules, "\n"))
					}
					continue
				}
				if !ok {
					t.Errorf("%s/%s missing", e.table, e.chain)
					continue
				}
				for _, h := range e.has {
					if !slices.Contains(rules, h) {
						t.Errorf("%s/%s lacks\n  %s\nhas:\n  %s", e.table, e.chain, h, strings.Join(rules, "\n  "))
					}
				}
				for _, l := range e.lacks {
					for _, r := range rules {
						if strings.Contains(r, l) {
							t.Errorf("%s/%s: rule %q contains %q", e.table, e.chain, r, l)
						}
					}
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRulesNodePortsLast(t *testing.T) {
	rs := Rules(st(web(nil), web(func(sp *state.ServicePort) { sp.Name = "zzz"; sp.NodePort = 30001 })))
	rules := rs[TableNAT][ChainServices]
	if last := rules[len(rules)-1]; !strings.HasSuffix(last, "-j "+ChainNodePorts) {
		t.Fatalf("last rule of SKIFF-SERVICES is %q, want the NodePorts jump", last)
	}
}

func TestChainNamesFitIPTables(t *testing.T) {
	sp := web(func(sp *state.ServicePort) {
		sp.Namespace = strings.Repeat("n", 63)
		sp.Name = strings.Repeat("s", 63)
	})
	for _, c := range []string{svcChain(&sp), svlChain(&sp), extChain(&sp), sepChain(&sp, sp.Endpoints[0]), ChainExternalServices} {
		if len(c) > 28 {
			t.Errorf("chain %s is %d characters, iptables allows 28", c, len(c))
		}
	}
}
