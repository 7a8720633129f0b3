package join

import "net/http"

// CACertsPath is the path, answered before authentication, where agents
// fetch the cluster CA (and check it against their join token).
const CACertsPath = "/skiff/v1/cacerts"

// CACertsHandler serves the cluster CA certificate at CACertsPath and
// passes every other request to next.
func CACertsHandler(caPEM []byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != CACertsPath {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(caPEM)
	})
}
