package agentserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Errors callbacks wrap (with %w) to choose the HTTP status of the answer.
var (
	// ErrNotFound: the pod or container is not on this agent (404).
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: the request cannot be served as asked, e.g. the
	// container has not started yet (400).
	ErrBadRequest = errors.New("bad request")
)

// errorStatus turns an error from a callback or the runtime into the
// Status the agent answers with. The message is the error's text.
func errorStatus(err error) *metav1.Status {
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		st := apiStatus.Status()
		return &st
	}
	code, reason := http.StatusInternalServerError, metav1.StatusReasonInternalError
	switch {
	case errors.Is(err, ErrNotFound):
		code, reason = http.StatusNotFound, metav1.StatusReasonNotFound
	case errors.Is(err, ErrBadRequest):
		code, reason = http.StatusBadRequest, metav1.StatusReasonBadRequest
	default:
		if st, ok := grpcstatus.FromError(err); ok {
			switch st.Code() {
			case codes.NotFound:
				code, reason = http.StatusNotFound, metav1.StatusReasonNotFound
			case codes.InvalidArgument:
				code, reason = http.StatusBadRequest, metav1.StatusReasonBadRequest
			case codes.ResourceExhausted:
				code, reason = http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests
			}
		}
	}
	return &metav1.Status{Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: err.Error()}
}

// writeStatus answers with st as JSON and its code as the HTTP status.
func writeStatus(w http.ResponseWriter, st *metav1.Status) {
	st.Kind, st.APIVersion = "Status", "v1"
	if st.Status == "" {
		st.Status = metav1.StatusFailure
	}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	data, err := json.Marshal(st)
	if err != nil {
		http.Error(w, st.Message, int(st.Code))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(st.Code))
	_, _ = w.Write(data)
}

// writeError answers with errorStatus(err).
func writeError(w http.ResponseWriter, err error) {
	writeStatus(w, errorStatus(err))
}

// badRequest answers 400 with err's text.
func badRequest(w http.ResponseWriter, err error) {
	writeStatus(w, &metav1.Status{Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest, Message: err.Error()})
}

// notFound answers 404 with msg.
func notFound(w http.ResponseWriter, msg string) {
	writeStatus(w, &metav1.Status{Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound, Message: msg})
}
