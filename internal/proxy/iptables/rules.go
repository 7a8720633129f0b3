package iptables

import (
	"fmt"
	"strings"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// MasqMark is the packet-mark bit that asks SKIFF-POSTROUTING to
// masquerade a packet (kube-proxy's default bit).
const MasqMark = "0x4000"

// Ruleset is a complete rule set: table -> chain -> rule lines, each a
// full iptables-restore line ("-A CHAIN ..."). Every chain present is
// owned by Skiff; a chain with no rules is present and empty.
type Ruleset map[string]map[string][]string

// Jump is a rule in a built-in chain that hands packets to Skiff's
// chains. Jumps are kept in place with iptables -C / -I rather than
// iptables-restore, since the built-in chains are shared with others.
type Jump struct {
	Table, Chain string
	Args         []string
}

// Jumps are the rules Skiff needs in the built-in chains.
func Jumps() []Jump {
	comment := func(c string) []string { return []string{"-m", "comment", "--comment", c} }
	isNew := []string{"-m", "conntrack", "--ctstate", "NEW"}
	join := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	return []Jump{
		{TableNAT, "PREROUTING", join(comment("skiff service portals"), []string{"-j", ChainServices})},
		{TableNAT, "OUTPUT", join(comment("skiff service portals"), []string{"-j", ChainServices})},
		{TableNAT, "POSTROUTING", join(comment("skiff postrouting rules"), []string{"-j", ChainPostrouting})},
		{TableFilter, "INPUT", join(isNew, comment("skiff externally-visible service portals"), []string{"-j", ChainExternalServices})},
		{TableFilter, "FORWARD", join(isNew, comment("skiff service portals"), []string{"-j", ChainServices})},
		{TableFilter, "FORWARD", join(isNew, comment("skiff externally-visible service portals"), []string{"-j", ChainExternalServices})},
		{TableFilter, "FORWARD", join(comment("skiff forwarding rules"), []string{"-j", ChainForward})},
		{TableFilter, "OUTPUT", join(isNew, comment("skiff service portals"), []string{"-j", ChainServices})},
	}
}

// ruleWriter accumulates rules: a whole rule set, or one Service port's
// part of it (a fragment).
type ruleWriter struct {
	rs Ruleset
}

func (w *ruleWriter) chain(table, chain string) {
	if _, ok := w.rs[table][chain]; !ok {
		w.rs[table][chain] = []string{}
	}
}

func (w *ruleWriter) add(table, chain string, args ...string) {
	w.rs[table][chain] = append(w.rs[table][chain], "-A "+chain+" "+strings.Join(args, " "))
}

func comment(c string) string { return `-m comment --comment "` + c + `"` }

// Rules computes the whole rule set for st. It is a pure function: the
// same state always yields the same rules, in the same order.
func Rules(st *state.State) Ruleset {
	return NewCache().rules(st, false)
}

// header starts a rule set: the fixed chains and their fixed rules.
func header(w *ruleWriter) {
	for _, c := range []string{ChainServices, ChainNodePorts, ChainPostrouting, ChainMarkMasq} {
		w.chain(TableNAT, c)
	}
	for _, c := range []string{ChainServices, ChainExternalServices, ChainForward} {
		w.chain(TableFilter, c)
	}
	w.add(TableNAT, ChainMarkMasq, "-j MARK --or-mark", MasqMark)
	w.add(TableNAT, ChainPostrouting, "-m mark ! --mark", MasqMark+"/"+MasqMark, "-j RETURN")
	w.add(TableNAT, ChainPostrouting, "-j MARK --xor-mark", MasqMark)
	w.add(TableNAT, ChainPostrouting, comment("skiff service traffic requiring SNAT"), "-j MASQUERADE --random-fully")
	w.add(TableFilter, ChainForward, "-m conntrack --ctstate INVALID -j DROP")
	w.add(TableFilter, ChainForward, comment("skiff forwarding rules"), "-m mark --mark", MasqMark+"/"+MasqMark, "-j ACCEPT")
	w.add(TableFilter, ChainForward, comment("skiff forwarding conntrack rule"), "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
}

// trailer ends a rule set, after every Service port.
func trailer(w *ruleWriter, st *state.State) {
	// NodePorts last, so that a ClusterIP or external IP that happens to
	// be local is handled as such first.
	const npComment = "skiff service nodeports; NOTE: this must be the last rule in this chain"
	if len(st.NodePortIPs) == 0 {
		w.add(TableNAT, ChainServices, comment(npComment), "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j", ChainNodePorts)
	}
	for _, ip := range st.NodePortIPs {
		w.add(TableNAT, ChainServices, comment(npComment), "-d", ip+"/32", "-j", ChainNodePorts)
	}
}

// match is "-p proto -m proto --dport port".
func match(proto state.Protocol, port int32) string {
	p := strings.ToLower(string(proto))
	return "-p " + p + " -m " + p + " --dport " + itoa(port)
}

func (w *ruleWriter) servicePort(st *state.State, sp *state.ServicePort) {
	plan := state.PlanFor(sp, st.NodeName)
	cat, internal, external := plan.Categorized, plan.Internal, plan.External
	name := sp.String()
	ext := sp.External()
	svc, svl, extc := svcChain(sp), svlChain(sp), extChain(sp)
	usesCluster, usesLocal := plan.UsesCluster, plan.UsesLocal
	internalChain, externalPolicyChain := svc, svc
	if sp.InternalPolicyLocal {
		internalChain = svl
	}
	if sp.ExternalPolicyLocal {
		externalPolicyChain = svl
	}
	// Traffic with nowhere to go: rejected when the Service has no usable
	// endpoint anywhere, so that clients fail fast, dropped when only the
	// Local policy leaves it without one (as kube-proxy does).
	target, why := "REJECT --reject-with icmp-port-unreachable", name+" has no endpoints"
	if !plan.Reject {
		target, why = "DROP", name+" has no local endpoints"
	}

	// ClusterIP.
	dst := "-d " + sp.ClusterIP + "/32 " + match(sp.Protocol, sp.Port)
	if len(internal) > 0 {
		w.add(TableNAT, ChainServices, comment(name+" cluster IP"), dst, "-j", internalChain)
	} else {
		w.add(TableFilter, ChainServices, comment(why), dst, "-j", target)
	}

	// External IPs, load-balancer IPs and the NodePort.
	for _, ip := range append(append([]string(nil), sp.ExternalIPs...), sp.LoadBalancerIPs...) {
		d := "-d " + ip + "/32 " + match(sp.Protocol, sp.Port)
		if len(external) > 0 {
			w.add(TableNAT, ChainServices, comment(name+" external IP"), d, "-j", extc)
		} else {
			w.add(TableFilter, ChainExternalServices, comment(why), d, "-j", target)
		}
	}
	if sp.NodePort != 0 {
		if len(external) > 0 {
			w.add(TableNAT, ChainNodePorts, comment(name), match(sp.Protocol, sp.NodePort), "-j", extc)
		} else if len(st.NodePortIPs) == 0 {
			w.add(TableFilter, ChainExternalServices, comment(why), "-m addrtype --dst-type LOCAL", match(sp.Protocol, sp.NodePort), "-j", target)
		} else {
			for _, ip := range st.NodePortIPs {
				w.add(TableFilter, ChainExternalServices, comment(why), "-d "+ip+"/32", match(sp.Protocol, sp.NodePort), "-j", target)
			}
		}
	}
	if ext && len(external) > 0 {
		w.chain(TableNAT, extc)
		if sp.ExternalPolicyLocal {
			// Pods and the node itself reaching the Service from the
			// outside are not "external": they use every endpoint.
			if usesCluster && st.ClusterCIDR != "" {
				w.add(TableNAT, extc, comment("pod traffic for "+name+" external destinations"), "-s", st.ClusterCIDR, "-j", svc)
			}
			w.add(TableNAT, extc, comment("masquerade LOCAL traffic for "+name+" external destinations"), "-m addrtype --src-type LOCAL -j", ChainMarkMasq)
			if usesCluster {
				w.add(TableNAT, extc, comment("route LOCAL traffic for "+name+" external destinations"), "-m addrtype --src-type LOCAL -j", svc)
			}
		} else {
			w.add(TableNAT, extc, comment("masquerade traffic for "+name+" external destinations"), "-j", ChainMarkMasq)
		}
		w.add(TableNAT, extc, "-j", externalPolicyChain)
	}

	if usesCluster {
		w.chain(TableNAT, svc)
		masq := "! -s " + st.ClusterCIDR + " "
		if st.ClusterCIDR == "" {
			masq = ""
		}
		w.add(TableNAT, svc, comment(name+" cluster IP"), dst, masq+"-j", ChainMarkMasq)
		w.balance(sp, svc, cat.Cluster)
	}
	if usesLocal {
		w.chain(TableNAT, svl)
		w.balance(sp, svl, cat.Local)
	}
	var eps []state.Endpoint
	if usesCluster {
		eps = append(eps, cat.Cluster...)
	}
	if usesLocal {
		eps = append(eps, cat.Local...)
	}
	seps := map[string]bool{}
	for _, e := range eps {
		if c := sepChain(sp, e); !seps[c] {
			seps[c] = true
			w.endpoint(sp, c, e)
		}
	}
}

// balance spreads new connections in chain over eps with equal
// probability: rule i of n matches with probability 1/(n-i), so each
// endpoint gets 1/n. With ClientIP affinity, a client seen recently goes
// back to its endpoint first.
func (w *ruleWriter) balance(sp *state.ServicePort, chain string, eps []state.Endpoint) {
	name := sp.String()
	if sp.AffinitySeconds > 0 {
		for _, e := range eps {
			sep := sepChain(sp, e)
			w.add(TableNAT, chain, comment(name+" -> "+e.Addr()), "-m recent --name", sep,
				"--mask 255.255.255.255 --rsource --rcheck --seconds", itoa(sp.AffinitySeconds), "--reap -j", sep)
		}
	}
	n := len(eps)
	for i, e := range eps {
		sep := sepChain(sp, e)
		if i < n-1 {
			w.add(TableNAT, chain, comment(name+" -> "+e.Addr()), "-m statistic --mode random --probability",
				fmt.Sprintf("%0.10f", 1.0/float64(n-i)), "-j", sep)
		} else {
			w.add(TableNAT, chain, comment(name+" -> "+e.Addr()), "-j", sep)
		}
	}
}

// endpoint writes an endpoint's chain: hairpin traffic (a pod reaching
// itself through its Service) is masqueraded, then DNAT to the endpoint.
func (w *ruleWriter) endpoint(sp *state.ServicePort, chain string, e state.Endpoint) {
	name := sp.String()
	p := strings.ToLower(string(sp.Protocol))
	w.chain(TableNAT, chain)
	w.add(TableNAT, chain, comment(name), "-s", e.IP+"/32 -j", ChainMarkMasq)
	affinity := ""
	if sp.AffinitySeconds > 0 {
		affinity = " -m recent --name " + chain + " --mask 255.255.255.255 --rsource --set"
	}
	w.add(TableNAT, chain, comment(name), "-p", p+affinity, "-m", p, "-j DNAT --to-destination", e.Addr())
}
