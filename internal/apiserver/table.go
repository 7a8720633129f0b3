package apiserver

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/registry"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultColumns are printed for resources without their own columns, as
// Kubernetes' default table convertor does.
var defaultColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
}

func tableColumns(res *registry.Resource) []metav1.TableColumnDefinition {
	if tc, ok := res.Strategy.(registry.TableConvertor); ok {
		return tc.TableColumns()
	}
	return defaultColumns
}

func tableCells(res *registry.Resource, obj runtime.Object) []interface{} {
	if tc, ok := res.Strategy.(registry.TableConvertor); ok {
		return tc.TableRow(obj)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return []interface{}{"", ""}
	}
	return []interface{}{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)}
}

// includeObject is the table row object policy (?includeObject=).
type includeObject string

const (
	includeNone     includeObject = "None"
	includeMetadata includeObject = "Metadata"
	includeFull     includeObject = "Object"
)

func parseIncludeObject(v string) (includeObject, error) {
	switch includeObject(v) {
	case "":
		return includeMetadata, nil
	case includeNone, includeMetadata, includeFull:
		return includeObject(v), nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("includeObject must be one of %q, %q or %q", includeNone, includeMetadata, includeFull))
}

// toTable prints objects as a Table. listMeta is nil for a single object.
func toTable(res *registry.Resource, objs []runtime.Object, listMeta *metav1.ListMeta, groupVersion string, include includeObject, withColumns bool) (*metav1.Table, error) {
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: groupVersion}, Rows: make([]metav1.TableRow, 0, len(objs))}
	if listMeta != nil {
		t.ListMeta = *listMeta
	}
	if withColumns {
		t.ColumnDefinitions = tableColumns(res)
	}
	for _, obj := range objs {
		row := metav1.TableRow{Cells: tableCells(res, obj)}
		switch include {
		case includeMetadata:
			raw, err := json.Marshal(partialMetadata(obj))
			if err != nil {
				return nil, err
			}
			row.Object.Raw = raw
		case includeFull:
			raw, err := json.Marshal(obj)
			if err != nil {
				return nil, err
			}
			row.Object.Raw = raw
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// partialMetadata returns the PartialObjectMetadata of obj.
func partialMetadata(obj runtime.Object) *metav1.PartialObjectMetadata {
	m, err := meta.Accessor(obj)
	out := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}}
	if err != nil {
		return out
	}
	out.ObjectMeta = metav1.ObjectMeta{
		Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(),
		UID: m.GetUID(), ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(),
		CreationTimestamp: m.GetCreationTimestamp(), DeletionTimestamp: m.GetDeletionTimestamp(),
		DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds(), Labels: m.GetLabels(),
		Annotations: m.GetAnnotations(), OwnerReferences: m.GetOwnerReferences(),
		Finalizers: m.GetFinalizers(), ManagedFields: m.GetManagedFields(),
	}
	return out
}
