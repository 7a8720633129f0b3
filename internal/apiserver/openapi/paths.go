package openapi

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/skiff-io/skiff/internal/registry"
)

// Media types operations declare. Watch streams are only produced by list
// and watch operations. Each call returns a fresh slice.
func objectMediaTypes() []string {
	return []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
}

func listMediaTypes() []string {
	return append(objectMediaTypes(), "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
}

func patchMediaTypes() []string {
	return []string{
		"application/json-patch+json",
		"application/merge-patch+json",
		"application/strategic-merge-patch+json",
		"application/apply-patch+yaml",
	}
}

func anyMediaType() []string { return []string{"*/*"} }

// The x-kubernetes-action values Kubernetes puts on operations.
const (
	actionGet              = "get"
	actionList             = "list"
	actionPost             = "post"
	actionPut              = "put"
	actionPatch            = "patch"
	actionDelete           = "delete"
	actionDeleteCollection = "deletecollection"
	actionWatch            = "watch"
	actionWatchList        = "watchlist"
	actionConnect          = "connect"
)

// docKey returns the key of a group version's OpenAPI v3 document:
// "api/v1" for the core group, "apis/<group>/<version>" otherwise.
func docKey(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

// apiDocuments groups the routes of every served resource, plus the
// discovery and version endpoints, by OpenAPI v3 document key ("api/v1",
// "apis/apps/v1", "apis/apps", "api", "apis", "version").
func apiDocuments(resources []*registry.Resource, scheme *runtime.Scheme) (map[string][]common.RouteContainer, error) {
	docs := map[string][]common.RouteContainer{}
	groups := map[string]bool{}
	versions := map[schema.GroupVersion]bool{}
	for _, r := range resources {
		gv := r.GroupVersion()
		routes, err := resourceRoutes(r, scheme)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.GroupVersionResource(), err)
		}
		key := docKey(gv)
		docs[key] = append(docs[key], &container{root: "/" + key, routes: routes})
		versions[gv] = true
		if gv.Group != "" {
			groups[gv.Group] = true
		}
	}
	for gv := range versions {
		key := docKey(gv)
		docs[key] = append(docs[key], &container{root: "/" + key, routes: []common.Route{discoveryRoute(
			"/"+key+"/", "get"+groupToken(gv.Group)+upperFirst(gv.Version)+"APIResources", tag(gv),
			"get the resources this group version serves", &metav1.APIResourceList{})}})
	}
	for g := range groups {
		key := "apis/" + g
		docs[key] = []common.RouteContainer{&container{root: "/" + key, routes: []common.Route{discoveryRoute(
			"/"+key+"/", "get"+groupToken(g)+"APIGroup", lowerFirst(groupToken(g)),
			"get the versions of this API group", &metav1.APIGroup{})}}}
	}
	docs["api"] = []common.RouteContainer{&container{root: "/api", routes: []common.Route{discoveryRoute(
		"/api/", "getCoreAPIVersions", "core", "get the versions of the core API", &metav1.APIVersions{})}}}
	if len(groups) > 0 {
		docs["apis"] = []common.RouteContainer{&container{root: "/apis", routes: []common.Route{discoveryRoute(
			"/apis/", "getAPIVersions", "apis", "get the API groups", &metav1.APIGroupList{})}}}
	}
	docs["version"] = []common.RouteContainer{&container{root: "/version", routes: []common.Route{discoveryRoute(
		"/version/", "getCodeVersion", "version", "get the server's version", &version.Info{})}}}
	return docs, nil
}

// allContainers flattens docs in key order, for the v2 document that
// describes every path at once.
func allContainers(docs map[string][]common.RouteContainer) []common.RouteContainer {
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var all []common.RouteContainer
	for _, k := range keys {
		all = append(all, docs[k]...)
	}
	return all
}

func discoveryRoute(path, id, tag, description string, model interface{}) common.Route {
	return &route{
		method: http.MethodGet, path: path, operationID: id, tag: tag, description: description,
		consumes: objectMediaTypes(), produces: objectMediaTypes(),
		responses: []common.StatusCodeResponse{response{http.StatusOK, "OK", model}},
	}
}

// resourceOps builds the routes of one resource. Its fields are the parts
// every operation id and path of the resource share.
type resourceOps struct {
	r        *registry.Resource
	gvToken  string // "CoreV1", "AppsV1"
	tag      string // "core_v1"
	scope    string // "Namespaced" or ""
	prefix   string // "/api/v1", "/apis/apps/v1"
	coll     string // collection path
	item     string // object path
	scoped   []common.Parameter
	named    []common.Parameter
	gvk      map[string]interface{}
	obj      runtime.Object
	nameDesc string
}

