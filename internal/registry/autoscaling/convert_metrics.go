package autoscaling

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// This file maps single metrics between autoscaling/v2 and the v1 MetricSpec
// and MetricStatus shapes that the round-trip annotations carry.

// quantityOrZero copies *q, or returns the zero quantity for nil, as the
// non-pointer v1 fields require.
func quantityOrZero(q *resource.Quantity) resource.Quantity {
	if q == nil {
		return resource.Quantity{}
	}
	return q.DeepCopy()
}

// copyQuantity returns a copy of q, nil for nil.
func copyQuantity(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := q.DeepCopy()
	return &c
}

// valueUnlessAverage turns v1's always-present value back into a v2 pointer.
// A zero value next to an average value stands for an absent value: v2
// forbids a zero value, and the v1 shape cannot say "absent".
func valueUnlessAverage(v resource.Quantity, avg *resource.Quantity) *resource.Quantity {
	if v.IsZero() && avg != nil {
		return nil
	}
	c := v.DeepCopy()
	return &c
}

func refV2ToV1(r autoscalingv2.CrossVersionObjectReference) autoscalingv1.CrossVersionObjectReference {
	return autoscalingv1.CrossVersionObjectReference{Kind: r.Kind, Name: r.Name, APIVersion: r.APIVersion}
}

func refV1ToV2(r autoscalingv1.CrossVersionObjectReference) autoscalingv2.CrossVersionObjectReference {
	return autoscalingv2.CrossVersionObjectReference{Kind: r.Kind, Name: r.Name, APIVersion: r.APIVersion}
}

// metricSpecV2ToV1 writes a v2 metric in the v1 annotation shape.
func metricSpecV2ToV1(in *autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target:       refV2ToV1(o.DescribedObject),
			MetricName:   o.Metric.Name,
			TargetValue:  quantityOrZero(o.Target.Value),
			Selector:     o.Metric.Selector.DeepCopy(),
			AverageValue: copyQuantity(o.Target.AverageValue),
		}
	}
	if p := in.Pods; p != nil {
		out.Pods = &autoscalingv1.PodsMetricSource{
			MetricName:         p.Metric.Name,
			TargetAverageValue: quantityOrZero(p.Target.AverageValue),
			Selector:           p.Metric.Selector.DeepCopy(),
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv1.ResourceMetricSource{
			Name:                     r.Name,
			TargetAverageUtilization: copyInt32(r.Target.AverageUtilization),
			TargetAverageValue:       copyQuantity(r.Target.AverageValue),
		}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{
			Name:                     r.Name,
			TargetAverageUtilization: copyInt32(r.Target.AverageUtilization),
			TargetAverageValue:       copyQuantity(r.Target.AverageValue),
			Container:                r.Container,
		}
	}
	if e := in.External; e != nil {
		out.External = &autoscalingv1.ExternalMetricSource{
			MetricName:         e.Metric.Name,
			MetricSelector:     e.Metric.Selector.DeepCopy(),
			TargetValue:        copyQuantity(e.Target.Value),
			TargetAverageValue: copyQuantity(e.Target.AverageValue),
		}
	}
	return out
}

// resourceTarget is the v2 target of a v1 resource-like metric: utilization
// when a utilization is given, else an average value.
func resourceTarget(util *int32, avg *resource.Quantity) autoscalingv2.MetricTarget {
	t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageUtilization: copyInt32(util), AverageValue: copyQuantity(avg)}
	if util != nil {
		t.Type = autoscalingv2.UtilizationMetricType
	}
	return t
}

// metricSpecV1ToV2 reads a metric back from the v1 annotation shape.
func metricSpecV1ToV2(in *autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: valueUnlessAverage(o.TargetValue, o.AverageValue), AverageValue: copyQuantity(o.AverageValue)}
		if o.AverageValue != nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		out.Object = &autoscalingv2.ObjectMetricSource{
			DescribedObject: refV1ToV2(o.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: o.MetricName, Selector: o.Selector.DeepCopy()},
			Target:          t,
		}
	}
	if p := in.Pods; p != nil {
		avg := p.TargetAverageValue.DeepCopy()
		out.Pods = &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: p.MetricName, Selector: p.Selector.DeepCopy()},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg},
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv2.ResourceMetricSource{Name: r.Name, Target: resourceTarget(r.TargetAverageUtilization, r.TargetAverageValue)}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{
			Name: r.Name, Container: r.Container, Target: resourceTarget(r.TargetAverageUtilization, r.TargetAverageValue),
		}
	}
	if e := in.External; e != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: copyQuantity(e.TargetValue), AverageValue: copyQuantity(e.TargetAverageValue)}
		if e.TargetValue != nil {
			t.Type = autoscalingv2.ValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: e.MetricName, Selector: e.MetricSelector.DeepCopy()},
			Target: t,
		}
	}
	return out
}

