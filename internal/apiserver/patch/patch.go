package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	kjson "sigs.k8s.io/json"
)

// Patch applies a JSON patch (types.JSONPatchType), a JSON merge patch
// (types.MergePatchType) or a strategic merge patch
// (types.StrategicMergePatchType) to current and returns the result as a
// new object of current's Go type, with current's TypeMeta and defaulted by
// the Manager's defaulter. current is not modified.
//
// Errors are API statuses as kube-apiserver returns them:
//   - 400 for a malformed patch, and, when strict is true, for unknown or
//     duplicate fields (`strict decoding error: unknown field "spec.foo"`);
//   - 422 "the server rejected our request due to an error in our request"
//     for a JSON patch whose operations do not apply (failed test, missing
//     path) and for a strategic merge patch that does not fit the object;
//   - 422 Invalid on field "patch" when the result does not decode into
//     the object's type (a string where a number belongs, another kind);
//   - 413 for a JSON patch of more than 10000 operations;
//   - 415 for any other patch type; 500 for other strategic merge patch
//     failures (directives on fields the type does not have), as
//     kube-apiserver.
//
// Without strict, unknown fields are dropped silently.
func (m *Manager) Patch(current runtime.Object, patchType types.PatchType, patch []byte, strict bool) (runtime.Object, error) {
	gvk, err := m.kindOf(current)
	if err != nil {
		return nil, err
	}
	switch patchType {
	case types.JSONPatchType, types.MergePatchType:
		return m.jsonPatch(current, gvk, patchType, patch, strict)
	case types.StrategicMergePatchType:
		return m.strategicMergePatch(current, gvk, patch, strict)
	case types.ApplyPatchType:
		return nil, fmt.Errorf("patch: server-side apply goes through Apply, not Patch")
	default:
		return nil, unsupportedPatchType()
	}
}

// jsonPatchOp is one JSON patch operation, for strict field checking of
// the patch document itself.
type jsonPatchOp struct {
	Op    string      `json:"op"`
	Path  string      `json:"path"`
	From  string      `json:"from"`
	Value interface{} `json:"value"`
}

func (m *Manager) jsonPatch(current runtime.Object, gvk schema.GroupVersionKind, patchType types.PatchType, patch []byte, strict bool) (runtime.Object, error) {
	doc, err := encodeWithKind(current, gvk)
	if err != nil {
		return nil, err
	}
	var patchStrictErrs []error
	var patched []byte
	if patchType == types.JSONPatchType {
		if strict {
			var ops []jsonPatchOp
			errs, err := kjson.UnmarshalStrict(patch, &ops)
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
			}
			for _, e := range errs {
				patchStrictErrs = append(patchStrictErrs, fmt.Errorf("json patch %w", e))
			}
		}
		ops, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if len(ops) > maxJSONPatchOperations {
			return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
				"The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOperations, len(ops)))
		}
		if patched, err = ops.Apply(doc); err != nil {
			return nil, unprocessable(err)
		}
	} else {
		if strict {
			errs, err := kjson.UnmarshalStrict(patch, &map[string]interface{}{})
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
			}
			patchStrictErrs = errs
		}
		if patched, err = jsonpatch.MergePatch(doc, patch); err != nil {
			if errors.Is(err, jsonpatch.ErrBadJSONPatch) {
				return nil, apierrors.NewBadRequest(err.Error())
			}
			return nil, internalError(err)
		}
	}

	out := newLike(current)
	var decodeStrictErrs []error
	if strict {
		decodeStrictErrs, err = kjson.UnmarshalStrict(patched, out)
	} else {
		err = kjson.UnmarshalCaseSensitivePreserveInts(patched, out)
	}
	if err != nil {
		return nil, invalidPatchResult(string(patched), err)
	}
	if all := append(patchStrictErrs, decodeStrictErrs...); strict && len(all) > 0 {
		return nil, strictError(all)
	}
	return m.finish(current, gvk, out, func() string { return string(patched) })
}

func (m *Manager) strategicMergePatch(current runtime.Object, gvk schema.GroupVersionKind, patch []byte, strict bool) (runtime.Object, error) {
	withKind := current.DeepCopyObject()
	withKind.GetObjectKind().SetGroupVersionKind(gvk)
	original, err := runtime.DefaultUnstructuredConverter.ToUnstructured(withKind)
	if err != nil {
		return nil, fmt.Errorf("patch: %T to unstructured: %w", current, err)
	}

	patchMap := map[string]interface{}{}
	var patchStrictErrs []error
	if strict {
		patchStrictErrs, err = kjson.UnmarshalStrict(patch, &patchMap)
	} else {
		err = kjson.UnmarshalCaseSensitivePreserveInts(patch, &patchMap)
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}

	out := newLike(current)
	patchedMap, err := strategicpatch.StrategicMergeMapPatch(original, patchMap, out)
	if err != nil {
		return nil, strategicMergeError(err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(patchedMap, out, strict); err != nil {
		strictErr, isStrict := runtime.AsStrictDecodingError(err)
		if !isStrict {
			return nil, invalidPatchResult(fmt.Sprintf("%+v", patchMap), err)
		}
		return nil, strictError(append(patchStrictErrs, strictErr.Errors()...))
	}
	if strict && len(patchStrictErrs) > 0 {
		return nil, strictError(patchStrictErrs)
	}
	return m.finish(current, gvk, out, func() string { return fmt.Sprintf("%+v", patchMap) })
}

// finish checks that a patch kept the object's kind, gives the result
// current's TypeMeta and defaults it. value renders the patched document
// for the error message.
func (m *Manager) finish(current runtime.Object, gvk schema.GroupVersionKind, out runtime.Object, value func() string) (runtime.Object, error) {
	got := out.GetObjectKind().GroupVersionKind()
	if (got.Kind != "" && got.Kind != gvk.Kind) || (got.Version != "" && got.GroupVersion() != gvk.GroupVersion()) {
		return nil, invalidPatchResult(value(), fmt.Errorf("the patch changed the object's kind to %q, apiVersion %q; expected %q, %q",
			got.Kind, got.GroupVersion().String(), gvk.Kind, gvk.GroupVersion().String()))
	}
	out.GetObjectKind().SetGroupVersionKind(current.GetObjectKind().GroupVersionKind())
	if m.defaulter != nil {
		m.defaulter(out)
	}
	return out, nil
}

// encodeWithKind is current as JSON including apiVersion and kind, which
// clients may test or patch like any other field.
func encodeWithKind(current runtime.Object, gvk schema.GroupVersionKind) ([]byte, error) {
	withKind := current.DeepCopyObject()
	withKind.GetObjectKind().SetGroupVersionKind(gvk)
	doc, err := json.Marshal(withKind)
	if err != nil {
		return nil, fmt.Errorf("patch: encode %v: %w", gvk, err)
	}
	return doc, nil
}

// newLike returns a new empty object of obj's Go type.
func newLike(obj runtime.Object) runtime.Object {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
}
