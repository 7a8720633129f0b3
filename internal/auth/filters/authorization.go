// Package filters holds the HTTP filters that run between authentication
// and the API server: impersonation and authorization.
package filters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/skiff-io/skiff/internal/apiserver/request"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Annotator records a key/value about the request (the audit log's
// annotations); nil ignores them.
type Annotator func(ctx context.Context, key, value string)

// Config configures the filters.
type Config struct {
	Authorizer authorizer.Authorizer
	Annotate   Annotator
	Logger     *slog.Logger
}

func (c Config) annotate(ctx context.Context, key, value string) {
	if c.Annotate != nil {
		c.Annotate(ctx, key, value)
	}
}

// RequestAttributes turns an HTTP request by u into authorization
// attributes, with Kubernetes' verbs.
func RequestAttributes(r *http.Request, u *user.Info) authorizer.Attributes {
	if info, ok := request.Parse(r); ok {
		return authorizer.Attributes{User: u, ResourceRequest: true, Verb: info.Verb, Namespace: info.Namespace,
			APIGroup: info.Group, APIVersion: info.Version, Resource: info.Resource, Subresource: subresourceName(info.Subresource),
			Name: info.Name, Path: r.URL.Path}
	}
	return authorizer.Attributes{User: u, Verb: nonResourceVerb(r.Method), Path: r.URL.Path}
}

// subresourceName drops the path below a proxy subresource
// (nodes/n/proxy/stats/summary is nodes/proxy).
func subresourceName(sub string) string {
	name, _, _ := strings.Cut(sub, "/")
	return name
}

func nonResourceVerb(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "get"
	case http.MethodPost:
		return "post"
	case http.MethodPut:
		return "put"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(method)
}

// Authorization refuses requests the authorizer does not allow with 403 and
// Kubernetes' message.
func Authorization(cfg Config, next http.Handler) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		u, ok := user.From(ctx)
		if !ok {
			writeStatus(w, apierrors.NewInternalError(fmt.Errorf("no user on the request")))
			return
		}
		attrs := RequestAttributes(r, u)
		decision, reason, err := cfg.Authorizer.Authorize(ctx, attrs)
		if decision == authorizer.Allow {
			cfg.annotate(ctx, "authorization.k8s.io/decision", "allow")
			cfg.annotate(ctx, "authorization.k8s.io/reason", reason)
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			cfg.Logger.Warn("authorization error", "user", u.Name, "path", r.URL.Path, "err", err)
		}
		cfg.annotate(ctx, "authorization.k8s.io/decision", "forbid")
		cfg.annotate(ctx, "authorization.k8s.io/reason", reason)
		writeStatus(w, Forbidden(attrs, reason))
	})
}

// Forbidden is the 403 Kubernetes answers when attrs are not allowed, e.g.
// `pods "web" is forbidden: User "alice" cannot get resource "pods" in API
// group "" in the namespace "team"`.
func Forbidden(attrs authorizer.Attributes, reason string) *apierrors.StatusError {
	var msg string
	if attrs.ResourceRequest {
		resource := attrs.Resource
		if attrs.Subresource != "" {
			resource += "/" + attrs.Subresource
		}
		scope := "at the cluster scope"
		if attrs.Namespace != "" {
			scope = fmt.Sprintf("in the namespace %q", attrs.Namespace)
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q %s", attrs.User.Name, attrs.Verb, resource, attrs.APIGroup, scope)
	} else {
		msg = fmt.Sprintf("User %q cannot %s path %q", attrs.User.Name, attrs.Verb, attrs.Path)
	}
	if reason != "" {
		msg += ": " + reason
	}
	// A non-resource refusal has no group/resource: its message starts
	// "forbidden: ".
	return apierrors.NewForbidden(schema.GroupResource{Group: attrs.APIGroup, Resource: attrs.Resource}, attrs.Name, errors.New(msg))
}
