package patch

import (
	"errors"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxJSONPatchOperations is kube-apiserver's limit on the operations of
// one JSON patch.
const maxJSONPatchOperations = 10000

// acceptedPatchTypes lists the patch media types of built-in resources as
// kube-apiserver does in its 415 message.
const acceptedPatchTypes = "application/json-patch+json, application/merge-patch+json, " +
	"application/strategic-merge-patch+json, application/apply-patch+yaml"

// unsupportedPatchType is the 415 kube-apiserver answers a PATCH whose
// content type it does not know with.
func unsupportedPatchType() error {
	msg := "the body of the request was in an unknown format - accepted media types include: " + acceptedPatchTypes
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "", msg, 0, false)
}

// unprocessable is the 422 kube-apiserver returns when a well-formed patch
// cannot be applied. Like kube-apiserver it carries the generic message
// only: the library's reason is not shown to clients.
func unprocessable(err error) error {
	return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
}

// invalidPatchResult reports a patched document that does not decode into
// the object's type.
func invalidPatchResult(value string, err error) error {
	return apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
		field.Invalid(field.NewPath("patch"), value, err.Error()),
	})
}

// strictError reports unknown or duplicate fields found under strict field
// validation, in kube-apiserver's words.
func strictError(errs []error) error {
	return apierrors.NewBadRequest(runtime.NewStrictDecodingError(errs).Error())
}

// internalError turns an error that carries no API status into the status
// kube-apiserver derives from such errors: 500, reason Unknown, the error
// text as message.
func internalError(err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusInternalServerError,
		Reason:  metav1.StatusReasonUnknown,
		Message: err.Error(),
	}}
}

// strategicMergeError maps strategic merge patch failures to statuses as
// kube-apiserver does: malformed patches are 400, patches that do not fit
// the object 422, anything else 500.
func strategicMergeError(err error) error {
	switch {
	case errors.Is(err, mergepatch.ErrBadJSONDoc),
		errors.Is(err, mergepatch.ErrBadPatchFormatForPrimitiveList),
		errors.Is(err, mergepatch.ErrBadPatchFormatForRetainKeys),
		errors.Is(err, mergepatch.ErrBadPatchFormatForSetElementOrderList),
		errors.Is(err, mergepatch.ErrUnsupportedStrategicMergePatchFormat):
		return apierrors.NewBadRequest(err.Error())
	case errors.Is(err, mergepatch.ErrNoListOfLists),
		errors.Is(err, mergepatch.ErrPatchContentNotMatchRetainKeys):
		return unprocessable(err)
	default:
		return internalError(err)
	}
}

// applyError maps a field manager failure to a status. Conflicts and
// version mismatches already are statuses. A patch object that does not fit
// the schema is the client's fault: kube-apiserver reports it as a 500 but
// a 400 (with the same message) is what clients can act on.
func applyError(err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	if strings.HasPrefix(err.Error(), "failed to create typed patch object") {
		return apierrors.NewBadRequest(err.Error())
	}
	return internalError(err)
}
