package core

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// Namespaces returns the core/v1 namespaces resource. Besides status it
// serves the finalize subresource, whose handler should call
// NamespacePrepareForFinalize and NamespaceValidateFinalize.
func Namespaces() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "namespaces",
		Kind:         "Namespace",
		Singular:     "namespace",
		ShortNames:   []string{"ns"},
		Namespaced:   false,
		ValidateName: apivalidation.ValidateNamespaceName,
		New:          func() runtime.Object { return &corev1.Namespace{} },
		NewList:      func() runtime.Object { return &corev1.NamespaceList{} },
		Strategy:     nsStrategy{},
		Subresources: []registry.Subresource{
			registry.StatusSubresource,
			{Name: "finalize", Verbs: []string{"update"}},
		},
	}
}

// NamespaceCanonicalize sets the kubernetes.io/metadata.name label to the
// namespace's name. The strategy already does so whenever the name is known;
// the store must call it again after generating a name from generateName.
func NamespaceCanonicalize(ns *corev1.Namespace) {
	if ns.Name == "" {
		return
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

// NamespacePrepareForFinalize prepares an update through the finalize
// subresource: only spec.finalizers (and metadata) may change, so status
// is kept from old.
func NamespacePrepareForFinalize(obj, old runtime.Object) {
	ns, oldNs := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	ns.Status = *oldNs.Status.DeepCopy()
}

// NamespaceValidateFinalize checks the finalizers set through the finalize
// subresource.
func NamespaceValidateFinalize(obj, _ runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	var errs field.ErrorList
	p := field.NewPath("spec", "finalizers")
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, commonFinalizerName(string(f), p.Index(i))...)
	}
	return errs
}

// nsStrategy implements namespaces' behaviour.
type nsStrategy struct {
	registry.DefaultStrategy
}

// Default labels the namespace with its name and defaults the phase.
func (nsStrategy) Default(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	NamespaceCanonicalize(ns)
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// PrepareForCreate makes the namespace Active and adds the "kubernetes"
// finalizer that the namespace controller removes once the content is gone.
func (nsStrategy) PrepareForCreate(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	has := false
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			has = true
		}
	}
	if !has {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
	NamespaceCanonicalize(ns)
}

// PrepareForUpdate keeps spec.finalizers (changed only through finalize)
// and status (changed only through status) from old.
func (nsStrategy) PrepareForUpdate(obj, old runtime.Object) {
	ns, oldNs := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	ns.Spec.Finalizers = append([]corev1.FinalizerName(nil), oldNs.Spec.Finalizers...)
	ns.Status = *oldNs.Status.DeepCopy()
	NamespaceCanonicalize(ns)
}

// PrepareForStatusUpdate keeps the spec from old.
func (nsStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	ns, oldNs := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	ns.Spec = *oldNs.Spec.DeepCopy()
}

// Validate checks the finalizer names.
func (nsStrategy) Validate(obj runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	var errs field.ErrorList
	// Kubernetes reports these without an index.
	p := field.NewPath("spec", "finalizers")
	for _, f := range ns.Spec.Finalizers {
		errs = append(errs, commonFinalizerName(string(f), p)...)
	}
	return errs
}

// ValidateUpdate checks the updated namespace like a new one.
func (s nsStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return s.Validate(obj)
}

// ValidateStatusUpdate ties the phase to the deletion timestamp.
func (nsStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	p := field.NewPath("status", "Phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}

// SelectableFields adds status.phase and the legacy "name" field.
func (nsStrategy) SelectableFields(obj runtime.Object) fields.Set {
	ns := obj.(*corev1.Namespace)
	return fields.Set{"status.phase": string(ns.Status.Phase), "name": ns.Name}
}

// TableColumns are kubectl's namespace columns.
func (nsStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Status", "string", "The status of the namespace"),
		commonAgeColumn(),
	}
}

// TableRow renders one namespace.
func (nsStrategy) TableRow(obj runtime.Object) []interface{} {
	ns := obj.(*corev1.Namespace)
	return []interface{}{ns.Name, string(ns.Status.Phase), commonAge(ns.CreationTimestamp)}
}