// metricStatusV2ToV1 writes a v2 metric status in the v1 annotation shape.
func metricStatusV2ToV1(in *autoscalingv2.MetricStatus) autoscalingv1.MetricStatus {
	out := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		out.Object = &autoscalingv1.ObjectMetricStatus{
			Target:       refV2ToV1(o.DescribedObject),
			MetricName:   o.Metric.Name,
			CurrentValue: quantityOrZero(o.Current.Value),
			Selector:     o.Metric.Selector.DeepCopy(),
			AverageValue: copyQuantity(o.Current.AverageValue),
		}
	}
	if p := in.Pods; p != nil {
		out.Pods = &autoscalingv1.PodsMetricStatus{
			MetricName:          p.Metric.Name,
			CurrentAverageValue: quantityOrZero(p.Current.AverageValue),
			Selector:            p.Metric.Selector.DeepCopy(),
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv1.ResourceMetricStatus{
			Name:                      r.Name,
			CurrentAverageUtilization: copyInt32(r.Current.AverageUtilization),
			CurrentAverageValue:       quantityOrZero(r.Current.AverageValue),
		}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{
			Name:                      r.Name,
			CurrentAverageUtilization: copyInt32(r.Current.AverageUtilization),
			CurrentAverageValue:       quantityOrZero(r.Current.AverageValue),
			Container:                 r.Container,
		}
	}
	if e := in.External; e != nil {
		out.External = &autoscalingv1.ExternalMetricStatus{
			MetricName:          e.Metric.Name,
			MetricSelector:      e.Metric.Selector.DeepCopy(),
			CurrentValue:        quantityOrZero(e.Current.Value),
			CurrentAverageValue: copyQuantity(e.Current.AverageValue),
		}
	}
	return out
}

// metricStatusV1ToV2 reads a metric status back from the v1 annotation shape.
func metricStatusV1ToV2(in *autoscalingv1.MetricStatus) autoscalingv2.MetricStatus {
	out := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		out.Object = &autoscalingv2.ObjectMetricStatus{
			DescribedObject: refV1ToV2(o.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: o.MetricName, Selector: o.Selector.DeepCopy()},
			Current:         autoscalingv2.MetricValueStatus{Value: valueUnlessAverage(o.CurrentValue, o.AverageValue), AverageValue: copyQuantity(o.AverageValue)},
		}
	}
	if p := in.Pods; p != nil {
		avg := p.CurrentAverageValue.DeepCopy()
		out.Pods = &autoscalingv2.PodsMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: p.MetricName, Selector: p.Selector.DeepCopy()},
			Current: autoscalingv2.MetricValueStatus{AverageValue: &avg},
		}
	}
	if r := in.Resource; r != nil {
		avg := r.CurrentAverageValue.DeepCopy()
		out.Resource = &autoscalingv2.ResourceMetricStatus{
			Name:    r.Name,
			Current: autoscalingv2.MetricValueStatus{AverageValue: &avg, AverageUtilization: copyInt32(r.CurrentAverageUtilization)},
		}
	}
	if r := in.ContainerResource; r != nil {
		avg := r.CurrentAverageValue.DeepCopy()
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{
			Name:      r.Name,
			Container: r.Container,
			Current:   autoscalingv2.MetricValueStatus{AverageValue: &avg, AverageUtilization: copyInt32(r.CurrentAverageUtilization)},
		}
	}
	if e := in.External; e != nil {
		out.External = &autoscalingv2.ExternalMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: e.MetricName, Selector: e.MetricSelector.DeepCopy()},
			Current: autoscalingv2.MetricValueStatus{Value: valueUnlessAverage(e.CurrentValue, e.CurrentAverageValue), AverageValue: copyQuantity(e.CurrentAverageValue)},
		}
	}
	return out
}

// isCPUUtilization reports a resource metric on CPU with a utilization
// target, the one metric autoscaling/v1 has a field for.
func isCPUUtilization(m *autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

// isPlainCPUUtilization reports a CPU utilization metric that
// targetCPUUtilizationPercentage alone describes completely.
func isPlainCPUUtilization(m *autoscalingv2.MetricSpec) bool {
	return isCPUUtilization(m) && m.Object == nil && m.Pods == nil && m.ContainerResource == nil && m.External == nil &&
		m.Resource.Target.Type == autoscalingv2.UtilizationMetricType &&
		m.Resource.Target.Value == nil && m.Resource.Target.AverageValue == nil
}

// isV1CPUUtilization is isCPUUtilization for a metric in the v1 annotation.
func isV1CPUUtilization(m *autoscalingv1.MetricSpec) bool {
	return m.Type == autoscalingv1.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.TargetAverageUtilization != nil
}

// cpuUtilizationMetric is the v2 form of targetCPUUtilizationPercentage.
func cpuUtilizationMetric(pct int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &pct},
		},
	}
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
