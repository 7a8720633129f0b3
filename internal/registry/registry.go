// Package registry describes the REST resources the API server serves: their
// names, scope, Go types, subresources and the per-resource behaviour
// (defaulting, validation, table columns, selectable fields) that the generic
// store and HTTP handlers call. Each API group has its own package under
// internal/registry/<group> with one file per resource.
package registry

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource describes one resource of one API group version.
type Resource struct {
	Group    string // "" for the core group
	Version  string
	Resource string // plural, lower case: "deployments"
	Kind     string // "Deployment"
	// Singular is the lower-case singular name ("deployment").
	Singular   string
	ShortNames []string // "deploy"
	Categories []string // "all"
	Namespaced bool

	// ValidateName checks metadata.name (or, with prefix true, a
	// generateName prefix) and returns messages as apimachinery's
	// validation functions do. Nil means a DNS-1123 subdomain, which is
	// what most resources require.
	ValidateName func(name string, prefix bool) []string

	// New returns an empty object of the resource's Go type, e.g.
	// &appsv1.Deployment{}. NewList returns its list type; resources
	// without one are create-only reviews that are never stored
	// (SubjectAccessReview, TokenReview).
	New     func() runtime.Object
	NewList func() runtime.Object

	// Strategy holds the resource's behaviour. It may also implement
	// StatusStrategy, TableConvertor and FieldSelectable.
	Strategy Strategy

	// Subresources served below each object, in addition to the object
	// itself. The generic handlers implement "status" and "scale"; other
	// names (binding, eviction, log, exec, token, ...) are implemented by
	// the API server's special handlers.
	Subresources []Subresource

	// Scale is set when the resource has a scale subresource.
	Scale *ScaleAccessor

	// SubresourceStrategies serve updates through subresources that may
	// change only part of the object (pods/ephemeralcontainers,
	// pods/resize). Their get, update and patch work like status.
	SubresourceStrategies map[string]Strategy

	// StorageResource, when set, names the group/resource whose etcd data
	// this version shares (events.k8s.io events are stored as core events;
	// autoscaling/v1 HPAs as autoscaling/v2). Convert then translates
	// between this version's type and the stored type.
	StorageResource *schema.GroupResource
	Convert         *Converter
}

// Subresource names one subresource and the verbs discovery advertises.
type Subresource struct {
	Name    string   // "status", "scale", "binding", ...
	Kind    string   // kind of the object the subresource takes or returns; "" means the parent's kind
	Group   string   // group of Kind when it differs from the parent's (autoscaling for scale)
	Version string   // version of Kind when it differs from the parent's
	Verbs   []string // "get", "patch", "update", "create"
}

// ScaleAccessor reads and writes the replica count behind a scale
// subresource (autoscaling/v1 Scale).
type ScaleAccessor struct {
	// Get returns spec replicas, status replicas and the label selector
	// in its string form ("app=web").
	Get func(obj runtime.Object) (spec, status int32, selector string)
	// SetReplicas sets the desired replicas on obj.
	SetReplicas func(obj runtime.Object, replicas int32)
}

// Converter translates between a served version and the stored version of a
// resource that shares storage with another one. Both functions receive an
// object they may not modify and return a new one.
type Converter struct {
	ToStorage   func(obj runtime.Object) (runtime.Object, error)
	FromStorage func(obj runtime.Object) (runtime.Object, error)
}

// GroupVersion returns the resource's group and version.
func (r *Resource) GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}
}

// GroupVersionResource returns the resource's group, version and plural name.
func (r *Resource) GroupVersionResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}
}

// GroupVersionKind returns the kind the resource serves.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// HasSubresource reports whether the resource serves the named subresource.
func (r *Resource) HasSubresource(name string) bool {
	for _, s := range r.Subresources {
		if s.Name == name {
			return true
		}
	}
	return false
}

// Verbs lists the verbs discovery advertises for every resource the generic
// store serves.
var Verbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// IsReview reports whether the resource is a create-only review that is
// answered, not stored.
func (r *Resource) IsReview() bool { return r.NewList == nil }

// ServedVerbs returns the verbs discovery advertises for the resource.
func (r *Resource) ServedVerbs() []string {
	if r.IsReview() {
		return []string{"create"}
	}
	return Verbs
}

// StatusSubresource is the usual status subresource.
var StatusSubresource = Subresource{Name: "status", Verbs: []string{"get", "patch", "update"}}

// ScaleSubresource is the usual scale subresource (autoscaling/v1 Scale).
var ScaleSubresource = Subresource{Name: "scale", Kind: "Scale", Group: "autoscaling", Version: "v1", Verbs: []string{"get", "patch", "update"}}
