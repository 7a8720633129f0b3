// Package request parses what an API request asks for (group, version,
// namespace, resource, name, subresource, verb) from its URL and method. The
// authorization and audit filters and the API server share it.
package request

import (
	"net/http"
	"strings"
)

// Info is what the URL and method of a resource request say.
type Info struct {
	Group, Version string
	Namespace      string
	Resource       string
	Name           string
	Subresource    string
	Verb           string // get list watch create update patch delete deletecollection
}

// namespaceSubresources are the subresources of a namespace object that
// would otherwise read as a namespaced resource name.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// Parse parses /api/v1/... and /apis/<group>/<version>/...
// resource paths. ok is false for paths that name no resource (discovery).
func Parse(r *http.Request) (Info, bool) {
	var info Info
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		info.Version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		info.Group, info.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return info, false
	}
	watchPath := false
	if parts[0] == "watch" {
		// Deprecated /watch/ paths.
		watchPath, parts = true, parts[1:]
		if len(parts) == 0 {
			return info, false
		}
	}
	if parts[0] == "namespaces" && len(parts) > 1 {
		info.Namespace = parts[1]
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			parts = parts[2:]
		}
	}
	info.Resource = parts[0]
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = strings.Join(parts[2:], "/")
	}
	if info.Resource == "namespaces" && len(parts) > 1 && parts[0] == "namespaces" {
		info.Namespace = ""
	}
	isWatch := watchPath || BoolParam(r.URL.Query().Get("watch"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case info.Name == "" && isWatch:
			info.Verb = "watch"
		case info.Name == "":
			info.Verb = "list"
		case isWatch:
			// A watch of one object is a watch with a name field selector.
			info.Verb = "watch"
		default:
			info.Verb = "get"
		}
	case http.MethodPost:
		info.Verb = "create"
	case http.MethodPut:
		info.Verb = "update"
	case http.MethodPatch:
		info.Verb = "patch"
	case http.MethodDelete:
		info.Verb = "delete"
		if info.Name == "" {
			info.Verb = "deletecollection"
		}
	}
	return info, true
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// BoolParam reads a boolean query parameter the way the API server does.
func BoolParam(v string) bool { return v == "true" || v == "1" }
