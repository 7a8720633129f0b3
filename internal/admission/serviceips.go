package admission

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/registry/core"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ServiceAllocator hands out cluster IPs from the service CIDR and node
// ports from the node port range, refusing duplicates. Its state is
// rebuilt from the stored Services the first time it is used, so nothing
// but the Services themselves needs persisting.
type ServiceAllocator struct {
	cidr           *net.IPNet
	size           int64 // addresses in the CIDR
	portLo, portHi int
	// Existing lists the stored Services; called once, lazily.
	existing func() ([]*corev1.Service, error)

	mu      sync.Mutex
	loaded  bool
	ips     map[string]bool
	ports   map[int]bool
	pending map[*apiserver.Attributes]allocation
}

// allocation is what one admitted write reserved, and what it gives back
// once it is stored.
type allocation struct {
	ips   []string
	ports []int
	// dropped is what the old object held and the new one no longer
	// does; it is freed only when the update is stored.
	dropped droppedSet
}

type droppedSet = struct {
	ips   []string
	ports []int
}

// NewServiceAllocator returns an allocator for cidr and the node port range
// [portLo, portHi].
func NewServiceAllocator(cidr string, portLo, portHi int, existing func() ([]*corev1.Service, error)) (*ServiceAllocator, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	ones, bits := n.Mask.Size()
	if bits-ones < 2 || bits-ones > 62 {
		return nil, fmt.Errorf("service CIDR %q has an unusable size", cidr)
	}
	if portLo <= 0 || portHi > 65535 || portLo > portHi {
		return nil, fmt.Errorf("invalid node port range %d-%d", portLo, portHi)
	}
	return &ServiceAllocator{cidr: n, size: int64(1) << (bits - ones), portLo: portLo, portHi: portHi,
		existing: existing, ips: map[string]bool{}, ports: map[int]bool{}, pending: map[*apiserver.Attributes]allocation{}}, nil
}

func (s *ServiceAllocator) load() error {
	if s.loaded {
		return nil
	}
	svcs, err := s.existing()
	if err != nil {
		return err
	}
	for _, svc := range svcs {
		for _, ip := range serviceIPs(svc) {
			s.ips[ip] = true
		}
		for _, p := range serviceNodePorts(svc) {
			s.ports[p] = true
		}
	}
	s.loaded = true
	return nil
}

func serviceIPs(svc *corev1.Service) []string {
	var out []string
	for _, ip := range append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...) {
		if ip != "" && ip != corev1.ClusterIPNone {
			out = append(out, net.ParseIP(ip).String())
		}
	}
	return out
}

func serviceNodePorts(svc *corev1.Service) []int {
	var out []int
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			out = append(out, int(p.NodePort))
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		out = append(out, int(svc.Spec.HealthCheckNodePort))
	}
	return out
}

// Admit implements apiserver.Admission for core/v1 services.
func (s *ServiceAllocator) Admit(a *apiserver.Attributes) error {
	if a.Resource.Group != "" || a.Resource.Resource != "services" || a.Subresource != "" || a.Verb == "delete" {
		return nil
	}
	svc, ok := a.Object.(*corev1.Service)
	if !ok {
		return nil
	}
	var old *corev1.Service
	if a.Old != nil {
		old, _ = a.Old.(*corev1.Service)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return apierrors.NewInternalError(err)
	}
	var got allocation
	errs := s.allocateIPs(svc, old, &got)
	errs = append(errs, s.allocatePorts(svc, old, &got)...)
	if len(errs) > 0 {
		s.free(got)
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), a.Name, errs)
	}
	s.pending[a] = got
	return nil
}

// Done implements apiserver.Admission: it returns what a write that did
// not happen reserved, and what a deleted Service held.
func (s *ServiceAllocator) Done(a *apiserver.Attributes, stored bool) {
	if a.Resource.Group != "" || a.Resource.Resource != "services" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if got, ok := s.pending[a]; ok {
		delete(s.pending, a)
		if stored {
			s.free(allocation{ips: got.dropped.ips, ports: got.dropped.ports})
		} else {
			s.free(got)
		}
	}
	if a.Verb == "delete" && stored {
		if old, ok := a.Old.(*corev1.Service); ok {
			s.free(allocation{ips: serviceIPs(old), ports: serviceNodePorts(old)})
		}
	}
}

func (s *ServiceAllocator) free(got allocation) {
	for _, ip := range got.ips {
		delete(s.ips, ip)
	}
	for _, p := range got.ports {
		delete(s.ports, p)
	}
}

