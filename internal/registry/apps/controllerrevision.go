package apps

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// ControllerRevisions describes apps/v1 controller revisions, the immutable
// history snapshots kept by daemon sets and stateful sets.
func ControllerRevisions() *registry.Resource {
	return &registry.Resource{
		Group:      "apps",
		Version:    "v1",
		Resource:   "controllerrevisions",
		Kind:       "ControllerRevision",
		Singular:   "controllerrevision",
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.ControllerRevision{} },
		NewList:    func() runtime.Object { return &appsv1.ControllerRevisionList{} },
		Strategy:   controllerRevisionStrategy{},
	}
}

// controllerRevisionStrategy validates revisions; they have no defaults and
// no status.
type controllerRevisionStrategy struct {
	registry.DefaultStrategy
	now Clock
}

var (
	_ registry.Strategy       = controllerRevisionStrategy{}
	_ registry.TableConvertor = controllerRevisionStrategy{}
)

// Validate requires data and a non-negative revision.
func (controllerRevisionStrategy) Validate(obj runtime.Object) field.ErrorList {
	cr, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return wrongType("*v1.ControllerRevision", obj)
	}
	return validateControllerRevision(cr)
}

// ValidateUpdate also forbids changing data.
func (controllerRevisionStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	cr, ok1 := obj.(*appsv1.ControllerRevision)
	o, ok2 := old.(*appsv1.ControllerRevision)
	if !ok1 || !ok2 {
		return wrongType("*v1.ControllerRevision", obj)
	}
	errs := validateControllerRevision(cr)
	if !sameRawData(cr.Data, o.Data) {
		errs = append(errs, field.Invalid(field.NewPath("data"), cr.Data, "field is immutable"))
	}
	return errs
}

func validateControllerRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, ValidateNonnegative(cr.Revision, field.NewPath("revision"))...)
}

// sameRawData compares two embedded objects by meaning rather than bytes,
// since a client may re-send the same JSON with other spacing or key order.
func sameRawData(a, b runtime.RawExtension) bool {
	if a.Object != nil || b.Object != nil {
		return reflect.DeepEqual(a.Object, b.Object) && bytes.Equal(a.Raw, b.Raw)
	}
	if bytes.Equal(a.Raw, b.Raw) {
		return true
	}
	var av, bv interface{}
	if json.Unmarshal(a.Raw, &av) != nil || json.Unmarshal(b.Raw, &bv) != nil {
		return false
	}
	return reflect.DeepEqual(av, bv)
}

// TableColumns are kubectl's controller revision columns.
func (controllerRevisionStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		NameColumn(),
		{Name: "Controller", Type: "string", Description: "Controller of the object"},
		{Name: "Revision", Type: "string", Description: appsv1beta1.ControllerRevision{}.SwaggerDoc()["revision"]},
		AgeColumn(),
	}
}

// TableRow names the controlling object as kind.group/name.
func (s controllerRevisionStrategy) TableRow(obj runtime.Object) []interface{} {
	cr, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return nil
	}
	controller := "<none>"
	if ref := metav1.GetControllerOf(cr); ref != nil {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err == nil {
			controller = strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
		}
	}
	return []interface{}{cr.Name, controller, cr.Revision, FormatAge(cr.CreationTimestamp, s.now.Now())}
}
