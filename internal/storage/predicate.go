package storage

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Predicate selects objects by labels and fields.
type Predicate struct {
	Label labels.Selector // nil or empty selects everything
	Field fields.Selector // nil or empty selects everything
	// Fields returns an object's selectable field values; it is required
	// when Field is not empty.
	Fields func(obj runtime.Object) fields.Set
}

// Empty reports whether the predicate selects every object.
func (p Predicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// Matches reports whether obj is selected.
func (p Predicate) Matches(obj runtime.Object) bool {
	if p.Empty() {
		return true
	}
	if p.Label != nil && !p.Label.Empty() {
		m, err := meta.Accessor(obj)
		if err != nil || !p.Label.Matches(labels.Set(m.GetLabels())) {
			return false
		}
	}
	if p.Field != nil && !p.Field.Empty() {
		if p.Fields == nil || !p.Field.Matches(p.Fields(obj)) {
			return false
		}
	}
	return true
}
