package ingress

import (
	"crypto/tls"
	"fmt"
	"net"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// resolver turns Ingress backends and TLS sections into Backends and
// certificates, sharing one Backend per Service port.
type resolver struct {
	services map[string]*corev1.Service
	slices   map[string][]*discoveryv1.EndpointSlice // by namespace/service
	secrets  map[string]*corev1.Secret
	backends map[string]*Backend
	certs    *CertCache // may be nil
}

func newResolver(s Snapshot) *resolver {
	r := &resolver{
		services: map[string]*corev1.Service{}, slices: map[string][]*discoveryv1.EndpointSlice{},
		secrets: map[string]*corev1.Secret{}, backends: map[string]*Backend{},
		certs: s.Certs,
	}
	for _, svc := range s.Services {
		r.services[svc.Namespace+"/"+svc.Name] = svc
	}
	for _, sl := range s.EndpointSlices {
		if svc := sl.Labels[discoveryv1.LabelServiceName]; svc != "" {
			k := sl.Namespace + "/" + svc
			r.slices[k] = append(r.slices[k], sl)
		}
	}
	for _, sec := range s.Secrets {
		r.secrets[sec.Namespace+"/"+sec.Name] = sec
	}
	return r
}

// backend resolves an Ingress backend in namespace ns.
func (r *resolver) backend(ns string, ib *networkingv1.IngressBackend) *Backend {
	sb := ib.Service
	if sb == nil {
		name := ns + "/<resource>"
		return r.memo(name, func(b *Backend) { b.Problem = "resource backends are not supported" })
	}
	port := sb.Port.Name
	if sb.Port.Number != 0 {
		port = strconv.Itoa(int(sb.Port.Number))
	}
	name := ns + "/" + sb.Name + ":" + port
	return r.memo(name, func(b *Backend) { b.Endpoints, b.Problem = r.endpoints(ns, sb) })
}

func (r *resolver) memo(name string, fill func(*Backend)) *Backend {
	if b := r.backends[name]; b != nil {
		return b
	}
	b := &Backend{Name: name}
	fill(b)
	r.backends[name] = b
	return b
}

// endpoints lists the ready endpoint addresses of a Service port.
func (r *resolver) endpoints(ns string, sb *networkingv1.IngressServiceBackend) ([]string, string) {
	svc := r.services[ns+"/"+sb.Name]
	if svc == nil {
		return nil, "service not found"
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (sb.Port.Number != 0 && p.Port == sb.Port.Number) || (sb.Port.Number == 0 && p.Name == sb.Port.Name) {
			sp = p
			break
		}
	}
	if sp == nil {
		return nil, "service has no such port"
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return []string{net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(sp.Port)))}, ""
	}
	seen := map[string]bool{}
	var out []string
	for _, sl := range r.slices[ns+"/"+sb.Name] {
		if sl.AddressType != discoveryv1.AddressTypeIPv4 && sl.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		target, ok := slicePort(sl, sp)
		if !ok {
			continue
		}
		for _, ep := range sl.Endpoints {
			if len(ep.Addresses) == 0 || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
				continue
			}
			a := net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(target)))
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, "no ready endpoints"
	}
	return out, ""
}

// slicePort finds the port of an EndpointSlice serving a Service port
// (same name, TCP).
func slicePort(sl *discoveryv1.EndpointSlice, sp *corev1.ServicePort) (int32, bool) {
	for _, p := range sl.Ports {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if name == sp.Name && proto == corev1.ProtocolTCP && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

// cert loads the key pair of a TLS Secret.
func (r *resolver) cert(ns, name string) (*tls.Certificate, error) {
	sec := r.secrets[ns+"/"+name]
	if sec == nil {
		return nil, fmt.Errorf("tls secret %s/%s not found", ns, name)
	}
	c, err := r.certs.load(sec)
	if err != nil {
		return nil, fmt.Errorf("tls secret %s/%s: %w", ns, name, err)
	}
	return c, nil
}

// CertCache keeps the key pairs parsed from TLS Secrets from one Build to
// the next, so that a rebuild (on any EndpointSlice change) does not parse
// every certificate again: a Secret is parsed again only when its UID or
// resourceVersion changes. Each Build drops the entries it did not use.
// A CertCache must not be used by concurrent Builds.
type CertCache struct {
	entries map[string]certEntry
	used    map[string]bool
}

type certEntry struct {
	uid, version string
	cert         *tls.Certificate
	err          error
}

// NewCertCache returns an empty cache.
func NewCertCache() *CertCache {
	return &CertCache{entries: map[string]certEntry{}, used: map[string]bool{}}
}

// load parses a Secret's key pair, from the cache when the Secret is
// unchanged; a nil cache always parses.
func (c *CertCache) load(sec *corev1.Secret) (*tls.Certificate, error) {
	parse := func() (*tls.Certificate, error) {
		kp, err := tls.X509KeyPair(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			return nil, err
		}
		return &kp, nil
	}
	if c == nil || sec.ResourceVersion == "" {
		return parse()
	}
	key := sec.Namespace + "/" + sec.Name
	c.used[key] = true
	if e, ok := c.entries[key]; ok && e.uid == string(sec.UID) && e.version == sec.ResourceVersion {
		return e.cert, e.err
	}
	cert, err := parse()
	c.entries[key] = certEntry{uid: string(sec.UID), version: sec.ResourceVersion, cert: cert, err: err}
	return cert, err
}

// prune forgets the Secrets not loaded since the last prune.
func (c *CertCache) prune() {
	if c == nil {
		return
	}
	for k := range c.entries {
		if !c.used[k] {
			delete(c.entries, k)
		}
	}
	clear(c.used)
}