// resourceRoutes returns the operations Kubernetes serves for resource r:
// list/create/deletecollection on the collection, get/replace/patch/delete
// on the object, watch paths, the all-namespaces list of namespaced
// resources and the subresources.
func resourceRoutes(r *registry.Resource, scheme *runtime.Scheme) ([]common.Route, error) {
	if r.New == nil {
		return nil, fmt.Errorf("resource has no New function")
	}
	gv := r.GroupVersion()
	o := &resourceOps{
		r:       r,
		gvToken: groupToken(gv.Group) + upperFirst(gv.Version),
		tag:     tag(gv),
		prefix:  "/" + docKey(gv),
		gvk:     gvkObject(r.GroupVersionKind()),
		obj:     r.New(),
	}
	o.nameDesc = "name of the " + r.Kind
	if r.Namespaced {
		o.scope = "Namespaced"
		o.coll = o.prefix + "/namespaces/{namespace}/" + r.Resource
		o.scoped = []common.Parameter{paramNamespace, paramPretty}
	} else {
		o.coll = o.prefix + "/" + r.Resource
		o.scoped = []common.Parameter{paramPretty}
	}
	o.item = o.coll + "/{name}"
	o.named = append([]common.Parameter{pathParam("name", o.nameDesc)}, o.scoped...)

	// Resources without a list type (reviews, for example) are create-only.
	if r.NewList == nil {
		return []common.Route{o.create(o.coll, "", o.obj, o.gvk)}, nil
	}
	list := r.NewList()
	routes := []common.Route{
		o.list(list),
		o.create(o.coll, "", o.obj, o.gvk),
		o.deleteCollection(),
		o.read(o.item, "", o.obj, o.gvk, o.named),
		o.replace(o.item, "", o.obj, o.gvk),
		o.patch(o.item, "", o.obj, o.gvk),
		o.delete(),
		o.watchList(),
		o.watch(),
	}
	if r.Namespaced {
		routes = append(routes, o.listAllNamespaces(list), o.watchAllNamespaces())
	}
	for _, s := range r.Subresources {
		routes = append(routes, o.subresource(s, scheme)...)
	}
	return routes, nil
}

func (o *resourceOps) op(method, path, verb, idSuffix, action string, gvk map[string]interface{}) *route {
	return &route{
		method:      method,
		path:        path,
		operationID: verb + o.gvToken + o.scope + o.r.Kind + idSuffix,
		tag:         o.tag,
		consumes:    anyMediaType(),
		produces:    objectMediaTypes(),
		extensions:  map[string]interface{}{"x-kubernetes-action": action, gvkExtension: gvk},
	}
}

