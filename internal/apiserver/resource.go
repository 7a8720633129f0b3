package apiserver

import (
	"context"
	"fmt"
	"net/http"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/storage"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resourceHandler serves one resource of one group version.
type resourceHandler struct {
	s     *Server
	res   *registry.Resource
	gr    schema.GroupResource
	gvk   schema.GroupVersionKind
	store *storage.Resource
	// conv is non-nil when the resource is stored as another version.
	conv *registry.Converter
}

func newResourceHandler(s *Server, res *registry.Resource, owners map[schema.GroupResource]*registry.Resource) (*resourceHandler, error) {
	h := &resourceHandler{s: s, res: res, gr: schema.GroupResource{Group: res.Group, Resource: res.Resource}, gvk: res.GroupVersionKind()}
	if res.IsReview() {
		return h, nil
	}
	owner := res
	if res.StorageResource != nil {
		owner = owners[*res.StorageResource]
		if owner == nil || res.Convert == nil {
			return nil, fmt.Errorf("apiserver: %s/%s shares storage with %v, which is not served or has no converter", res.Group, res.Resource, *res.StorageResource)
		}
		h.conv = res.Convert
	}
	h.store = s.cfg.Store.Register(storage.ResourceConfig{
		GroupResource: schema.GroupResource{Group: owner.Group, Resource: owner.Resource},
		Kind:          owner.GroupVersionKind(),
		New:           owner.New,
		Namespaced:    owner.Namespaced,
	})
	return h, nil
}

// served converts a stored object to the served version. The result is
// shared when no conversion is needed: callers must not modify it.
func (h *resourceHandler) served(obj runtime.Object) (runtime.Object, error) {
	if h.conv == nil {
		return obj, nil
	}
	out, err := h.conv.FromStorage(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out.GetObjectKind().SetGroupVersionKind(h.gvk)
	return out, nil
}

// stored converts a served object to the stored version.
func (h *resourceHandler) stored(obj runtime.Object) (runtime.Object, error) {
	if h.conv == nil {
		return obj, nil
	}
	out, err := h.conv.ToStorage(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return out, nil
}

func (h *resourceHandler) serve(w http.ResponseWriter, r *http.Request, info requestInfo) {
	ctx := r.Context()
	if h.res.Namespaced && info.Namespace == "" && info.Verb != "list" && info.Verb != "watch" {
		notFound(w)
		return
	}
	if !h.res.Namespaced && info.Namespace != "" {
		notFound(w)
		return
	}
	if info.Subresource != "" {
		// Only proxy has a path below it (nodes/x/proxy/stats/summary).
		if name, _, ok := proxySubpath(info.Subresource); !ok || !h.res.HasSubresource(name) {
			notFound(w)
			return
		}
	}
	var err error
	switch {
	case h.res.IsReview():
		err = h.serveReview(ctx, w, r, info)
	case h.gr.Resource == "serviceaccounts" && h.gr.Group == "" && info.Subresource == "token" && info.Verb == "create":
		err = h.tokenRequest(ctx, w, r, info)
	default:
		err = h.serveStored(ctx, w, r, info)
	}
	if err != nil {
		writeError(w, err)
	}
}

func (h *resourceHandler) serveStored(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	var err error
	switch info.Subresource {
	case "":
		err = h.serveMain(ctx, w, r, info)
	case "status":
		err = h.serveStatus(ctx, w, r, info)
	case "scale":
		err = h.serveScale(ctx, w, r, info)
	case "ephemeralcontainers", "resize", "approval":
		err = h.serveStatus(ctx, w, r, info)
	default:
		err = h.serveSpecial(ctx, w, r, info)
	}
	return err
}

func (h *resourceHandler) serveMain(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	switch info.Verb {
	case "get":
		return h.get(ctx, w, r, info)
	case "list":
		return h.list(ctx, w, r, info)
	case "watch":
		return h.watch(ctx, w, r, info)
	case "create":
		return h.create(ctx, w, r, info)
	case "update":
		return h.update(ctx, w, r, info, "")
	case "patch":
		return h.patch(ctx, w, r, info, "")
	case "delete":
		return h.delete(ctx, w, r, info)
	case "deletecollection":
		return h.deleteCollection(ctx, w, r, info)
	}
	return methodNotAllowed(r.Method, h.gr.String())
}

// serveStatus serves status and the other subresources that are a view of
// the whole object with a restricted update (ephemeralcontainers, resize).
func (h *resourceHandler) serveStatus(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	switch info.Verb {
	case "get":
		return h.get(ctx, w, r, info)
	case "update":
		return h.update(ctx, w, r, info, info.Subresource)
	case "patch":
		return h.patch(ctx, w, r, info, info.Subresource)
	}
	return methodNotAllowed(r.Method, h.gr.String()+"/"+info.Subresource)
}

// fieldsOf returns the selectable fields of obj: metadata.name,
// metadata.namespace and whatever the resource's strategy adds.
func (h *resourceHandler) fieldsOf(obj runtime.Object) fields.Set {
	set := fields.Set{}
	if fs, ok := h.res.Strategy.(registry.FieldSelectable); ok {
		if extra, err := h.served(obj); err == nil {
			for k, v := range fs.SelectableFields(extra) {
				set[k] = v
			}
		}
	}
	if m, err := meta.Accessor(obj); err == nil {
		set["metadata.name"] = m.GetName()
		if h.res.Namespaced {
			set["metadata.namespace"] = m.GetNamespace()
		}
	}
	return set
}

// supportedField reports whether label is a field this resource can be
// selected by.
func (h *resourceHandler) supportedField(label string) bool {
	if label == "metadata.name" || (label == "metadata.namespace" && h.res.Namespaced) {
		return true
	}
	fs, ok := h.res.Strategy.(registry.FieldSelectable)
	if !ok {
		return false
	}
	probe := h.res.New()
	_, present := fs.SelectableFields(probe)[label]
	return present
}
