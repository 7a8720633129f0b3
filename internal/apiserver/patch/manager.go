// Package patch applies JSON patches, JSON merge patches and strategic merge
// patches to typed API objects, performs server-side apply and keeps
// metadata.managedFields up to date, all the way kube-apiserver does.
//
// Objects are the versioned Go types of k8s.io/api (there is no internal
// version): a Deployment is an *appsv1.Deployment throughout.
package patch

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
)

// ConvertFunc converts a typed object to another version of the same kind
// (autoscaling/v1 to autoscaling/v2 HorizontalPodAutoscaler, say). It is
// only consulted for conversions the scheme cannot do itself.
type ConvertFunc func(in runtime.Object, target schema.GroupVersion) (runtime.Object, error)

// Option configures a Manager.
type Option func(*Manager)

// WithDefaulter makes server-side apply default the merged object with fn,
// as kube-apiserver does before it compares the result with the live
// object, and makes Patch default patched objects. fn must be idempotent.
func WithDefaulter(fn func(runtime.Object)) Option {
	return func(m *Manager) { m.defaulter = fn }
}

// WithConverter lets managedFields entries recorded against another version
// of a kind survive updates: without it, such entries are dropped when the
// object changes, because the scheme alone cannot convert between versions.
func WithConverter(fn ConvertFunc) Option {
	return func(m *Manager) { m.convert = fn }
}

// Manager patches objects and tracks field ownership. It is safe for
// concurrent use. The typed schema used by server-side apply and managed
// fields is parsed on first use and shared by all kinds; field managers are
// cached per kind and subresource.
type Manager struct {
	scheme    *runtime.Scheme
	defaulter func(runtime.Object)
	convert   ConvertFunc

	typesOnce sync.Once
	types     managedfields.TypeConverter

	mu     sync.Mutex
	fields map[fieldManagerKey]*managedfields.FieldManager
}

type fieldManagerKey struct {
	gvk         schema.GroupVersionKind
	subresource string
}

// NewManager returns a Manager for the kinds registered in scheme (usually
// k8s.io/client-go/kubernetes/scheme.Scheme). It does no heavy work: the
// schema is parsed when the first apply or managed-fields update needs it.
func NewManager(scheme *runtime.Scheme, opts ...Option) *Manager {
	m := &Manager{
		scheme: scheme,
		fields: map[fieldManagerKey]*managedfields.FieldManager{},
	}
	for _, opt := range opts {
		opt(m)
	}
	return m
}

// Prepare builds the shared schema now instead of on the first write; a
// server calls it in the background while it starts.
func (m *Manager) Prepare() { m.typeConverter() }

// typeConverter builds the structured-merge-diff type converter on first
// use: parsing the built-in schema costs several megabytes, which a server
// that never sees an apply or managed-fields update should not pay.
func (m *Manager) typeConverter() managedfields.TypeConverter {
	m.typesOnce.Do(func() {
		m.types = applyconfigurations.NewTypeConverter(m.scheme)
	})
	return m.types
}

// fieldManager returns the cached field manager of gvk and subresource,
// creating it on first use.
func (m *Manager) fieldManager(gvk schema.GroupVersionKind, subresource string) (*managedfields.FieldManager, error) {
	types := m.typeConverter()
	key := fieldManagerKey{gvk: gvk, subresource: subresource}

	m.mu.Lock()
	defer m.mu.Unlock()
	if fm, ok := m.fields[key]; ok {
		return fm, nil
	}
	gv := gvk.GroupVersion()
	// The served version is its own hub: with no internal version,
	// converting to the hub is the identity.
	fm, err := managedfields.NewDefaultFieldManager(
		types,
		&objectConvertor{scheme: m.scheme, fallback: m.convert},
		objectDefaulter(m.defaulter),
		m.scheme,
		gvk,
		gv,
		subresource,
		resetFields(gv, subresource),
	)
	if err != nil {
		return nil, fmt.Errorf("field manager for %v: %w", gvk, err)
	}
	m.fields[key] = fm
	return fm, nil
}

// kindOf returns the kind of a typed object, preferring the one its
// TypeMeta names when the Go type is registered under several kinds.
func (m *Manager) kindOf(obj runtime.Object) (schema.GroupVersionKind, error) {
	kinds, _, err := m.scheme.ObjectKinds(obj)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("kind of %T: %w", obj, err)
	}
	if set := obj.GetObjectKind().GroupVersionKind(); !set.Empty() {
		for _, k := range kinds {
			if k == set {
				return k, nil
			}
		}
	}
	return kinds[0], nil
}

// objectDefaulter adapts an optional defaulting func to
// runtime.ObjectDefaulter.
type objectDefaulter func(runtime.Object)

func (d objectDefaulter) Default(obj runtime.Object) {
	if d != nil {
		d(obj)
	}
}
