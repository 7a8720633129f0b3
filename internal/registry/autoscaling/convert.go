package autoscaling

import (
	"encoding/json"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The annotations through which autoscaling/v1 objects carry what only
// autoscaling/v2 can express, so that a v1 client reading and writing an
// object back loses nothing.
const (
	// MetricSpecsAnnotation holds the metrics other than the CPU
	// utilization one, as a JSON list of v1 MetricSpecs.
	MetricSpecsAnnotation = "autoscaling.alpha.kubernetes.io/metrics"
	// MetricStatusesAnnotation holds status.currentMetrics as a JSON list of
	// v1 MetricStatuses.
	MetricStatusesAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	// ConditionsAnnotation holds status.conditions.
	ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"
	// BehaviorSpecsAnnotation holds spec.behavior, keyed by Go field names
	// as Kubernetes writes it.
	BehaviorSpecsAnnotation = "autoscaling.alpha.kubernetes.io/behavior"
	// ToleranceScaleDownAnnotation and ToleranceScaleUpAnnotation are the
	// tolerance annotations of other versions; they are dropped like the
	// others when converting.
	ToleranceScaleDownAnnotation = "autoscaling.alpha.kubernetes.io/scale-down-tolerance"
	ToleranceScaleUpAnnotation   = "autoscaling.alpha.kubernetes.io/scale-up-tolerance"

	// DefaultCPUUtilization is the target v1 objects without any metric get.
	DefaultCPUUtilization = 80
)

// roundTripAnnotations are removed from objects before conversion writes
// its own, and from converted v2 objects.
func roundTripAnnotations() []string {
	return []string{
		MetricSpecsAnnotation, BehaviorSpecsAnnotation, ToleranceScaleDownAnnotation,
		ToleranceScaleUpAnnotation, MetricStatusesAnnotation, ConditionsAnnotation,
	}
}

// specAnnotations are the round-trip annotations that describe the spec; the
// rest describe status.
func specAnnotations() []string {
	return []string{MetricSpecsAnnotation, BehaviorSpecsAnnotation, ToleranceScaleDownAnnotation, ToleranceScaleUpAnnotation}
}

// withoutRoundTripAnnotations copies annotations without the round-trip
// keys; nil when nothing is left.
func withoutRoundTripAnnotations(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	for _, k := range roundTripAnnotations() {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// goBehavior, goScalingRules and goScalingPolicy mirror Kubernetes' internal
// behavior types, which have no JSON tags: the behavior annotation is keyed
// by their Go field names ("ScaleUp", "StabilizationWindowSeconds", ...).
type goBehavior struct {
	ScaleUp   *goScalingRules
	ScaleDown *goScalingRules
}

type goScalingRules struct {
	StabilizationWindowSeconds *int32
	SelectPolicy               *autoscalingv2.ScalingPolicySelect
	Policies                   []goScalingPolicy
	Tolerance                  *resource.Quantity
}

type goScalingPolicy struct {
	Type          autoscalingv2.HPAScalingPolicyType
	Value         int32
	PeriodSeconds int32
}

func rulesToGo(r *autoscalingv2.HPAScalingRules) *goScalingRules {
	if r == nil {
		return nil
	}
	out := &goScalingRules{StabilizationWindowSeconds: copyInt32(r.StabilizationWindowSeconds), Tolerance: copyQuantity(r.Tolerance)}
	if r.SelectPolicy != nil {
		p := *r.SelectPolicy
		out.SelectPolicy = &p
	}
	if r.Policies != nil {
		out.Policies = make([]goScalingPolicy, len(r.Policies))
		for i, p := range r.Policies {
			out.Policies[i] = goScalingPolicy(p)
		}
	}
	return out
}

func rulesFromGo(r *goScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		return nil
	}
	out := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: r.StabilizationWindowSeconds, SelectPolicy: r.SelectPolicy, Tolerance: r.Tolerance}
	if r.Policies != nil {
		out.Policies = make([]autoscalingv2.HPAScalingPolicy, len(r.Policies))
		for i, p := range r.Policies {
			out.Policies[i] = autoscalingv2.HPAScalingPolicy(p)
		}
	}
	return out
}

// setJSONAnnotation stores v as JSON under key.
func setJSONAnnotation(a map[string]string, key string, v interface{}) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding annotation %s: %w", key, err)
	}
	a[key] = string(b)
	return nil
}

