package openapi

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/skiff-io/skiff/internal/registry"
)

// connectOptionsSuffix returns, for a connect subresource, the suffix of
// the options kind Kubernetes tags its operations with ("PodExecOptions"),
// and whether name is a connect subresource at all.
func connectOptionsSuffix(name string) (string, bool) {
	switch name {
	case "exec":
		return "ExecOptions", true
	case "attach":
		return "AttachOptions", true
	case "portforward":
		return "PortForwardOptions", true
	case "proxy":
		return "ProxyOptions", true
	}
	return "", false
}

// connectParams are the query parameters of each connect subresource.
func connectParams(name string) []common.Parameter {
	stream := []common.Parameter{
		queryParam("container", "string", "Container to use; defaults to the only container."),
		queryParam("stderr", "boolean", "Stream the container's standard error."),
		queryParam("stdin", "boolean", "Stream to the container's standard input."),
		queryParam("stdout", "boolean", "Stream the container's standard output."),
		queryParam("tty", "boolean", "Allocate a terminal."),
	}
	switch name {
	case "exec":
		return append([]common.Parameter{queryParam("command", "string", "Command to run, one argument per parameter.")}, stream...)
	case "attach":
		return stream
	case "portforward":
		return []common.Parameter{queryParam("ports", "integer", "Ports to forward.")}
	case "proxy":
		return []common.Parameter{queryParam("path", "string", "Path to forward the request to.")}
	}
	return nil
}

// logParams are the query parameters of pods/log.
func logParams() []common.Parameter {
	return []common.Parameter{
		queryParam("container", "string", "Container whose log to read; defaults to the only container."),
		queryParam("follow", "boolean", "Keep the stream open and send new log lines as they are written."),
		queryParam("insecureSkipTLSVerifyBackend", "boolean", "Do not verify the serving certificate of the node the log is read from."),
		queryParam("limitBytes", "integer", "Stop after this many bytes."),
		queryParam("previous", "boolean", "Read the log of the previous, terminated instance of the container."),
		queryParam("sinceSeconds", "integer", "Only return lines newer than this many seconds."),
		queryParam("stream", "string", "Which stream to return: All, Stdout or Stderr."),
		queryParam("tailLines", "integer", "Only return this many lines from the end of the log."),
		queryParam("timestamps", "boolean", "Prefix every line with its RFC3339 timestamp."),
	}
}

// subresource returns the operations of one subresource. Subresources the
// generic handlers implement (status, scale) and ones that take or return
// a kind (binding, eviction, token, ephemeralcontainers) are described by
// their verbs; log and the connect subresources get their special shapes.
// A subresource whose kind the scheme does not know is left out.
func (o *resourceOps) subresource(s registry.Subresource, scheme *runtime.Scheme) []common.Route {
	path := o.item + "/" + s.Name
	word := upperFirst(s.Name)
	if s.Name == "log" {
		rt := o.read(path, word, "", o.gvk, joinParams(o.named, logParams()))
		rt.produces = append([]string{"text/plain"}, objectMediaTypes()...)
		return []common.Route{rt}
	}
	if suffix, isConnect := connectOptionsSuffix(s.Name); isConnect {
		return o.connect(s.Name, path, suffix, scheme)
	}

	model := runtime.Object(o.r.New())
	gvk := o.r.GroupVersionKind()
	if s.Kind != "" {
		gvk = schema.GroupVersionKind{Group: o.r.Group, Version: o.r.Version, Kind: s.Kind}
		if s.Group != "" || s.Version != "" {
			gvk.Group, gvk.Version = s.Group, s.Version
		}
		obj, err := scheme.New(gvk)
		if err != nil {
			return nil
		}
		model = obj
	}
	ext := gvkObject(gvk)
	var routes []common.Route
	for _, verb := range s.Verbs {
		switch verb {
		case "get":
			routes = append(routes, o.read(path, word, model, ext, o.named))
		case "update":
			routes = append(routes, o.replace(path, word, model, ext))
		case "patch":
			routes = append(routes, o.patch(path, word, model, ext))
		case "create":
			routes = append(routes, o.create(path, word, model, ext))
		}
	}
	return routes
}

// connect describes a streaming subresource (exec, attach, portforward,
// proxy): GET and POST, plus every other method for proxy, each answering
// with an opaque stream.
func (o *resourceOps) connect(name, path, suffix string, scheme *runtime.Scheme) []common.Route {
	gvk := o.r.GroupVersionKind()
	if options := (schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: o.r.Kind + suffix}); scheme.Recognizes(options) {
		gvk = options
	}
	methods := []string{http.MethodGet, http.MethodPost}
	if name == "proxy" {
		methods = append(methods, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions)
	}
	var routes []common.Route
	for _, m := range methods {
		rt := o.op(m, path, "connect", "", actionConnect, gvkObject(gvk))
		// Kubernetes puts the method between "connect" and the group version.
		rt.operationID = "connect" + o.gvToken + methodWord(m) + o.scope + o.r.Kind + upperFirst(name)
		rt.description = "connect " + m + " requests to " + name + " of a " + o.r.Kind
		rt.params = joinParams(o.named, connectParams(name))
		rt.produces = anyMediaType()
		rt.responses = []common.StatusCodeResponse{ok("")}
		routes = append(routes, rt)
	}
	return routes
}

// methodWord spells an HTTP method the way operation ids do ("Get").
func methodWord(m string) string {
	if m == "" {
		return m
	}
	return m[:1] + strings.ToLower(m[1:])
}
