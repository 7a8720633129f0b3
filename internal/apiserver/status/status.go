// Package status writes errors as Kubernetes Status objects with their
// HTTP codes, for the API server and for the filters and handlers in front
// of it (authentication, authorization, the secrets-encryption endpoints).
package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// From turns any error into the Status Kubernetes would send: an API
// status error as it is, anything else as a 500 InternalError.
func From(err error) *metav1.Status {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		st := s.Status()
		if st.Code == 0 {
			st.Code = http.StatusInternalServerError
		}
		return &st
	}
	st := apierrors.NewInternalError(err).Status()
	return &st
}

// Write writes err as a Status object (JSON) with its HTTP code, and a
// Retry-After header when the Status asks the client to retry.
func Write(w http.ResponseWriter, err error) {
	st := From(err)
	st.Kind, st.APIVersion = "Status", "v1"
	if st.Status == "" {
		st.Status = metav1.StatusFailure
	}
	data, mErr := json.Marshal(st)
	if mErr != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(st.Details.RetryAfterSeconds))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(st.Code))
	_, _ = w.Write(data)
}
