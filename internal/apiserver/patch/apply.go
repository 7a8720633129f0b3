package patch

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// Apply performs server-side apply of patch (a YAML or JSON object) by
// manager onto live, through subresource ("" for the main resource,
// "status", ...). A nil live means the object does not exist yet: the
// result is the object to create. live is not modified.
//
// The result is a new object of gvk's Go type with its TypeMeta set to gvk
// and metadata.managedFields updated (operation Apply, a timestamp). When
// the apply changes nothing it is a copy of live. Values outside what the
// subresource may change (status on the main resource) are merged too: the
// caller's strategy resets them, as for updates.
//
// Errors, as kube-apiserver returns them:
//   - 422 PatchOptions.meta.k8s.io invalid when manager is empty or too long;
//   - 400 "error decoding YAML: ..." for a body that is not an object;
//   - 400 "invalid object type: ..." when the body's apiVersion/kind is not gvk;
//   - 400 "metadata.managedFields must be nil" when the body sets them;
//   - 400 for fields the schema does not have ("failed to create typed
//     patch object (...): .spec.foo: field not declared in schema");
//   - 400 when the body renames the object or moves it to another namespace
//     (live != nil; on create, call CheckName with the URL's name);
//   - 409 "Apply failed with 1 conflict: conflict with \"m\" using apps/v1:
//     .spec.replicas", causes of type FieldManagerConflict, unless force.
func (m *Manager) Apply(live runtime.Object, gvk schema.GroupVersionKind, patch []byte, manager string, force bool, subresource string) (runtime.Object, error) {
	opts := &metav1.PatchOptions{FieldManager: manager, Force: &force}
	if errs := metav1validation.ValidatePatchOptions(opts, types.ApplyPatchType); len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "PatchOptions"}, "", errs)
	}

	applied := &unstructured.Unstructured{Object: map[string]interface{}{}}
	if err := yaml.Unmarshal(patch, &applied.Object); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	if applied.Object == nil {
		applied.Object = map[string]interface{}{}
	}

	var err error
	existing := live != nil
	if !existing {
		if live, err = m.scheme.New(gvk); err != nil {
			return nil, fmt.Errorf("patch: new %v: %w", gvk, err)
		}
	} else {
		// The field manager returns live itself when nothing changes.
		live = live.DeepCopyObject()
	}
	fm, err := m.fieldManager(gvk, subresource)
	if err != nil {
		return nil, err
	}
	out, err := fm.Apply(live, applied, manager, force)
	if err != nil {
		return nil, applyError(err)
	}
	out.GetObjectKind().SetGroupVersionKind(gvk)

	if existing {
		liveMeta, err := meta.Accessor(live)
		if err != nil {
			return nil, fmt.Errorf("patch: %w", err)
		}
		if err := CheckName(out, liveMeta.GetName(), liveMeta.GetNamespace()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CheckName returns the 400 kube-apiserver answers when a written object's
// name differs from the name in the request URL, or its namespace from the
// URL's namespace (an object without a namespace is fine).
func CheckName(obj runtime.Object, name, namespace string) error {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf(
			"the name of the object (%s based on URL) was undeterminable: %v", name, err))
	}
	if got := accessor.GetName(); got != name {
		return apierrors.NewBadRequest(fmt.Sprintf(
			"the name of the object (%s) does not match the name on the URL (%s)", got, name))
	}
	if got := accessor.GetNamespace(); namespace != "" && got != "" && got != namespace {
		return apierrors.NewBadRequest(fmt.Sprintf(
			"the namespace of the object (%s) does not match the namespace on the URL (%s)", got, namespace))
	}
	return nil
}
