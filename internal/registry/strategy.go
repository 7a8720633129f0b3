package registry

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy is the per-resource behaviour the generic store calls on create
// and update. Objects passed in are of the resource's Go type and fully
// decoded; metadata common to all objects (name, namespace, uid,
// resourceVersion, generation, timestamps, managedFields) is set and checked
// by the store, not by the strategy. Implementations must not do I/O.
//
// Call order on create: Default, PrepareForCreate, Validate.
// On update: Default, PrepareForUpdate, ValidateUpdate.
type Strategy interface {
	// Default sets unset fields to the values Kubernetes' defaulting gives
	// them (e.g. a Deployment's strategy 25%/25%). It must be idempotent.
	Default(obj runtime.Object)
	// PrepareForCreate clears or sets fields a client may not choose on
	// create, e.g. resets status for resources with a status subresource.
	PrepareForCreate(obj runtime.Object)
	// PrepareForUpdate copies from old the fields a client may not change
	// through the main resource, e.g. status.
	PrepareForUpdate(obj, old runtime.Object)
	// Validate returns every problem of a new object, with field paths as
	// Kubernetes reports them ("spec.template.spec.containers[0].name").
	// Metadata is validated by the store and need not be checked here.
	Validate(obj runtime.Object) field.ErrorList
	// ValidateUpdate returns every problem of an update, including changes
	// to immutable fields.
	ValidateUpdate(obj, old runtime.Object) field.ErrorList
}

// StatusStrategy is implemented by strategies of resources with a status
// subresource. Updates through /status keep everything but status (and
// whatever else PrepareForStatusUpdate allows) from old.
type StatusStrategy interface {
	PrepareForStatusUpdate(obj, old runtime.Object)
	ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList
}

// TableConvertor is implemented by strategies that print server-side tables
// (kubectl get). Columns with Priority 1 are shown only by `-o wide`.
type TableConvertor interface {
	TableColumns() []metav1.TableColumnDefinition
	// TableRow returns one cell per column, in column order. Cells are
	// strings, int64s, bools or nil, as Kubernetes' printers produce them.
	TableRow(obj runtime.Object) []interface{}
}

// FieldSelectable is implemented by strategies whose objects can be
// filtered by field selectors other than metadata.name and
// metadata.namespace (which the store always supports).
type FieldSelectable interface {
	// SelectableFields returns the object's values of the fields it can be
	// selected by, e.g. {"spec.nodeName": "n1", "status.phase": "Running"}.
	SelectableFields(obj runtime.Object) fields.Set
}

// Warner is implemented by strategies that warn about objects that are
// valid but probably wrong; the API server sends each warning as a
// Kubernetes Warning header. old is nil on create.
type Warner interface {
	Warnings(obj, old runtime.Object) []string
}

// GracefulDeleter is implemented by strategies of resources whose objects
// are not removed at once on delete: the object keeps a deletion timestamp
// for the returned number of seconds while its owner (the node agent for
// pods) winds it down. requested is the client's gracePeriodSeconds, if
// any. Returning 0 deletes immediately.
type GracefulDeleter interface {
	DeletionGracePeriod(obj runtime.Object, requested *int64) int64
}

// DefaultStrategy implements Strategy with no resource-specific behaviour:
// no defaults, no extra validation. Resource strategies embed it and
// override what they need.
type DefaultStrategy struct{}

func (DefaultStrategy) Default(runtime.Object)                          {}
func (DefaultStrategy) PrepareForCreate(runtime.Object)                 {}
func (DefaultStrategy) PrepareForUpdate(runtime.Object, runtime.Object) {}
func (DefaultStrategy) Validate(runtime.Object) field.ErrorList         { return nil }
func (DefaultStrategy) ValidateUpdate(runtime.Object, runtime.Object) field.ErrorList {
	return nil
}
