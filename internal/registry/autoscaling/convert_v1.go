package autoscaling

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// V1ToV2 converts an autoscaling/v1 HPA to the stored autoscaling/v2 form,
// restoring what the round-trip annotations carry and removing them. It does
// not modify in. Annotations that do not decode are ignored, as in
// Kubernetes. An HPA left without any metric targets 80% CPU utilization,
// the default v1 always had.
func V1ToV2(in *autoscalingv1.HorizontalPodAutoscaler) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv2.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: refV1ToV2(in.Spec.ScaleTargetRef),
			MinReplicas:    copyInt32(in.Spec.MinReplicas),
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: copyInt64(in.Status.ObservedGeneration),
			LastScaleTime:      in.Status.LastScaleTime.DeepCopy(),
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	out.Annotations = withoutRoundTripAnnotations(in.Annotations)
	a := in.Annotations

	out.Spec.Metrics = metricsFromV1(in.Spec.TargetCPUUtilizationPercentage, a[MetricSpecsAnnotation])
	if len(out.Spec.Metrics) == 0 {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilizationMetric(DefaultCPUUtilization)}
	}

	if raw, ok := a[BehaviorSpecsAnnotation]; ok {
		var b goBehavior
		if json.Unmarshal([]byte(raw), &b) == nil {
			out.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rulesFromGo(b.ScaleUp), ScaleDown: rulesFromGo(b.ScaleDown)}
		}
	}

	var statuses []autoscalingv1.MetricStatus
	if raw, ok := a[MetricStatusesAnnotation]; ok && json.Unmarshal([]byte(raw), &statuses) == nil {
		// The annotation has every current metric, the CPU one included.
		out.Status.CurrentMetrics = make([]autoscalingv2.MetricStatus, len(statuses))
		for i := range statuses {
			out.Status.CurrentMetrics[i] = metricStatusV1ToV2(&statuses[i])
		}
	} else if pct := in.Status.CurrentCPUUtilizationPercentage; pct != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(pct)},
			},
		}}
	}

	var conds []autoscalingv1.HorizontalPodAutoscalerCondition
	if raw, ok := a[ConditionsAnnotation]; ok && json.Unmarshal([]byte(raw), &conds) == nil {
		out.Status.Conditions = make([]autoscalingv2.HorizontalPodAutoscalerCondition, len(conds))
		for i, c := range conds {
			out.Status.Conditions[i] = autoscalingv2.HorizontalPodAutoscalerCondition{
				Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
				LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
				ObservedGeneration: c.ObservedGeneration,
			}
		}
	}
	return out, nil
}

// metricsFromV1 rebuilds spec.metrics from targetCPUUtilizationPercentage
// and the metrics annotation. In Kubernetes' layout the annotation holds the
// other metrics and the CPU one goes last; when the annotation holds a CPU
// utilization metric itself (the order-keeping layout of V2ToV1), the
// percentage updates the first such metric in place, and an unset
// percentage removes it.
func metricsFromV1(pct *int32, raw string) []autoscalingv2.MetricSpec {
	var annotated []autoscalingv1.MetricSpec
	if raw == "" || json.Unmarshal([]byte(raw), &annotated) != nil {
		annotated = nil
	}
	cpuAt := -1
	for i := range annotated {
		if isV1CPUUtilization(&annotated[i]) {
			cpuAt = i
			break
		}
	}
	out := make([]autoscalingv2.MetricSpec, 0, len(annotated)+1)
	for i := range annotated {
		m := metricSpecV1ToV2(&annotated[i])
		if i == cpuAt {
			if pct == nil {
				continue
			}
			m.Resource.Target.AverageUtilization = copyInt32(pct)
		}
		out = append(out, m)
	}
	if cpuAt < 0 && pct != nil {
		out = append(out, cpuUtilizationMetric(*pct))
	}
	return out
}
