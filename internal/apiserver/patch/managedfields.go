package patch

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// UpdateManagedFields records in newObj's metadata.managedFields the fields
// manager set or changed going from live to newObj by a write that is not
// an apply (create, update, non-apply patch: Kubernetes records all three
// as operation "Update"), through subresource ("" for the main resource).
// A nil live means newObj is being created. newObj is modified in place and
// returned; live is not modified.
//
// As in Kubernetes, managedFields sent by the client in newObj replace the
// recorded ones when they decode (an empty list resets them), except on
// subresources, and an existing object that has no managedFields starts
// being tracked only at its first apply.
//
// On error the returned object is still usable: it carries live's
// managedFields, since Kubernetes never fails a write because ownership
// could not be computed. Callers should log the error and proceed.
func (m *Manager) UpdateManagedFields(live, newObj runtime.Object, gvk schema.GroupVersionKind, manager string, subresource string) (runtime.Object, error) {
	newMeta, err := meta.Accessor(newObj)
	if err != nil {
		return newObj, fmt.Errorf("patch: managed fields of %v: %w", gvk, err)
	}
	if live == nil {
		if live, err = m.scheme.New(gvk); err != nil {
			newMeta.SetManagedFields(nil)
			return newObj, fmt.Errorf("patch: new %v: %w", gvk, err)
		}
	}
	liveMeta, err := meta.Accessor(live)
	if err != nil {
		return newObj, fmt.Errorf("patch: managed fields of %v: %w", gvk, err)
	}
	fm, err := m.fieldManager(gvk, subresource)
	if err == nil {
		var out runtime.Object
		if out, err = fm.Update(live, newObj, manager); err == nil {
			return out, nil
		}
	}
	newMeta.SetManagedFields(liveMeta.GetManagedFields())
	return newObj, fmt.Errorf("patch: managed fields of %v: %w", gvk, err)
}
