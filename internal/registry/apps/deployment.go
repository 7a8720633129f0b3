package apps

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// Deployments describes apps/v1 deployments, with status and scale
// subresources.
func Deployments() *registry.Resource {
	return &registry.Resource{
		Group:      "apps",
		Version:    "v1",
		Resource:   "deployments",
		Kind:       "Deployment",
		Singular:   "deployment",
		ShortNames: []string{"deploy"},
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.Deployment{} },
		NewList:    func() runtime.Object { return &appsv1.DeploymentList{} },
		Strategy:   deploymentStrategy{},
		Subresources: []registry.Subresource{
			registry.StatusSubresource,
			registry.ScaleSubresource,
		},
		Scale: &registry.ScaleAccessor{
			Get: func(obj runtime.Object) (int32, int32, string) {
				d, ok := obj.(*appsv1.Deployment)
				if !ok {
					return 0, 0, ""
				}
				return replicasOrDefault(d.Spec.Replicas), d.Status.Replicas, selectorString(d.Spec.Selector)
			},
			SetReplicas: func(obj runtime.Object, replicas int32) {
				if d, ok := obj.(*appsv1.Deployment); ok {
					d.Spec.Replicas = &replicas
				}
			},
		},
	}
}

// deploymentStrategy implements the Deployment behaviour of Kubernetes'
// deployment registry.
type deploymentStrategy struct {
	now Clock
}

var (
	_ registry.Strategy       = deploymentStrategy{}
	_ registry.StatusStrategy = deploymentStrategy{}
	_ registry.TableConvertor = deploymentStrategy{}
)

// wrongType is the error strategies return when handed an object of a type
// they do not serve, which only a wiring mistake can cause.
func wrongType(want string, obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("expected %s, got %T", want, obj))}
}

// Default applies apps/v1 deployment defaults: one replica, a 25%/25%
// rolling update, 10 revisions of history and a 600s progress deadline.
func (deploymentStrategy) Default(obj runtime.Object) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptrTo[int32](1)
	}
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			s.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromString("25%"))
		}
		if s.RollingUpdate.MaxSurge == nil {
			s.RollingUpdate.MaxSurge = ptrTo(intstr.FromString("25%"))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptrTo[int32](10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = ptrTo[int32](600)
	}
	podspec.DefaultPodTemplateSpec(&d.Spec.Template)
}

// PrepareForCreate clears status and starts the generation at 1.
func (deploymentStrategy) PrepareForCreate(obj runtime.Object) {
	if d, ok := obj.(*appsv1.Deployment); ok {
		d.Status = appsv1.DeploymentStatus{}
		d.Generation = 1
	}
}

// PrepareForUpdate keeps the old status. The generation moves on spec
// changes and also on annotation changes, because the deployment
// controller copies annotations to its replica sets.
func (deploymentStrategy) PrepareForUpdate(obj, old runtime.Object) {
	d, ok1 := obj.(*appsv1.Deployment)
	o, ok2 := old.(*appsv1.Deployment)
	if !ok1 || !ok2 {
		return
	}
	d.Status = o.Status
	if specChanged(d.Spec, o.Spec) || specChanged(d.Annotations, o.Annotations) {
		d.Generation = o.Generation + 1
	}
}

// Validate checks a new deployment.
func (deploymentStrategy) Validate(obj runtime.Object) field.ErrorList {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return wrongType("*v1.Deployment", obj)
	}
	return validateDeploymentSpec(&d.Spec, field.NewPath("spec"))
}

// ValidateUpdate checks an updated deployment; apps/v1 selectors are
// immutable.
func (deploymentStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	d, ok1 := obj.(*appsv1.Deployment)
	o, ok2 := old.(*appsv1.Deployment)
	if !ok1 || !ok2 {
		return wrongType("*v1.Deployment", obj)
	}
	errs := validateDeploymentSpec(&d.Spec, field.NewPath("spec"))
	return append(errs, ValidateImmutable(d.Spec.Selector, o.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// PrepareForStatusUpdate keeps the old spec and labels: the status
// subresource may change neither.
func (deploymentStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	d, ok1 := obj.(*appsv1.Deployment)
	o, ok2 := old.(*appsv1.Deployment)
	if !ok1 || !ok2 {
		return
	}
	d.Spec = o.Spec
	d.Labels = o.Labels
}

// ValidateStatusUpdate checks the counters of a deployment status.
func (deploymentStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	d, ok1 := obj.(*appsv1.Deployment)
	o, ok2 := old.(*appsv1.Deployment)
	if !ok1 || !ok2 {
		return wrongType("*v1.Deployment", obj)
	}
	p := field.NewPath("status")
	errs := validateDeploymentStatus(&d.Status, p)
	return append(errs, validateCollisionCount(d.Status.CollisionCount, o.Status.CollisionCount, p.Child("collisionCount"))...)
}

// TableColumns are kubectl's deployment columns.
func (deploymentStrategy) TableColumns() []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		NameColumn(),
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		{Name: "Up-to-date", Type: "string", Description: extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]},
		{Name: "Available", Type: "string", Description: extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]},
		AgeColumn(),
	}
	cols = append(cols, ContainerColumns()...)
	return append(cols, metav1.TableColumnDefinition{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"]})
}

// TableRow prints READY as ready/desired and the counters as integers.
func (s deploymentStrategy) TableRow(obj runtime.Object) []interface{} {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return nil
	}
	names, images := ContainerCells(d.Spec.Template.Spec.Containers)
	return []interface{}{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicasOrDefault(d.Spec.Replicas)),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		FormatAge(d.CreationTimestamp, s.now.Now()),
		names, images, selectorString(d.Spec.Selector),
	}
}

// ptrTo returns a pointer to a copy of v.
func ptrTo[T any](v T) *T { return &v }