func (s *ServiceAllocator) allocateIPs(svc, old *corev1.Service, got *allocation) field.ErrorList {
	path := field.NewPath("spec", "clusterIPs")
	if old != nil {
		held := map[string]bool{}
		for _, ip := range serviceIPs(old) {
			held[ip] = true
		}
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			// Leaving ClusterIP behind releases the address.
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
			for ip := range held {
				got.dropped.ips = append(got.dropped.ips, ip)
			}
			return nil
		}
		if len(held) > 0 {
			return nil
		}
	}
	if core.ServiceNeedsClusterIP(svc) {
		ip, ok := s.randomIP()
		if !ok {
			return field.ErrorList{field.InternalError(path, fmt.Errorf("failed to allocate a serviceIP: range is full"))}
		}
		s.ips[ip], got.ips = true, append(got.ips, ip)
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = ip, []string{ip}
		return nil
	}
	for _, raw := range svc.Spec.ClusterIPs {
		if raw == corev1.ClusterIPNone {
			continue
		}
		ip := net.ParseIP(raw)
		if ip == nil {
			continue // validation reports it
		}
		key := ip.String()
		switch {
		case !s.cidr.Contains(ip) || ip.Equal(s.cidr.IP) || s.isBroadcast(ip):
			return field.ErrorList{field.Invalid(path, svc.Spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", raw, raw, s.cidr))}
		case s.ips[key]:
			return field.ErrorList{field.Invalid(path, svc.Spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", raw))}
		}
		s.ips[key], got.ips = true, append(got.ips, key)
	}
	return nil
}

// isBroadcast reports whether ip is the last address of an IPv4 range,
// which Kubernetes never hands out.
func (s *ServiceAllocator) isBroadcast(ip net.IP) bool {
	v4, base := ip.To4(), s.cidr.IP.To4()
	if v4 == nil || base == nil {
		return false
	}
	for i := range v4 {
		if v4[i] != base[i]|^s.cidr.Mask[i] {
			return false
		}
	}
	return true
}

// randomIP picks a free address, avoiding the network address, the
// broadcast address and the low addresses reserved for fixed assignments
// (the kubernetes and kube-dns Services).
func (s *ServiceAllocator) randomIP() (string, bool) {
	lo := int64(16)
	if s.size <= 64 {
		lo = 1
	}
	span := s.size - 1 - lo
	start := rand.Int64N(span)
	base := new(big.Int).SetBytes(s.cidr.IP.To16())
	for i := int64(0); i < span; i++ {
		off := lo + (start+i)%span
		ip := net.IP(new(big.Int).Add(base, big.NewInt(off)).FillBytes(make([]byte, 16)))
		if v4 := ip.To4(); v4 != nil && s.cidr.IP.To4() != nil {
			ip = v4
		}
		if key := ip.String(); !s.ips[key] {
			return key, true
		}
	}
	return "", false
}

func (s *ServiceAllocator) allocatePorts(svc, old *corev1.Service, got *allocation) field.ErrorList {
	held := map[int]bool{}
	if old != nil {
		for _, p := range serviceNodePorts(old) {
			held[p] = true
		}
	}
	var errs field.ErrorList
	keep := map[int]bool{}
	claim := func(p int, path *field.Path) {
		switch {
		case held[p]:
			keep[p] = true
		case p < s.portLo || p > s.portHi:
			errs = append(errs, field.Invalid(path, p, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", s.portLo, s.portHi)))
		case s.ports[p]:
			errs = append(errs, field.Invalid(path, p, "provided port is already allocated"))
		default:
			s.ports[p], got.ports, keep[p] = true, append(got.ports, p), true
		}
	}
	usesNodePorts := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	for i := range svc.Spec.Ports {
		if p := int(svc.Spec.Ports[i].NodePort); p != 0 {
			if usesNodePorts {
				claim(p, field.NewPath("spec", "ports").Index(i).Child("nodePort"))
			} else {
				svc.Spec.Ports[i].NodePort = 0
			}
		}
	}
	for _, i := range core.ServiceNodePortsNeeded(svc) {
		p, ok := s.randomPort()
		if !ok {
			errs = append(errs, field.InternalError(field.NewPath("spec", "ports").Index(i).Child("nodePort"), fmt.Errorf("range is full")))
			continue
		}
		s.ports[p], got.ports, keep[p] = true, append(got.ports, p), true
		svc.Spec.Ports[i].NodePort = int32(p)
	}
	if hc := int(svc.Spec.HealthCheckNodePort); hc != 0 {
		claim(hc, field.NewPath("spec", "healthCheckNodePort"))
	} else if core.ServiceNeedsHealthCheckNodePort(svc) {
		if p, ok := s.randomPort(); ok {
			s.ports[p], got.ports, keep[p] = true, append(got.ports, p), true
			svc.Spec.HealthCheckNodePort = int32(p)
		}
	}
	for p := range held {
		if !keep[p] {
			got.dropped.ports = append(got.dropped.ports, p)
		}
	}
	return errs
}

func (s *ServiceAllocator) randomPort() (int, bool) {
	span := s.portHi - s.portLo + 1
	start := rand.IntN(span)
	for i := 0; i < span; i++ {
		p := s.portLo + (start+i)%span
		if !s.ports[p] {
			return p, true
		}
	}
	return 0, false
}
