package autoscaling

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/apps"
)

// HorizontalPodAutoscalersV2 describes autoscaling/v2 horizontal pod
// autoscalers, the version HPAs are stored in, with a status subresource.
func HorizontalPodAutoscalersV2() *registry.Resource {
	return &registry.Resource{
		Group:        "autoscaling",
		Version:      "v2",
		Resource:     "horizontalpodautoscalers",
		Kind:         "HorizontalPodAutoscaler",
		Singular:     "horizontalpodautoscaler",
		ShortNames:   []string{"hpa"},
		Categories:   []string{"all"},
		Namespaced:   true,
		New:          func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		NewList:      func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} },
		Strategy:     hpaStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// hpaStrategy implements the HorizontalPodAutoscaler behaviour of
// Kubernetes' autoscaling registry on autoscaling/v2 objects.
type hpaStrategy struct {
	now apps.Clock
}

var (
	_ registry.Strategy       = hpaStrategy{}
	_ registry.StatusStrategy = hpaStrategy{}
	_ registry.TableConvertor = hpaStrategy{}
)

// Default sets minReplicas 1, an 80% CPU utilization target when no metric
// is given, and fills a given behavior with the documented scaling rules.
func (hpaStrategy) Default(obj runtime.Object) {
	h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return
	}
	defaultHPAV2(h)
}

func defaultHPAV2(h *autoscalingv2.HorizontalPodAutoscaler) {
	if h.Spec.MinReplicas == nil {
		one := int32(1)
		h.Spec.MinReplicas = &one
	}
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilizationMetric(DefaultCPUUtilization)}
	}
	if b := h.Spec.Behavior; b != nil {
		b.ScaleUp = fillScalingRules(b.ScaleUp, defaultScaleUpRules())
		b.ScaleDown = fillScalingRules(b.ScaleDown, defaultScaleDownRules())
	}
}

// defaultScaleUpRules: no stabilization, and per 15 seconds the larger of
// 4 pods or doubling.
func defaultScaleUpRules() *autoscalingv2.HPAScalingRules {
	zero, maxPolicy := int32(0), autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &zero,
		SelectPolicy:               &maxPolicy,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// defaultScaleDownRules: up to all pods per 15 seconds. The stabilization
// window stays unset so that the controller's own default (300s) applies.
func defaultScaleDownRules() *autoscalingv2.HPAScalingRules {
	maxPolicy := autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: &maxPolicy,
		Policies:     []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
	}
}

// fillScalingRules returns def with every field set in given taking
// precedence.
func fillScalingRules(given, def *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if given == nil {
		return def
	}
	if given.SelectPolicy != nil {
		def.SelectPolicy = given.SelectPolicy
	}
	if given.StabilizationWindowSeconds != nil {
		def.StabilizationWindowSeconds = given.StabilizationWindowSeconds
	}
	if given.Policies != nil {
		def.Policies = given.Policies
	}
	if given.Tolerance != nil {
		def.Tolerance = given.Tolerance
	}
	return def
}

// PrepareForCreate clears status and starts the generation at 1.
func (hpaStrategy) PrepareForCreate(obj runtime.Object) {
	if h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler); ok {
		h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
		h.Generation = 1
	}
}

// PrepareForUpdate keeps the old status and moves the generation on spec
// changes.
func (hpaStrategy) PrepareForUpdate(obj, old runtime.Object) {
	h, ok1 := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	o, ok2 := old.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok1 || !ok2 {
		return
	}
	h.Status = o.Status
	if !apiequality.Semantic.DeepEqual(h.Spec, o.Spec) {
		h.Generation = o.Generation + 1
	}
}

// Validate checks a new HPA; minReplicas must be at least 1.
func (hpaStrategy) Validate(obj runtime.Object) field.ErrorList {
	h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return wrongType("*v2.HorizontalPodAutoscaler", obj)
	}
	return validateHPASpec(&h.Spec, field.NewPath("spec"), 1)
}

// ValidateUpdate checks an updated HPA. One that already scales to zero may
// keep minReplicas 0.
func (hpaStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	h, ok1 := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	o, ok2 := old.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok1 || !ok2 {
		return wrongType("*v2.HorizontalPodAutoscaler", obj)
	}
	lower := int32(1)
	if o.Spec.MinReplicas != nil && *o.Spec.MinReplicas == 0 {
		lower = 0
	}
	return validateHPASpec(&h.Spec, field.NewPath("spec"), lower)
}

// PrepareForStatusUpdate keeps the old spec.
func (hpaStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	h, ok1 := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	o, ok2 := old.(*autoscalingv2.HorizontalPodAutoscaler)
	if ok1 && ok2 {
		h.Spec = o.Spec
	}
}

// ValidateStatusUpdate requires non-negative replica counts.
func (hpaStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return wrongType("*v2.HorizontalPodAutoscaler", obj)
	}
	errs := apps.ValidateNonnegative(int64(h.Status.CurrentReplicas), field.NewPath("status", "currentReplicas"))
	return append(errs, apps.ValidateNonnegative(int64(h.Status.DesiredReplicas), field.NewPath("status", "desiredReplicas"))...)
}

// wrongType is the error strategies return when handed an object of a type
// they do not serve, which only a wiring mistake can cause.
func wrongType(want string, obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("expected %s, got %T", want, obj))}
}
