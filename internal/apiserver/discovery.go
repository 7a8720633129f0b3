package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/skiff-io/skiff/internal/registry"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// groupPriority orders groups in discovery the way Kubernetes does, so that
// short names and `kubectl api-resources` resolve in the familiar order.
var groupPriority = []string{"", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
	"autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
	"storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
	"coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io"}

// versionPriority puts a group's preferred version first.
var versionPriority = map[string]int{"v2": 0, "v1": 1, "v1beta1": 2}

// discovery holds pre-rendered discovery documents; they never change while
// the server runs.
type discovery struct {
	api        []byte            // /api
	apis       []byte            // /apis
	byGV       map[string][]byte // "api/v1", "apis/apps/v1" -> APIResourceList
	aggAPI     []byte            // aggregated /api
	aggAPIs    []byte            // aggregated /apis
	aggAPIEtag string
	aggAPIsTag string
	gvs        []string
}

type groupInfo struct {
	name     string
	versions []string
	byVer    map[string][]*registry.Resource
}

func newDiscovery(resources []*registry.Resource) *discovery {
	groups := map[string]*groupInfo{}
	for _, r := range resources {
		g := groups[r.Group]
		if g == nil {
			g = &groupInfo{name: r.Group, byVer: map[string][]*registry.Resource{}}
			groups[r.Group] = g
		}
		if g.byVer[r.Version] == nil {
			g.versions = append(g.versions, r.Version)
		}
		g.byVer[r.Version] = append(g.byVer[r.Version], r)
	}
	var ordered []*groupInfo
	for _, name := range groupPriority {
		if g := groups[name]; g != nil {
			ordered = append(ordered, g)
			delete(groups, name)
		}
	}
	var rest []string
	for name := range groups {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	for _, name := range rest {
		ordered = append(ordered, groups[name])
	}
	for _, g := range ordered {
		sort.SliceStable(g.versions, func(i, j int) bool { return versionPriority[g.versions[i]] < versionPriority[g.versions[j]] })
	}

	d := &discovery{byGV: map[string][]byte{}}
	d.api = mustJSON(metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: ""}}})
	list := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	aggAPI := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
	aggAPIs := aggAPI
	for _, g := range ordered {
		agg := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.name}}
		var group metav1.APIGroup
		group.Name = g.name
		for _, v := range g.versions {
			gv := metav1.GroupVersionForDiscovery{GroupVersion: joinGV(g.name, v), Version: v}
			group.Versions = append(group.Versions, gv)
			rl := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.GroupVersion}
			aggV := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for _, r := range g.byVer[v] {
				rl.APIResources = append(rl.APIResources, legacyResources(r)...)
				aggV.Resources = append(aggV.Resources, aggregatedResource(r))
			}
			sort.Slice(aggV.Resources, func(i, j int) bool { return aggV.Resources[i].Resource < aggV.Resources[j].Resource })
			agg.Versions = append(agg.Versions, aggV)
			path := "apis/" + gv.GroupVersion
			if g.name == "" {
				path = "api/" + v
			} else {
				d.gvs = append(d.gvs, gv.GroupVersion)
			}
			d.byGV[path] = mustJSON(rl)
		}
		group.PreferredVersion = group.Versions[0]
		if g.name == "" {
			aggAPI.Items = append(aggAPI.Items, agg)
			continue
		}
		list.Groups = append(list.Groups, group)
		aggAPIs.Items = append(aggAPIs.Items, agg)
		d.byGV["apis/"+g.name] = mustJSON(struct {
			metav1.TypeMeta `json:",inline"`
			metav1.APIGroup `json:",inline"`
		}{metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, group})
	}
	d.apis = mustJSON(list)
	d.aggAPI, d.aggAPIs = mustJSON(aggAPI), mustJSON(aggAPIs)
	d.aggAPIEtag, d.aggAPIsTag = etag(d.aggAPI), etag(d.aggAPIs)
	return d
}

func (d *discovery) groupVersions() []string { return d.gvs }

func joinGV(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

func legacyResources(r *registry.Resource) []metav1.APIResource {
	out := []metav1.APIResource{{
		Name: r.Resource, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.Kind,
		Verbs: r.ServedVerbs(), ShortNames: r.ShortNames, Categories: r.Categories,
		StorageVersionHash: storageHash(r),
	}}
	for _, sub := range r.Subresources {
		kind := sub.Kind
		if kind == "" {
			kind = r.Kind
		}
		out = append(out, metav1.APIResource{Name: r.Resource + "/" + sub.Name, Namespaced: r.Namespaced,
			Kind: kind, Group: sub.Group, Version: sub.Version, Verbs: sub.Verbs})
	}
	return out
}

func aggregatedResource(r *registry.Resource) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if r.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	out := apidiscoveryv2.APIResourceDiscovery{
		Resource: r.Resource, SingularResource: r.Singular, Scope: scope, Verbs: r.ServedVerbs(),
		ShortNames: r.ShortNames, Categories: r.Categories,
		ResponseKind: &metav1.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind},
	}
	for _, sub := range r.Subresources {
		kind := metav1.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
		if sub.Kind != "" {
			kind = metav1.GroupVersionKind{Group: sub.Group, Version: sub.Version, Kind: sub.Kind}
			if sub.Version == "" {
				kind.Group, kind.Version = r.Group, r.Version
			}
		}
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource: sub.Name, ResponseKind: &kind, Verbs: sub.Verbs})
	}
	return out
}

// storageHash is the storage version hash discovery advertises; clients use
// it only to notice storage changes.
func storageHash(r *registry.Resource) string {
	sum := sha256.Sum256([]byte(r.Group + "/" + r.Version + "/" + r.Kind))
	return hexBase64(sum[:8])
}

func hexBase64(b []byte) string {
	return strings.TrimRight(jsonBase64(b), "=")
}

func jsonBase64(b []byte) string {
	out, _ := json.Marshal(b)
	return strings.Trim(string(out), `"`)
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func mustJSON(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Discovery documents are built from static Go values; failing to
		// encode them is a programming error caught by the tests.
		return []byte("{}")
	}
	return b
}

// wantsAggregated reports whether the client accepts aggregated discovery
// (apidiscovery.k8s.io/v2) before the legacy documents.
func wantsAggregated(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "application/json" && params["g"] == "apidiscovery.k8s.io" && params["v"] == "v2" && params["as"] == "APIGroupDiscoveryList" {
			return true
		}
		if mt == "application/json" && params["as"] == "" {
			return false
		}
	}
	return false
}

// serve answers discovery paths and reports whether the path was one.
func (d *discovery) serve(w http.ResponseWriter, r *http.Request) bool {
	path := strings.Trim(r.URL.Path, "/")
	var body []byte
	switch path {
	case "api", "apis":
		if wantsAggregated(r) {
			body, tag := d.aggAPI, d.aggAPIEtag
			if path == "apis" {
				body, tag = d.aggAPIs, d.aggAPIsTag
			}
			w.Header().Set("Vary", "Accept")
			w.Header().Set("ETag", tag)
			if r.Header.Get("If-None-Match") == tag {
				w.WriteHeader(http.StatusNotModified)
				return true
			}
			w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
			_, _ = w.Write(body)
			return true
		}
		body = d.api
		if path == "apis" {
			body = d.apis
		}
	default:
		b, ok := d.byGV[path]
		if !ok {
			return false
		}
		body = b
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, methodNotAllowed(r.Method, ""))
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	return true
}
