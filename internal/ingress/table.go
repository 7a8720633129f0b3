// Package ingress is Skiff's built-in ingress controller: it watches
// Ingresses of the "skiff" IngressClass together with the Services,
// EndpointSlices and TLS Secrets they refer to, compiles them into an
// immutable routing Table, and serves HTTP and HTTPS through a layer-7
// reverse proxy that sends each request straight to a ready endpoint.
// A new Table replaces the old one atomically, so reconfiguration never
// drops a connection or a request in flight.
package ingress

import (
	"crypto/tls"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Backend is one Service port an Ingress routes to, resolved to the
// addresses ("ip:port") of its ready endpoints.
type Backend struct {
	// Name identifies the backend as "namespace/service:port".
	Name string
	// Endpoints are the ready endpoints, sorted; empty means 503.
	Endpoints []string
	// Problem says why Endpoints is empty, for logs.
	Problem string
	next    atomic.Uint64
}

// start returns the index of the endpoint to try first, advancing the
// round-robin; the others follow in order if connecting fails.
func (b *Backend) start() int {
	n := len(b.Endpoints)
	if n == 0 {
		return 0
	}
	return int((b.next.Add(1) - 1) % uint64(n))
}

// Table is an immutable routing table compiled from Ingresses. Its zero
// value answers 404 to everything.
type Table struct {
	exact          map[string]*hostRoutes
	wildcard       map[string]*hostRoutes // by the suffix after "*."
	anyHost        *hostRoutes
	defaultBackend *Backend
	certs          map[string]*tls.Certificate
	wildcardCerts  map[string]*tls.Certificate
	defaultCert    *tls.Certificate
	ingresses      int
}

// Route finds the backend for a request's Host header and path: rules for
// the exact host first, then a wildcard rule covering its first label,
// then rules without a host; within them Exact beats Prefix and the
// longest Prefix wins. Unmatched requests go to the default backend;
// ok is false when there is none (404).
func (t *Table) Route(host, path string) (b *Backend, ok bool) {
	if t == nil {
		return nil, false
	}
	if path == "" {
		path = "/"
	}
	host = normalizeHost(host)
	hr := t.exact[host]
	if hr == nil {
		if suffix, ok := wildcardSuffix(host); ok {
			hr = t.wildcard[suffix]
		}
	}
	if hr == nil {
		hr = t.anyHost
	}
	if hr != nil {
		if b := hr.match(path); b != nil {
			return b, true
		}
	}
	return t.defaultBackend, t.defaultBackend != nil
}

// Certificate returns the certificate for a TLS server name: an exact
// host, else a wildcard host, else the certificate of a TLS section
// without hosts; nil when there is none.
func (t *Table) Certificate(serverName string) *tls.Certificate {
	if t == nil {
		return nil
	}
	name := normalizeHost(serverName)
	if c := t.certs[name]; c != nil {
		return c
	}
	if suffix, ok := wildcardSuffix(name); ok {
		if c := t.wildcardCerts[suffix]; c != nil {
			return c
		}
	}
	return t.defaultCert
}

// Snapshot is the cluster state a Table is built from. Ingresses must
// already be filtered to the ones this controller serves.
type Snapshot struct {
	Ingresses      []*networkingv1.Ingress
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	// Certs, when set, keeps parsed certificates between Builds.
	Certs *CertCache
}

// Build compiles a Snapshot into a Table. Ingresses take precedence by
// age (oldest first, then namespace/name): when two define the same host
// and path, or a default backend, or a certificate for the same host,
// the older one wins. The returned warnings describe what was skipped.
func Build(s Snapshot) (*Table, []string) {
	t := &Table{
		exact: map[string]*hostRoutes{}, wildcard: map[string]*hostRoutes{},
		certs: map[string]*tls.Certificate{}, wildcardCerts: map[string]*tls.Certificate{},
	}
	r := newResolver(s)
	var warnings []string
	ings := append([]*networkingv1.Ingress(nil), s.Ingresses...)
	sort.SliceStable(ings, func(i, j int) bool {
		a, b := ings[i], ings[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	for _, ing := range ings {
		t.ingresses++
		id := ing.Namespace + "/" + ing.Name
		if db := ing.Spec.DefaultBackend; db != nil && t.defaultBackend == nil {
			t.defaultBackend = r.backend(ing.Namespace, db)
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			hr := t.routesFor(strings.ToLower(rule.Host))
			for _, p := range rule.HTTP.Paths {
				pt := PathPrefix
				if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
					pt = PathExact
				}
				if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
					warnings = append(warnings, fmt.Sprintf("ingress %s: path %q does not start with /; skipped", id, p.Path))
					continue
				}
				if !hr.add(pt, p.Path, r.backend(ing.Namespace, &p.Backend)) {
					warnings = append(warnings, fmt.Sprintf("ingress %s: host %q path %q already defined by an older ingress; skipped", id, rule.Host, p.Path))
				}
			}
		}
		warnings = append(warnings, t.addCerts(ing, r)...)
	}
	for _, m := range []map[string]*hostRoutes{t.exact, t.wildcard} {
		for _, hr := range m {
			hr.finish()
		}
	}
	if t.anyHost != nil {
		t.anyHost.finish()
	}
	s.Certs.prune()
	return t, warnings
}

// routesFor returns (creating) the routes of a rule host.
func (t *Table) routesFor(host string) *hostRoutes {
	m, key := t.exact, host
	switch {
	case host == "":
		if t.anyHost == nil {
			t.anyHost = newHostRoutes()
		}
		return t.anyHost
	case strings.HasPrefix(host, "*."):
		m, key = t.wildcard, host[2:]
	}
	hr := m[key]
	if hr == nil {
		hr = newHostRoutes()
		m[key] = hr
	}
	return hr
}

// addCerts installs the certificates of an Ingress's TLS sections.
func (t *Table) addCerts(ing *networkingv1.Ingress, r *resolver) []string {
	var warnings []string
	for _, tl := range ing.Spec.TLS {
		if tl.SecretName == "" {
			continue
		}
		cert, err := r.cert(ing.Namespace, tl.SecretName)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("ingress %s/%s: %v", ing.Namespace, ing.Name, err))
			continue
		}
		if len(tl.Hosts) == 0 && t.defaultCert == nil {
			t.defaultCert = cert
		}
		for _, h := range tl.Hosts {
			h = strings.ToLower(h)
			m, key := t.certs, h
			if strings.HasPrefix(h, "*.") {
				m, key = t.wildcardCerts, h[2:]
			}
			if _, dup := m[key]; !dup {
				m[key] = cert
			}
		}
	}
	return warnings
}
