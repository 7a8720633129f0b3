package autoscaling

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiff-io/skiff/internal/registry/apps"
)

// maxListedMetrics is how many metrics TARGETS spells out before
// summarising the rest as "+ N more...".
const maxListedMetrics = 2

// hpaColumns are kubectl's HPA columns, shared by both served versions.
func hpaColumns() []metav1.TableColumnDefinition {
	spec, status := autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc(), autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		apps.NameColumn(),
		{Name: "Reference", Type: "string", Description: spec["scaleTargetRef"]},
		{Name: "Targets", Type: "string", Description: spec["metrics"]},
		{Name: "MinPods", Type: "string", Description: spec["minReplicas"]},
		{Name: "MaxPods", Type: "string", Description: spec["maxReplicas"]},
		{Name: "Replicas", Type: "string", Description: status["currentReplicas"]},
		apps.AgeColumn(),
	}
}

// TableColumns are kubectl's HPA columns.
func (hpaStrategy) TableColumns() []metav1.TableColumnDefinition { return hpaColumns() }

// TableRow prints the target reference, each metric as current/target, and
// the replica bounds.
func (s hpaStrategy) TableRow(obj runtime.Object) []interface{} {
	h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return nil
	}
	return hpaRow(h, s.now)
}

func hpaRow(h *autoscalingv2.HorizontalPodAutoscaler, now apps.Clock) []interface{} {
	minPods := "<unset>"
	if h.Spec.MinReplicas != nil {
		minPods = fmt.Sprintf("%d", *h.Spec.MinReplicas)
	}
	return []interface{}{
		h.Name,
		h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name,
		formatHPAMetrics(h.Spec.Metrics, h.Status.CurrentMetrics),
		minPods,
		int64(h.Spec.MaxReplicas),
		int64(h.Status.CurrentReplicas),
		apps.FormatAge(h.CreationTimestamp, now.Now()),
	}
}

// qty prints a quantity the way kubectl shows an unset one: "<nil>".
func qty(q *resource.Quantity) string {
	if q == nil {
		return "<nil>"
	}
	return q.String()
}

// formatHPAMetrics renders TARGETS: per metric "current/target", resource
// metrics prefixed with their resource name ("cpu: 40%/80%"), averages of
// object and external metrics marked "(avg)", "<unknown>" for a current
// value not yet reported.
func formatHPAMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	list := make([]string, 0, len(specs))
	for i := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list = append(list, formatHPAMetric(&specs[i], st))
	}
	if len(list) > maxListedMetrics {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:maxListedMetrics], ", "), len(list)-maxListedMetrics)
	}
	return strings.Join(list, ", ")
}

func formatHPAMetric(spec *autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	const unknown = "<unknown>"
	switch spec.Type {
	case autoscalingv2.ExternalMetricSourceType:
		if spec.External == nil {
			break
		}
		t := spec.External.Target
		cur := unknown
		if t.AverageValue != nil {
			if st != nil && st.External != nil && st.External.Current.AverageValue != nil {
				cur = st.External.Current.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", cur, t.AverageValue)
		}
		if st != nil && st.External != nil {
			cur = qty(st.External.Current.Value)
		}
		return fmt.Sprintf("%s/%s", cur, qty(t.Value))
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods == nil {
			break
		}
		cur := unknown
		if st != nil && st.Pods != nil {
			cur = qty(st.Pods.Current.AverageValue)
		}
		return fmt.Sprintf("%s/%s", cur, qty(spec.Pods.Target.AverageValue))
	case autoscalingv2.ObjectMetricSourceType:
		if spec.Object == nil {
			break
		}
		t := spec.Object.Target
		cur := unknown
		if t.AverageValue != nil {
			if st != nil && st.Object != nil && st.Object.Current.AverageValue != nil {
				cur = st.Object.Current.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", cur, t.AverageValue)
		}
		if st != nil && st.Object != nil {
			cur = qty(st.Object.Current.Value)
		}
		return fmt.Sprintf("%s/%s", cur, qty(t.Value))
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			break
		}
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return formatResourceMetric(string(spec.Resource.Name), spec.Resource.Target, cur)
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			break
		}
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return formatResourceMetric(string(spec.ContainerResource.Name), spec.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

// formatResourceMetric prints "name: current/target" for a resource metric,
// as an average value or as a utilization percentage.
func formatResourceMetric(name string, t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if t.AverageValue != nil {
		if cur != nil {
			current = qty(cur.AverageValue)
		}
		return fmt.Sprintf("%s: %s/%s", name, current, t.AverageValue)
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	target := "<auto>"
	if t.AverageUtilization != nil {
		target = fmt.Sprintf("%d%%", *t.AverageUtilization)
	}
	return fmt.Sprintf("%s: %s/%s", name, current, target)
}
