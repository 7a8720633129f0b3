package endpoints

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// MaxAddresses is how many addresses (ready and not ready) one Endpoints
// object holds; beyond it the controller truncates and annotates the
// object with endpoints.kubernetes.io/over-capacity=truncated.
const MaxAddresses = 1000

// addressFor picks the pod IP to publish for a Service: one of the
// Service's primary IP family (from spec.ipFamilies, else the cluster IP,
// else, for a headless Service, the pod's primary IP). ok is false when
// the pod has no IP of that family.
func addressFor(svc *corev1.Service, pod *corev1.Pod) (string, bool) {
	ips := PodIPs(pod)
	if len(ips) == 0 {
		return "", false
	}
	var v6 bool
	switch {
	case len(svc.Spec.IPFamilies) > 0:
		v6 = svc.Spec.IPFamilies[0] == corev1.IPv6Protocol
	case ServiceIPSet(svc):
		v6 = IsIPv6(svc.Spec.ClusterIP)
	default:
		v6 = IsIPv6(ips[0])
	}
	for _, ip := range ips {
		if IsIPv6(ip) == v6 {
			return ip, true
		}
	}
	return "", false
}

// podAddress is one pod's address with its readiness.
type podAddress struct {
	addr  corev1.EndpointAddress
	ready bool
}

func (a podAddress) key() string {
	uid := ""
	if a.addr.TargetRef != nil {
		uid = string(a.addr.TargetRef.UID) + "/" + a.addr.TargetRef.Name
	}
	return fmt.Sprintf("%s|%s|%t", a.addr.IP, uid, a.ready)
}

// DesiredSubsets computes the subsets of a Service's Endpoints from the
// pods its selector matches: ready pods' addresses under addresses, the
// others under notReadyAddresses (all under addresses when the Service
// publishes not-ready addresses), terminating pods and pods without an IP
// left out. Ports are resolved per pod; ports served by the same set of
// addresses share a subset. The result is sorted, so equal inputs give
// equal outputs.
func DesiredSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	tolerate := svc.Spec.PublishNotReadyAddresses
	headlessNoPorts := len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP == corev1.ClusterIPNone
	// byPort maps each endpoint port to the addresses serving it.
	byPort := map[corev1.EndpointPort]map[string]podAddress{}
	var noPorts []podAddress
	for _, pod := range pods {
		if !PodIncluded(pod, tolerate) {
			continue
		}
		ip, ok := addressFor(svc, pod)
		if !ok {
			continue
		}
		pa := podAddress{ready: tolerate || PodReady(pod), addr: corev1.EndpointAddress{
			IP:       NormalizeIP(ip),
			Hostname: HostnameFor(pod, svc),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace,
				Name: pod.Name, UID: pod.UID},
		}}
		if pod.Spec.NodeName != "" {
			node := pod.Spec.NodeName
			pa.addr.NodeName = &node
		}
		if headlessNoPorts {
			noPorts = append(noPorts, pa)
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			port, ok := ResolvePort(pod, sp)
			if !ok {
				continue
			}
			ep := corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol}
			if byPort[ep] == nil {
				byPort[ep] = map[string]podAddress{}
			}
			byPort[ep][pa.key()] = pa
		}
	}
	if headlessNoPorts {
		if len(noPorts) == 0 {
			return []corev1.EndpointSubset{}
		}
		return []corev1.EndpointSubset{buildSubset(noPorts, nil)}
	}
	// Ports served by exactly the same addresses share a subset.
	type group struct {
		addrs []podAddress
		ports []corev1.EndpointPort
	}
	groups := map[string]*group{}
	for port, addrs := range byPort {
		keys := make([]string, 0, len(addrs))
		for k := range addrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sig := strings.Join(keys, ",")
		g := groups[sig]
		if g == nil {
			g = &group{}
			for _, k := range keys {
				g.addrs = append(g.addrs, addrs[k])
			}
			groups[sig] = g
		}
		g.ports = append(g.ports, port)
	}
	sigs := make([]string, 0, len(groups))
	for sig := range groups {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	subsets := make([]corev1.EndpointSubset, 0, len(sigs))
	for _, sig := range sigs {
		subsets = append(subsets, buildSubset(groups[sig].addrs, groups[sig].ports))
	}
	return subsets
}

func buildSubset(addrs []podAddress, ports []corev1.EndpointPort) corev1.EndpointSubset {
	var s corev1.EndpointSubset
	for _, a := range addrs {
		if a.ready {
			s.Addresses = append(s.Addresses, a.addr)
		} else {
			s.NotReadyAddresses = append(s.NotReadyAddresses, a.addr)
		}
	}
	sortAddresses(s.Addresses)
	sortAddresses(s.NotReadyAddresses)
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Name != ports[j].Name {
			return ports[i].Name < ports[j].Name
		}
		if ports[i].Port != ports[j].Port {
			return ports[i].Port < ports[j].Port
		}
		return ports[i].Protocol < ports[j].Protocol
	})
	s.Ports = ports
	return s
}

func sortAddresses(a []corev1.EndpointAddress) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].IP != a[j].IP {
			return a[i].IP < a[j].IP
		}
		return refName(a[i]) < refName(a[j])
	})
}

func refName(a corev1.EndpointAddress) string {
	if a.TargetRef == nil {
		return ""
	}
	return a.TargetRef.Namespace + "/" + a.TargetRef.Name
}

// Truncate caps subsets at max addresses in total, keeping ready addresses
// first and sharing what is kept among subsets in proportion to their
// size. It reports whether anything was dropped.
func Truncate(subsets []corev1.EndpointSubset, max int) bool {
	ready, notReady := 0, 0
	for _, s := range subsets {
		ready += len(s.Addresses)
		notReady += len(s.NotReadyAddresses)
	}
	if ready+notReady <= max {
		return false
	}
	// Either the ready addresses alone overflow (keep a share of them
	// and no not-ready ones), or all ready ones fit and the not-ready
	// ones share what is left.
	capReady := ready > max
	budget, total := max-ready, notReady
	if capReady {
		budget, total = max, ready
	}
	left := budget
	for i := range subsets {
		s := &subsets[i]
		n := len(s.NotReadyAddresses)
		if capReady {
			n = len(s.Addresses)
		}
		share := (n*budget + total - 1) / total // rounded up
		if share > left {
			share = left
		}
		if capReady {
			if len(s.Addresses) > share {
				s.Addresses = s.Addresses[:share]
			}
			s.NotReadyAddresses = nil
			left -= len(s.Addresses)
		} else {
			if len(s.NotReadyAddresses) > share {
				s.NotReadyAddresses = s.NotReadyAddresses[:share]
			}
			left -= len(s.NotReadyAddresses)
		}
	}
	return true
}

// DesiredLabels are the labels of a Service's Endpoints: the Service's,
// plus service.kubernetes.io/headless for a Service without a cluster IP.
func DesiredLabels(svc *corev1.Service) map[string]string {
	out := make(map[string]string, len(svc.Labels)+1)
	for k, v := range svc.Labels {
		if k == corev1.IsHeadlessService {
			continue
		}
		out[k] = v
	}
	if !ServiceIPSet(svc) {
		out[corev1.IsHeadlessService] = ""
	}
	return out
}
