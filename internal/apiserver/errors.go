package apiserver

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/apiserver/status"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// toStatus turns any error into the Status Kubernetes would send.
func toStatus(err error) *metav1.Status { return status.From(err) }

// writeError writes err as a Status object with its HTTP code.
func writeError(w http.ResponseWriter, err error) { status.Write(w, err) }

// methodNotAllowed is Kubernetes' answer to a verb a resource does not serve.
func methodNotAllowed(verb, resource string) error {
	return apierrors.NewMethodNotSupported(groupResourceOf(resource), verb)
}

// unsupportedMediaType is the 415 Kubernetes returns for a body type it
// cannot read.
func unsupportedMediaType(ct string, accepted ...string) error {
	msg := fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s", strings.Join(accepted, ", "))
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType,
		Reason: metav1.StatusReasonUnsupportedMediaType, Message: msg,
	}}
}

var (
	bodyMediaTypes  = []string{"application/json", "application/yaml"}
	patchMediaTypes = []string{"application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml", "application/strategic-merge-patch+json"}
)
