package dns

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Limits the kubelet applies to a pod's resolv.conf.
const (
	maxNameservers   = 3
	maxSearchPaths   = 32
	maxSearchChars   = 2048
	clusterFirstOpts = "ndots:5"
)

// parseResolvConf reads the nameserver, search and options lines of a
// resolv.conf. As in the C library, the last search line wins and options
// accumulate.
func parseResolvConf(data []byte) (servers, searches, options []string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				servers = append(servers, f[1])
			}
		case "search":
			searches = nil
			for _, s := range f[1:] {
				if s = strings.TrimSuffix(s, "."); s != "" {
					searches = append(searches, s)
				}
			}
		case "options":
			options = append(options, f[1:]...)
		}
	}
	return servers, searches, options
}

// EffectivePolicy is the policy ResolvConf should apply to pod, as the
// kubelet decides it: an empty policy is ClusterFirst, ClusterFirst on the
// host network behaves as Default, and ClusterFirstWithHostNet is
// ClusterFirst.
func EffectivePolicy(pod *corev1.Pod) corev1.DNSPolicy {
	switch pod.Spec.DNSPolicy {
	case "", corev1.DNSClusterFirst:
		if pod.Spec.HostNetwork {
			return corev1.DNSDefault
		}
		return corev1.DNSClusterFirst
	case corev1.DNSClusterFirstWithHostNet:
		return corev1.DNSClusterFirst
	}
	return pod.Spec.DNSPolicy
}

// ResolvConf computes a pod's resolv.conf under Kubernetes' dnsPolicy
// rules. ClusterFirst (and ClusterFirstWithHostNet; pass EffectivePolicy
// for host-network pods) uses clusterDNS with the search path
// "<ns>.svc.<domain> svc.<domain> <domain>" followed by the host's search
// domains and "ndots:5"; it falls back to Default when clusterDNS is
// empty. Default copies the host's resolv.conf. None uses only dnsConfig.
// dnsConfig's nameservers and searches are appended (duplicates dropped)
// and its options override same-named ones. At most 3 nameservers and 32
// search domains (2048 characters) are kept, as the kubelet does.
func ResolvConf(policy corev1.DNSPolicy, podNS string, clusterDNS []string, domain string,
	dnsConfig *corev1.PodDNSConfig, hostResolv []byte) (servers, searches, options []string) {
	hostServers, hostSearches, hostOptions := parseResolvConf(hostResolv)
	domain = strings.TrimSuffix(domain, ".")
	if policy == "" || policy == corev1.DNSClusterFirstWithHostNet {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && len(clusterDNS) == 0 {
		policy = corev1.DNSDefault
	}
	switch policy {
	case corev1.DNSClusterFirst:
		servers = append(servers, clusterDNS...)
		searches = append([]string{podNS + ".svc." + domain, "svc." + domain, domain}, hostSearches...)
		options = []string{clusterFirstOpts}
	case corev1.DNSNone:
	default: // Default
		servers, searches, options = hostServers, hostSearches, hostOptions
	}
	if dnsConfig != nil {
		servers = append(servers, dnsConfig.Nameservers...)
		searches = append(searches, dnsConfig.Searches...)
		options = mergeOptions(options, dnsConfig.Options)
	}
	servers = dedupe(servers)
	if len(servers) > maxNameservers {
		servers = servers[:maxNameservers]
	}
	return servers, limitSearches(dedupe(searches)), options
}

// mergeOptions adds the pod's options to base, a pod option replacing a
// base option of the same name.
func mergeOptions(base []string, pod []corev1.PodDNSConfigOption) []string {
	var out []string
	index := map[string]int{}
	set := func(name, opt string) {
		if i, ok := index[name]; ok {
			out[i] = opt
			return
		}
		index[name] = len(out)
		out = append(out, opt)
	}
	for _, o := range base {
		name, _, _ := strings.Cut(o, ":")
		set(name, o)
	}
	for _, o := range pod {
		opt := o.Name
		if o.Value != nil {
			opt += ":" + *o.Value
		}
		set(o.Name, opt)
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func limitSearches(in []string) []string {
	var out []string
	chars := 0
	for _, s := range in {
		if len(out) == maxSearchPaths || chars+len(s)+len(out) > maxSearchChars {
			break
		}
		chars += len(s)
		out = append(out, s)
	}
	return out
}

// FormatResolvConf renders a resolv.conf.
func FormatResolvConf(servers, searches, options []string) []byte {
	var b bytes.Buffer
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(searches, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.Bytes()
}