func joinParams(groups ...[]common.Parameter) []common.Parameter {
	var out []common.Parameter
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func ok(model interface{}) common.StatusCodeResponse {
	return response{http.StatusOK, "OK", model}
}

func created(model interface{}) common.StatusCodeResponse {
	return response{http.StatusCreated, "Created", model}
}

func accepted(model interface{}) common.StatusCodeResponse {
	return response{http.StatusAccepted, "Accepted", model}
}

func (o *resourceOps) list(list runtime.Object) *route {
	rt := o.op(http.MethodGet, o.coll, "list", "", actionList, o.gvk)
	rt.description = "list or watch " + o.r.Kind + " objects"
	rt.params = joinParams(o.scoped, listParams())
	rt.produces = listMediaTypes()
	rt.responses = []common.StatusCodeResponse{ok(list)}
	return rt
}

func (o *resourceOps) listAllNamespaces(list runtime.Object) *route {
	rt := o.op(http.MethodGet, o.prefix+"/"+o.r.Resource, "list", "ForAllNamespaces", actionList, o.gvk)
	rt.operationID = "list" + o.gvToken + o.r.Kind + "ForAllNamespaces"
	rt.description = "list or watch " + o.r.Kind + " objects in every namespace"
	rt.params = joinParams([]common.Parameter{paramPretty}, listParams())
	rt.produces = listMediaTypes()
	rt.responses = []common.StatusCodeResponse{ok(list)}
	return rt
}

// create describes a POST of body to path; sub is the subresource word
// appended to the operation id ("Binding"), empty for the resource itself.
func (o *resourceOps) create(path, sub string, body interface{}, gvk map[string]interface{}) *route {
	rt := o.op(http.MethodPost, path, "create", sub, actionPost, gvk)
	rt.description = "create " + describe(o.r.Kind, sub)
	rt.params = joinParams(o.scopedFor(path), writeParams())
	rt.body = body
	rt.responses = []common.StatusCodeResponse{ok(body), created(body), accepted(body)}
	return rt
}

func (o *resourceOps) deleteCollection() *route {
	rt := o.op(http.MethodDelete, o.coll, "delete", "", actionDeleteCollection, o.gvk)
	rt.operationID = "delete" + o.gvToken + "Collection" + o.scope + o.r.Kind
	rt.description = "delete a collection of " + o.r.Kind + " objects"
	rt.params = joinParams(o.scoped, deleteCollectionParams())
	rt.body = &metav1.DeleteOptions{}
	rt.responses = []common.StatusCodeResponse{ok(&metav1.Status{})}
	return rt
}

func (o *resourceOps) read(path, sub string, model interface{}, gvk map[string]interface{}, ps []common.Parameter) *route {
	rt := o.op(http.MethodGet, path, "read", sub, actionGet, gvk)
	rt.description = "read " + describe(o.r.Kind, sub)
	rt.params = ps
	rt.responses = []common.StatusCodeResponse{ok(model)}
	return rt
}

func (o *resourceOps) replace(path, sub string, body interface{}, gvk map[string]interface{}) *route {
	rt := o.op(http.MethodPut, path, "replace", sub, actionPut, gvk)
	rt.description = "replace " + describe(o.r.Kind, sub)
	rt.params = joinParams(o.named, writeParams())
	rt.body = body
	rt.responses = []common.StatusCodeResponse{ok(body), created(body)}
	return rt
}

func (o *resourceOps) patch(path, sub string, model interface{}, gvk map[string]interface{}) *route {
	rt := o.op(http.MethodPatch, path, "patch", sub, actionPatch, gvk)
	rt.description = "partially update " + describe(o.r.Kind, sub)
	rt.params = joinParams(o.named, patchParams())
	rt.consumes = patchMediaTypes()
	rt.body = &metav1.Patch{}
	rt.responses = []common.StatusCodeResponse{ok(model), created(model)}
	return rt
}

func (o *resourceOps) delete() *route {
	rt := o.op(http.MethodDelete, o.item, "delete", "", actionDelete, o.gvk)
	rt.description = "delete a " + o.r.Kind
	rt.params = joinParams(o.named, deleteParams())
	rt.body = &metav1.DeleteOptions{}
	rt.responses = []common.StatusCodeResponse{ok(&metav1.Status{}), accepted(&metav1.Status{})}
	return rt
}

func (o *resourceOps) watchList() *route {
	path := o.prefix + "/watch" + strings.TrimPrefix(o.coll, o.prefix)
	rt := o.op(http.MethodGet, path, "watch", "List", actionWatchList, o.gvk)
	rt.description = "watch changes to a list of " + o.r.Kind + " objects"
	rt.params = joinParams(o.scoped, listParams())
	rt.produces = listMediaTypes()
	rt.responses = []common.StatusCodeResponse{ok(&metav1.WatchEvent{})}
	return rt
}

func (o *resourceOps) watch() *route {
	path := o.prefix + "/watch" + strings.TrimPrefix(o.item, o.prefix)
	rt := o.op(http.MethodGet, path, "watch", "", actionWatch, o.gvk)
	rt.description = "watch changes to a " + o.r.Kind
	rt.params = joinParams(o.named, listParams())
	rt.produces = listMediaTypes()
	rt.responses = []common.StatusCodeResponse{ok(&metav1.WatchEvent{})}
	return rt
}

func (o *resourceOps) watchAllNamespaces() *route {
	rt := o.op(http.MethodGet, o.prefix+"/watch/"+o.r.Resource, "watch", "", actionWatchList, o.gvk)
	rt.operationID = "watch" + o.gvToken + o.r.Kind + "ListForAllNamespaces"
	rt.description = "watch changes to " + o.r.Kind + " objects in every namespace"
	rt.params = joinParams([]common.Parameter{paramPretty}, listParams())
	rt.produces = listMediaTypes()
	rt.responses = []common.StatusCodeResponse{ok(&metav1.WatchEvent{})}
	return rt
}

// scopedFor returns the path parameters and pretty for path: object paths
// carry a name, the collection does not.
func (o *resourceOps) scopedFor(path string) []common.Parameter {
	if strings.HasPrefix(path, o.item) {
		return o.named
	}
	return o.scoped
}

func describe(kind, sub string) string {
	if sub == "" {
		return "a " + kind
	}
	return strings.ToLower(sub) + " of a " + kind
}
