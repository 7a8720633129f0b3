package autoscaling

import (
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/apps"
)

// HorizontalPodAutoscalersV1 describes autoscaling/v1 horizontal pod
// autoscalers. They are stored as autoscaling/v2 objects: Convert translates
// between the versions (see V1ToV2 and V2ToV1). Its strategy works on v1
// objects and judges them as Kubernetes does, by their v2 form.
func HorizontalPodAutoscalersV1() *registry.Resource {
	return &registry.Resource{
		Group:           "autoscaling",
		Version:         "v1",
		Resource:        "horizontalpodautoscalers",
		Kind:            "HorizontalPodAutoscaler",
		Singular:        "horizontalpodautoscaler",
		ShortNames:      []string{"hpa"},
		Categories:      []string{"all"},
		Namespaced:      true,
		New:             func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscaler{} },
		NewList:         func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscalerList{} },
		Strategy:        hpaV1Strategy{},
		Subresources:    []registry.Subresource{registry.StatusSubresource},
		StorageResource: &schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"},
		Convert: &registry.Converter{
			ToStorage: func(obj runtime.Object) (runtime.Object, error) {
				h, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler)
				if !ok {
					return nil, fmt.Errorf("converting to autoscaling/v2: expected *v1.HorizontalPodAutoscaler, got %T", obj)
				}
				return V1ToV2(h)
			},
			FromStorage: func(obj runtime.Object) (runtime.Object, error) {
				h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
				if !ok {
					return nil, fmt.Errorf("converting to autoscaling/v1: expected *v2.HorizontalPodAutoscaler, got %T", obj)
				}
				return V2ToV1(h)
			},
		},
	}
}

// hpaV1Strategy applies the HPA behaviour to autoscaling/v1 objects. Status
// travels partly in annotations in v1, so preparing an update also keeps or
// restores those annotations.
type hpaV1Strategy struct {
	now apps.Clock
}

var (
	_ registry.Strategy       = hpaV1Strategy{}
	_ registry.StatusStrategy = hpaV1Strategy{}
	_ registry.TableConvertor = hpaV1Strategy{}
)

// asV1 returns obj as a v1 HPA.
func asV1(obj runtime.Object) (*autoscalingv1.HorizontalPodAutoscaler, bool) {
	h, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler)
	return h, ok
}

// toV2 converts for judging; conversion of a v1 object cannot fail.
func toV2(h *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out, err := V1ToV2(h)
	if err != nil {
		return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: h.ObjectMeta}
	}
	return out
}

// Default sets minReplicas 1; autoscaling/v1 leaves the CPU target unset
// (conversion supplies the 80% default in storage).
func (hpaV1Strategy) Default(obj runtime.Object) {
	if h, ok := asV1(obj); ok && h.Spec.MinReplicas == nil {
		one := int32(1)
		h.Spec.MinReplicas = &one
	}
}

// PrepareForCreate clears status, including the status annotations.
func (hpaV1Strategy) PrepareForCreate(obj runtime.Object) {
	h, ok := asV1(obj)
	if !ok {
		return
	}
	h.Status = autoscalingv1.HorizontalPodAutoscalerStatus{}
	h.Annotations = copyAnnotationsFrom(h.Annotations, nil, []string{MetricStatusesAnnotation, ConditionsAnnotation})
	h.Generation = 1
}

// PrepareForUpdate keeps the old status and status annotations, and moves
// the generation when the v2 form of the spec changes.
func (hpaV1Strategy) PrepareForUpdate(obj, old runtime.Object) {
	h, ok1 := asV1(obj)
	o, ok2 := asV1(old)
	if !ok1 || !ok2 {
		return
	}
	h.Status = o.Status
	h.Annotations = copyAnnotationsFrom(h.Annotations, o.Annotations, []string{MetricStatusesAnnotation, ConditionsAnnotation})
	if !apiequality.Semantic.DeepEqual(toV2(h).Spec, toV2(o).Spec) {
		h.Generation = o.Generation + 1
	}
}

// Validate checks a new HPA in its v2 form, so errors name v2 fields.
func (hpaV1Strategy) Validate(obj runtime.Object) field.ErrorList {
	h, ok := asV1(obj)
	if !ok {
		return wrongType("*v1.HorizontalPodAutoscaler", obj)
	}
	return hpaStrategy{}.Validate(toV2(h))
}

// ValidateUpdate checks an updated HPA in its v2 form.
func (hpaV1Strategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	h, ok1 := asV1(obj)
	o, ok2 := asV1(old)
	if !ok1 || !ok2 {
		return wrongType("*v1.HorizontalPodAutoscaler", obj)
	}
	return hpaStrategy{}.ValidateUpdate(toV2(h), toV2(o))
}

// PrepareForStatusUpdate keeps the old spec and spec annotations.
func (hpaV1Strategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	h, ok1 := asV1(obj)
	o, ok2 := asV1(old)
	if !ok1 || !ok2 {
		return
	}
	h.Spec = o.Spec
	h.Annotations = copyAnnotationsFrom(h.Annotations, o.Annotations, specAnnotations())
}

// ValidateStatusUpdate checks the status in its v2 form.
func (hpaV1Strategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	h, ok1 := asV1(obj)
	o, ok2 := asV1(old)
	if !ok1 || !ok2 {
		return wrongType("*v1.HorizontalPodAutoscaler", obj)
	}
	return hpaStrategy{}.ValidateStatusUpdate(toV2(h), toV2(o))
}

// TableColumns are the same as for autoscaling/v2.
func (hpaV1Strategy) TableColumns() []metav1.TableColumnDefinition { return hpaColumns() }

// TableRow prints the v2 form of the HPA, so both versions print alike.
func (s hpaV1Strategy) TableRow(obj runtime.Object) []interface{} {
	h, ok := asV1(obj)
	if !ok {
		return nil
	}
	return hpaRow(toV2(h), s.now)
}

// copyAnnotationsFrom returns dst's annotations with the given keys taken
// from src (removed where src lacks them), on a new map; nil when empty.
func copyAnnotationsFrom(dst, src map[string]string, keys []string) map[string]string {
	out := make(map[string]string, len(dst))
	for k, v := range dst {
		out[k] = v
	}
	for _, k := range keys {
		if v, ok := src[k]; ok {
			out[k] = v
		} else {
			delete(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
