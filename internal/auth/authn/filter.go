package authn

import (
	"github.com/skiff-io/skiff/internal/apiserver/status"
	"log/slog"
	"net/http"
	"strings"

	"github.com/skiff-io/skiff/internal/auth/user"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Filter authenticates every request with auth before next sees it, and
// stores the user in the request context (user.WithUser):
//   - authenticated users get the group system:authenticated (once);
//   - a request without credentials proceeds as system:anonymous in
//     system:unauthenticated when its path is public (one of publicPaths,
//     or below one: prefix + "/"), and is refused with 401 otherwise;
//   - invalid credentials are refused with 401 even on public paths, so a
//     client with a bad token learns that rather than silently losing its
//     identity.
//
// Refused requests are passed to unauthorized, which must answer 401 (the
// audit log wraps Unauthorized to record them); nil means Unauthorized.
func Filter(auth Request, publicPaths []string, next, unauthorized http.Handler) http.Handler {
	if unauthorized == nil {
		unauthorized = http.HandlerFunc(Unauthorized)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := auth.AuthenticateRequest(r)
		switch {
		case err != nil:
			slog.Debug("authentication failed", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			unauthorized.ServeHTTP(w, r)
			return
		case ok:
			u = withAuthenticatedGroup(u)
		case isPublicPath(r.URL.Path, publicPaths):
			u = &user.Info{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}
		default:
			unauthorized.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(user.WithUser(r.Context(), u)))
	})
}

// withAuthenticatedGroup returns u with system:authenticated added, unless
// it already says whether it is authenticated. u is copied, never changed.
func withAuthenticatedGroup(u *user.Info) *user.Info {
	for _, g := range u.Groups {
		if g == user.AllAuthenticated || g == user.AllUnauthenticated {
			return u
		}
	}
	out := *u
	out.Groups = append(append(make([]string, 0, len(u.Groups)+1), u.Groups...), user.AllAuthenticated)
	return &out
}

// isPublicPath reports whether path is one of public or below one of them.
func isPublicPath(path string, public []string) bool {
	for _, p := range public {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// Unauthorized answers 401 with Kubernetes' Status body (reason
// Unauthorized).
func Unauthorized(w http.ResponseWriter, _ *http.Request) {
	status.Write(w, apierrors.NewUnauthorized("Unauthorized"))
}
