package ingress

import (
	"net"
	"sort"
	"strings"
)

// PathType is how a rule's path is compared with a request's path.
type PathType int

const (
	// PathPrefix matches by path element (ImplementationSpecific is
	// treated as Prefix).
	PathPrefix PathType = iota
	// PathExact matches the request path exactly, case-sensitively.
	PathExact
)

// pathRoute is one path of a host's rules.
type pathRoute struct {
	path    string // Exact: as written; Prefix: without trailing '/'
	backend *Backend
}

// hostRoutes holds the paths of one host (or of the rules without a host).
type hostRoutes struct {
	exact map[string]*Backend
	// prefixes is sorted by descending path length, so the first match
	// is the longest.
	prefixes []pathRoute
}

func newHostRoutes() *hostRoutes { return &hostRoutes{exact: map[string]*Backend{}} }

// add records a path unless an earlier (higher-precedence) rule already
// holds the same path and type; it reports whether it was added.
func (h *hostRoutes) add(pt PathType, path string, b *Backend) bool {
	if path == "" {
		path = "/"
	}
	if pt == PathExact {
		if _, dup := h.exact[path]; dup {
			return false
		}
		h.exact[path] = b
		return true
	}
	p := strings.TrimRight(path, "/")
	for _, r := range h.prefixes {
		if r.path == p {
			return false
		}
	}
	h.prefixes = append(h.prefixes, pathRoute{path: p, backend: b})
	return true
}

func (h *hostRoutes) finish() {
	sort.SliceStable(h.prefixes, func(i, j int) bool { return len(h.prefixes[i].path) > len(h.prefixes[j].path) })
}

// match returns the backend for a request path: an Exact match wins (no
// matching prefix can be longer than the path itself), else the longest
// Prefix matching whole path elements.
func (h *hostRoutes) match(path string) *Backend {
	if b, ok := h.exact[path]; ok {
		return b
	}
	for _, r := range h.prefixes {
		if PrefixMatches(r.path, path) {
			return r.backend
		}
	}
	return nil
}

// PrefixMatches reports whether a Prefix rule path matches a request path
// element-wise: "/foo" and "/foo/" match "/foo", "/foo/" and "/foo/bar"
// but not "/foobar"; "/" matches everything.
func PrefixMatches(prefix, path string) bool {
	p := strings.TrimRight(prefix, "/")
	if p == "" {
		return true
	}
	return path == p || strings.HasPrefix(path, p+"/")
}

// normalizeHost lower-cases a Host header and strips its port and a
// trailing dot.
func normalizeHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// wildcardSuffix returns the part of host after its first label, the key
// under which a "*.<suffix>" rule is stored; ok is false when host has a
// single label. A wildcard covers exactly one label.
func wildcardSuffix(host string) (string, bool) {
	i := strings.IndexByte(host, '.')
	if i <= 0 || i == len(host)-1 {
		return "", false
	}
	return host[i+1:], true
}