// V2ToV1 converts a stored autoscaling/v2 HPA to its autoscaling/v1 form,
// moving what v1 cannot express into the round-trip annotations. It does
// not modify in.
//
// Kubernetes lists every metric but the CPU utilization one in the metrics
// annotation and brings that one back last. When the CPU metric is not last
// (or not alone), this conversion lists all metrics in the annotation
// instead, so that V1ToV2 restores their order exactly.
func V2ToV1(in *autoscalingv2.HorizontalPodAutoscaler) (*autoscalingv1.HorizontalPodAutoscaler, error) {
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv1.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: refV2ToV1(in.Spec.ScaleTargetRef),
			MinReplicas:    copyInt32(in.Spec.MinReplicas),
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration,
			LastScaleTime:      in.Status.LastScaleTime.DeepCopy(),
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	if out.Status.ObservedGeneration != nil {
		g := *out.Status.ObservedGeneration
		out.Status.ObservedGeneration = &g
	}
	a := withoutRoundTripAnnotations(in.Annotations)
	if a == nil {
		a = map[string]string{}
	}

	metrics := in.Spec.Metrics
	for i := range metrics {
		if isCPUUtilization(&metrics[i]) {
			out.Spec.TargetCPUUtilizationPercentage = copyInt32(metrics[i].Resource.Target.AverageUtilization)
			break
		}
	}
	if others := annotatedMetrics(metrics); len(others) > 0 {
		if err := setJSONAnnotation(a, MetricSpecsAnnotation, others); err != nil {
			return nil, err
		}
	}

	current := in.Status.CurrentMetrics
	for i := range current {
		if r := current[i].Resource; current[i].Type == autoscalingv2.ResourceMetricSourceType && r != nil &&
			r.Name == corev1.ResourceCPU && r.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = copyInt32(r.Current.AverageUtilization)
		}
	}
	if len(current) > 0 {
		statuses := make([]autoscalingv1.MetricStatus, len(current))
		for i := range current {
			statuses[i] = metricStatusV2ToV1(&current[i])
		}
		if err := setJSONAnnotation(a, MetricStatusesAnnotation, statuses); err != nil {
			return nil, err
		}
	}

	if b := in.Spec.Behavior; b != nil {
		if err := setJSONAnnotation(a, BehaviorSpecsAnnotation, goBehavior{ScaleUp: rulesToGo(b.ScaleUp), ScaleDown: rulesToGo(b.ScaleDown)}); err != nil {
			return nil, err
		}
	}
	if len(in.Status.Conditions) > 0 {
		conds := make([]autoscalingv1.HorizontalPodAutoscalerCondition, len(in.Status.Conditions))
		for i, c := range in.Status.Conditions {
			conds[i] = autoscalingv1.HorizontalPodAutoscalerCondition{
				Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
				LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
				ObservedGeneration: copyInt64(c.ObservedGeneration),
			}
		}
		if err := setJSONAnnotation(a, ConditionsAnnotation, conds); err != nil {
			return nil, err
		}
	}
	if len(a) > 0 {
		out.Annotations = a
	} else {
		out.Annotations = nil
	}
	return out, nil
}

// annotatedMetrics returns the metrics the metrics annotation lists: all
// but a single, final, plain CPU utilization metric (Kubernetes' layout), or
// every metric when that layout would lose their order.
func annotatedMetrics(metrics []autoscalingv2.MetricSpec) []autoscalingv1.MetricSpec {
	cpu := 0
	for i := range metrics {
		if isCPUUtilization(&metrics[i]) {
			cpu++
		}
	}
	n := len(metrics)
	kubernetesLayout := cpu == 0 || (cpu == 1 && isPlainCPUUtilization(&metrics[n-1]))
	out := make([]autoscalingv1.MetricSpec, 0, n)
	for i := range metrics {
		if kubernetesLayout && isCPUUtilization(&metrics[i]) {
			continue
		}
		out = append(out, metricSpecV2ToV1(&metrics[i]))
	}
	return out
}

func copyInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
