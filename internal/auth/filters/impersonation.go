package filters

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Kubernetes' impersonation headers.
const (
	headerUser        = "Impersonate-User"
	headerUID         = "Impersonate-Uid"
	headerGroup       = "Impersonate-Group"
	headerExtraPrefix = "Impersonate-Extra-"
)

// ImpersonatedUserSetter records who a request impersonates (the audit
// log's impersonatedUser); nil ignores it.
type ImpersonatedUserSetter func(ctx context.Context, u *user.Info)

// Impersonation lets a user act as another one (`kubectl --as`,
// `--as-group`) when allowed to `impersonate` each of the requested user,
// groups, uid and extra values, as Kubernetes does. The request then runs
// as the impersonated user.
func Impersonation(cfg Config, setImpersonated ImpersonatedUserSetter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, requested, err := impersonationRequest(r.Header)
		if err != nil {
			writeStatus(w, apierrors.NewBadRequest(err.Error()))
			return
		}
		if !requested {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		requester, ok := user.From(ctx)
		if !ok {
			writeStatus(w, apierrors.NewInternalError(fmt.Errorf("no user on the request")))
			return
		}
		for _, check := range impersonationChecks(want) {
			check.User = requester
			d, reason, _ := cfg.Authorizer.Authorize(ctx, check)
			if d != authorizer.Allow {
				writeStatus(w, Forbidden(check, reason))
				return
			}
		}
		if setImpersonated != nil {
			setImpersonated(ctx, want)
		}
		for h := range r.Header {
			if strings.HasPrefix(h, "Impersonate-") {
				r.Header.Del(h)
			}
		}
		next.ServeHTTP(w, r.WithContext(user.WithUser(ctx, want)))
	})
}

// impersonationRequest reads the impersonation headers into the user they
// ask for, completing its groups as Kubernetes does.
func impersonationRequest(h http.Header) (*user.Info, bool, error) {
	name := h.Get(headerUser)
	groups := h.Values(headerGroup)
	uid := h.Get(headerUID)
	extra := map[string][]string{}
	for k, vs := range h {
		if rest, ok := strings.CutPrefix(k, headerExtraPrefix); ok {
			key, err := url.PathUnescape(strings.ToLower(rest))
			if err != nil {
				return nil, false, fmt.Errorf("invalid impersonation extra key %q: %w", rest, err)
			}
			extra[key] = append(extra[key], vs...)
		}
	}
	if name == "" {
		if len(groups) > 0 || uid != "" || len(extra) > 0 {
			return nil, false, fmt.Errorf("requested %v without impersonating a user", impersonationSummary(groups, uid, extra))
		}
		return nil, false, nil
	}
	u := &user.Info{Name: name, UID: uid, Groups: append([]string(nil), groups...)}
	if len(extra) > 0 {
		u.Extra = extra
	}
	if ns, _, ok := serviceAccountName(name); ok {
		u.Groups = appendMissing(u.Groups, user.ServiceAccountsGroup, user.ServiceAccountsGroup+":"+ns)
	}
	if name == user.Anonymous {
		u.Groups = appendMissing(u.Groups, user.AllUnauthenticated)
	} else {
		u.Groups = appendMissing(u.Groups, user.AllAuthenticated)
	}
	return u, true, nil
}

func impersonationSummary(groups []string, uid string, extra map[string][]string) string {
	var parts []string
	for _, g := range groups {
		parts = append(parts, "group "+g)
	}
	if uid != "" {
		parts = append(parts, "uid "+uid)
	}
	for k := range extra {
		parts = append(parts, "extra "+k)
	}
	return strings.Join(parts, ", ")
}

// impersonationChecks lists the permissions impersonating u needs: the
// user (or service account), each explicitly requested group, the uid and
// every extra value. Groups the server adds itself need no permission.
func impersonationChecks(u *user.Info) []authorizer.Attributes {
	var out []authorizer.Attributes
	if ns, sa, ok := serviceAccountName(u.Name); ok {
		out = append(out, authorizer.Attributes{ResourceRequest: true, Verb: "impersonate", Resource: "serviceaccounts", Namespace: ns, Name: sa})
	} else {
		out = append(out, authorizer.Attributes{ResourceRequest: true, Verb: "impersonate", Resource: "users", Name: u.Name})
	}
	for _, g := range u.Groups {
		if isImplicitGroup(u.Name, g) {
			continue
		}
		out = append(out, authorizer.Attributes{ResourceRequest: true, Verb: "impersonate", Resource: "groups", Name: g})
	}
	if u.UID != "" {
		out = append(out, authorizer.Attributes{ResourceRequest: true, Verb: "impersonate", APIGroup: "authentication.k8s.io", Resource: "uids", Name: u.UID})
	}
	for k, vs := range u.Extra {
		for _, v := range vs {
			out = append(out, authorizer.Attributes{ResourceRequest: true, Verb: "impersonate", APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: k, Name: v})
		}
	}
	return out
}

func isImplicitGroup(name, group string) bool {
	switch group {
	case user.AllAuthenticated:
		return name != user.Anonymous
	case user.AllUnauthenticated:
		return name == user.Anonymous
	}
	if ns, _, ok := serviceAccountName(name); ok {
		return group == user.ServiceAccountsGroup || group == user.ServiceAccountsGroup+":"+ns
	}
	return false
}

func serviceAccountName(name string) (namespace, sa string, ok bool) {
	rest, ok := strings.CutPrefix(name, user.ServiceAccountPrefix)
	if !ok {
		return "", "", false
	}
	namespace, sa, ok = strings.Cut(rest, ":")
	return namespace, sa, ok && namespace != "" && sa != ""
}

func appendMissing(groups []string, add ...string) []string {
	for _, g := range add {
		found := false
		for _, have := range groups {
			if have == g {
				found = true
				break
			}
		}
		if !found {
			groups = append(groups, g)
		}
	}
	return groups
}
