package apiserver

import (
	"context"
	"net/http"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Methods the connect-style subresources accept, as in Kubernetes.
var (
	sessionMethods = []string{http.MethodGet, http.MethodPost}
	proxyMethods   = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}
)

// agentSubresources are the subresources agentProxy serves.
var agentSubresources = map[string][]string{
	"pods/log":         {http.MethodGet},
	"pods/exec":        sessionMethods,
	"pods/attach":      sessionMethods,
	"pods/portforward": sessionMethods,
	"pods/proxy":       proxyMethods,
	"nodes/proxy":      proxyMethods,
}

// serve answers one of agentSubresources (key "pods/log", ...) for the
// object info names; subpath is what follows "proxy/" in a proxy request.
func (p *agentProxy) serve(w http.ResponseWriter, r *http.Request, key string, info requestInfo, subpath string) error {
	if !slices.Contains(agentSubresources[key], r.Method) {
		return apierrors.NewMethodNotSupported(schema.GroupResource{Resource: key}, r.Method)
	}
	if strings.HasSuffix(key, "/proxy") && subpath == "" {
		// PodProxyOptions and NodeProxyOptions also take the path as a
		// parameter.
		subpath = strings.TrimPrefix(r.URL.Query().Get("path"), "/")
	}
	ctx := r.Context()
	switch key {
	case "pods/proxy":
		return p.servePodProxy(w, r, info.Namespace, info.Name, subpath)
	case "nodes/proxy":
		return p.serveNodeProxy(w, r, info.Name, subpath)
	}
	pod, err := p.getPod(ctx, info.Namespace, info.Name)
	if err != nil {
		return err
	}
	switch key {
	case "pods/log":
		return p.serveLog(w, r, pod)
	case "pods/portforward":
		return p.servePortForward(w, r, pod)
	}
	return p.serveSession(w, r, pod, key == "pods/exec")
}

// storeGetters returns the pod and node readers agentProxy needs, backed
// by the server's own storage.
func (s *Server) storeGetters() (func(context.Context, string, string) (*corev1.Pod, error), func(context.Context, string) (*corev1.Node, error)) {
	getPod := func(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
		h, ok := s.handlers["/v1/pods"]
		if !ok {
			return nil, errorf("pods are not served")
		}
		obj, err := h.store.Get(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		return obj.(*corev1.Pod), nil
	}
	getNode := func(ctx context.Context, name string) (*corev1.Node, error) {
		h, ok := s.handlers["/v1/nodes"]
		if !ok {
			return nil, errorf("nodes are not served")
		}
		obj, err := h.store.Get(ctx, "", name)
		if err != nil {
			return nil, err
		}
		return obj.(*corev1.Node), nil
	}
	return getPod, getNode
}
