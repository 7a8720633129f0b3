package server

import (
	"net/http"
	"strings"
)

// publicPaths answer without credentials, as Kubernetes' default RBAC lets
// anonymous users reach health checks and the version.
var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version"}

// authenticate refuses requests without a client certificate signed by the
// cluster CA (the TLS layer has already verified any certificate sent).
// Token authentication and RBAC come with the security work.
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range publicPaths {
			if r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/") {
				next.ServeHTTP(w, r)
				return
			}
		}
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
