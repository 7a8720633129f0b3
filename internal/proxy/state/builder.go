package state

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Builder is Build with a memory: it keeps each Service's ports keyed by
// the resourceVersions of the Service and of its EndpointSlices, and
// recomputes only the Services whose objects changed since the last
// Build. Its result always equals Build's for the same objects, provided
// that an object's content does not change without its resourceVersion
// changing (as the API server guarantees); objects without a
// resourceVersion are never cached. The zero Builder is ready to use; it
// is not safe for concurrent use.
type Builder struct {
	entries map[string]*builtService // by "namespace/name"
}

// builtService is one Service's cached ports.
type builtService struct {
	key   string
	ports []ServicePort
	names []string // ports[i].String()
}

// Build is Build(services, slices), recomputing only the Services whose
// Service or EndpointSlice objects changed since the previous call. The
// ports returned share their slices with the cache and must not be
// modified.
func (b *Builder) Build(services []*corev1.Service, slices []*discoveryv1.EndpointSlice) []ServicePort {
	bySvc := groupSlices(slices)
	next := make(map[string]*builtService, len(services))
	var out []ServicePort
	var names []string
	for _, svc := range services {
		name := svc.Namespace + "/" + svc.Name
		group := bySvc[name]
		key, cacheable := versionKey(svc, group)
		e := b.entries[name]
		if !cacheable || e == nil || e.key != key {
			e = &builtService{key: key, ports: servicePorts(svc, group)}
			for i := range e.ports {
				e.names = append(e.names, e.ports[i].String())
			}
		}
		if cacheable {
			next[name] = e
		}
		out = append(out, e.ports...)
		names = append(names, e.names...)
	}
	b.entries = next
	sort.Sort(byName{out, names})
	return out
}

// Reset forgets every cached Service.
func (b *Builder) Reset() { b.entries = nil }

// versionKey identifies the versions of a Service and its slices (sorted
// by name); ok is false when an object has no resourceVersion.
func versionKey(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) (key string, ok bool) {
	if svc.ResourceVersion == "" {
		return "", false
	}
	var k strings.Builder
	k.WriteString(string(svc.UID))
	k.WriteByte('/')
	k.WriteString(svc.ResourceVersion)
	for _, s := range slices {
		if s.ResourceVersion == "" {
			return "", false
		}
		k.WriteByte('|')
		k.WriteString(s.Name)
		k.WriteByte('=')
		k.WriteString(s.ResourceVersion)
	}
	return k.String(), true
}
