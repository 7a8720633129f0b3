package encryption

import (
	"encoding/json"
	"errors"
	"github.com/skiff-io/skiff/internal/apiserver/status"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/filters"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// Paths the handler serves.
const (
	StatusPath = "/skiff/v1/secrets-encrypt/status"
	RotatePath = "/skiff/v1/secrets-encrypt/rotate"
)

// Handler serves GET StatusPath (a Status) and POST RotatePath (a
// RotateResult) as JSON, to members of system:masters only; failures are
// Kubernetes Status objects. The caller's authentication filter must have
// put the user in the request context (user.WithUser).
func Handler(ctrl *Controller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verb, allowed := routeVerb(r.URL.Path, r.Method)
		if verb == "" {
			writeStatus(w, apierrors.NewNotFound(SecretsResource, r.URL.Path))
			return
		}
		u, _ := user.From(r.Context())
		if !u.InGroup(user.SystemPrivilegedGroup) {
			writeStatus(w, forbidden(u, strings.ToLower(r.Method), r.URL.Path))
			return
		}
		if !allowed {
			writeStatus(w, apierrors.NewMethodNotSupported(SecretsResource, strings.ToLower(r.Method)))
			return
		}
		switch verb {
		case "status":
			st, err := ctrl.Status(r.Context())
			if err != nil {
				writeStatus(w, apierrors.NewInternalError(err))
				return
			}
			writeJSON(w, http.StatusOK, st)
		case "rotate":
			res, err := ctrl.Rotate(r.Context())
			switch {
			case errors.Is(err, ErrRotationInProgress):
				writeStatus(w, apierrors.NewConflict(SecretsResource, "", err))
			case err != nil:
				writeStatus(w, apierrors.NewInternalError(err))
			default:
				writeJSON(w, http.StatusOK, res)
			}
		}
	})
}

// routeVerb names the operation at path and whether method is the one it
// takes; verb is "" for an unknown path.
func routeVerb(path, method string) (verb string, allowed bool) {
	switch path {
	case StatusPath:
		return "status", method == http.MethodGet
	case RotatePath:
		return "rotate", method == http.MethodPost
	}
	return "", false
}

// forbidden is Kubernetes' refusal of a non-resource request.
func forbidden(u *user.Info, verb, path string) *apierrors.StatusError {
	if u == nil {
		u = &user.Info{Name: user.Anonymous}
	}
	return filters.Forbidden(authorizer.Attributes{User: u, Verb: verb, Path: path}, "")
}

// writeStatus writes err as a Status object with its code.
func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) { status.Write(w, err) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
