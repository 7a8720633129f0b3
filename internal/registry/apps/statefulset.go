package apps

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// StatefulSets describes apps/v1 stateful sets, with status and scale
// subresources. Their names must be DNS labels, since pods take them as
// hostnames.
func StatefulSets() *registry.Resource {
	return &registry.Resource{
		Group:        "apps",
		Version:      "v1",
		Resource:     "statefulsets",
		Kind:         "StatefulSet",
		Singular:     "statefulset",
		ShortNames:   []string{"sts"},
		Categories:   []string{"all"},
		Namespaced:   true,
		ValidateName: apimachineryvalidation.NameIsDNSLabel,
		New:          func() runtime.Object { return &appsv1.StatefulSet{} },
		NewList:      func() runtime.Object { return &appsv1.StatefulSetList{} },
		Strategy:     statefulSetStrategy{},
		Subresources: []registry.Subresource{
			registry.StatusSubresource,
			registry.ScaleSubresource,
		},
		Scale: &registry.ScaleAccessor{
			Get: func(obj runtime.Object) (int32, int32, string) {
				s, ok := obj.(*appsv1.StatefulSet)
				if !ok {
					return 0, 0, ""
				}
				return replicasOrDefault(s.Spec.Replicas), s.Status.Replicas, selectorString(s.Spec.Selector)
			},
			SetReplicas: func(obj runtime.Object, replicas int32) {
				if s, ok := obj.(*appsv1.StatefulSet); ok {
					s.Spec.Replicas = &replicas
				}
			},
		},
	}
}

// statefulSetStrategy implements the StatefulSet behaviour of Kubernetes'
// statefulset registry.
type statefulSetStrategy struct {
	now Clock
}

var (
	_ registry.Strategy       = statefulSetStrategy{}
	_ registry.StatusStrategy = statefulSetStrategy{}
	_ registry.TableConvertor = statefulSetStrategy{}
)

// Default sets OrderedReady pod management, a RollingUpdate strategy
// (partition 0, maxUnavailable 1), Retain/Retain claim retention, one
// replica and 10 revisions of history.
func (statefulSetStrategy) Default(obj runtime.Object) {
	s, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return
	}
	spec := &s.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	// An explicit RollingUpdate type without parameters stays without them,
	// as in Kubernetes; only a defaulted type brings a rollingUpdate block.
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := spec.UpdateStrategy.RollingUpdate; spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil {
		if ru.Partition == nil {
			ru.Partition = ptrTo[int32](0)
		}
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = ptrTo(intstr.FromInt32(1))
		}
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = ptrTo[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptrTo[int32](10)
	}
	podspec.DefaultPodTemplateSpec(&spec.Template)
}

// PrepareForCreate clears status and starts the generation at 1.
func (statefulSetStrategy) PrepareForCreate(obj runtime.Object) {
	if s, ok := obj.(*appsv1.StatefulSet); ok {
		s.Status = appsv1.StatefulSetStatus{}
		s.Generation = 1
	}
}

// PrepareForUpdate keeps the old status and moves the generation on spec
// changes.
func (statefulSetStrategy) PrepareForUpdate(obj, old runtime.Object) {
	s, ok1 := obj.(*appsv1.StatefulSet)
	o, ok2 := old.(*appsv1.StatefulSet)
	if !ok1 || !ok2 {
		return
	}
	s.Status = o.Status
	if specChanged(s.Spec, o.Spec) {
		s.Generation = o.Generation + 1
	}
}

// Validate checks a new stateful set.
func (statefulSetStrategy) Validate(obj runtime.Object) field.ErrorList {
	s, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return wrongType("*v1.StatefulSet", obj)
	}
	return validateStatefulSetSpec(&s.Spec, field.NewPath("spec"))
}

// statefulSetMutableFields is the Forbidden message for changes to any other
// part of the spec.
const statefulSetMutableFields = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

// ValidateUpdate checks an updated stateful set: only the listed spec fields
// may change.
func (statefulSetStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	s, ok1 := obj.(*appsv1.StatefulSet)
	o, ok2 := old.(*appsv1.StatefulSet)
	if !ok1 || !ok2 {
		return wrongType("*v1.StatefulSet", obj)
	}
	errs := validateStatefulSetSpec(&s.Spec, field.NewPath("spec"))
	rest := s.Spec.DeepCopy()
	rest.Replicas = o.Spec.Replicas
	rest.Template = o.Spec.Template
	rest.UpdateStrategy = o.Spec.UpdateStrategy
	rest.MinReadySeconds = o.Spec.MinReadySeconds
	rest.Ordinals = o.Spec.Ordinals
	rest.RevisionHistoryLimit = o.Spec.RevisionHistoryLimit
	rest.PersistentVolumeClaimRetentionPolicy = o.Spec.PersistentVolumeClaimRetentionPolicy
	if specChanged(*rest, o.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), statefulSetMutableFields))
	}
	return errs
}

// PrepareForStatusUpdate keeps the old spec.
func (statefulSetStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	s, ok1 := obj.(*appsv1.StatefulSet)
	o, ok2 := old.(*appsv1.StatefulSet)
	if ok1 && ok2 {
		s.Spec = o.Spec
	}
}

// ValidateStatusUpdate checks the counters of a stateful set status.
func (statefulSetStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	s, ok1 := obj.(*appsv1.StatefulSet)
	o, ok2 := old.(*appsv1.StatefulSet)
	if !ok1 || !ok2 {
		return wrongType("*v1.StatefulSet", obj)
	}
	p := field.NewPath("status")
	st := &s.Status
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"replicas", st.Replicas},
		{"readyReplicas", st.ReadyReplicas},
		{"currentReplicas", st.CurrentReplicas},
		{"updatedReplicas", st.UpdatedReplicas},
		{"availableReplicas", st.AvailableReplicas},
	} {
		errs = append(errs, ValidateNonnegative(int64(c.v), p.Child(c.name))...)
	}
	errs = append(errs, ValidateNonnegative(st.ObservedGeneration, p.Child("observedGeneration"))...)
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"readyReplicas", st.ReadyReplicas},
		{"currentReplicas", st.CurrentReplicas},
		{"updatedReplicas", st.UpdatedReplicas},
		{"availableReplicas", st.AvailableReplicas},
	} {
		if c.v > st.Replicas {
			errs = append(errs, field.Invalid(p.Child(c.name), c.v, greaterThanReplicas))
		}
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than status.readyReplicas"))
	}
	return append(errs, validateCollisionCount(st.CollisionCount, o.Status.CollisionCount, p.Child("collisionCount"))...)
}

// TableColumns are kubectl's stateful set columns.
func (statefulSetStrategy) TableColumns() []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		NameColumn(),
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		AgeColumn(),
	}
	return append(cols, ContainerColumns()...)
}

// TableRow prints READY as ready/desired.
func (st statefulSetStrategy) TableRow(obj runtime.Object) []interface{} {
	s, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return nil
	}
	names, images := ContainerCells(s.Spec.Template.Spec.Containers)
	return []interface{}{
		s.Name,
		fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, replicasOrDefault(s.Spec.Replicas)),
		FormatAge(s.CreationTimestamp, st.now.Now()),
		names, images,
	}
}
