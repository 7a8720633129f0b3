package autoscaling

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func q(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
func i32(v int32) *int32            { return &v }
func i64(v int64) *int64            { return &v }

func cpuMetric(pct int32) autoscalingv2.MetricSpec { return cpuUtilizationMetric(pct) }

func memoryMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("100Mi")},
	}}
}

func podsMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "packets-per-second", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"v": "1"}}},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("1k")},
	}}
}

func objectMetric(avg bool) autoscalingv2.MetricSpec {
	t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("10k")}
	if avg {
		t = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("500")}
	}
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
		Metric:          autoscalingv2.MetricIdentifier{Name: "requests-per-second"},
		Target:          t,
	}}
}

func externalMetric(avg bool) autoscalingv2.MetricSpec {
	t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("30")}
	if avg {
		t = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("3")}
	}
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "queue_messages_ready", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "worker_tasks"}}},
		Target: t,
	}}
}

func containerMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(60)},
	}}
}

// fullHPA is a stored v2 HPA using everything v1 cannot express.
func fullHPA(metrics ...autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	maxPolicy, minPolicy := autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect
	ts := metav1.NewTime(time.Date(2026, 10, 7, 9, 0, 0, 0, time.UTC))
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Generation: 3, Annotations: map[string]string{"owner": "team-a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    i32(2),
			MaxReplicas:    10,
			Metrics:        metrics,
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: i32(0), SelectPolicy: &maxPolicy, Tolerance: q("50m"),
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}}},
				ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: &minPolicy,
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}},
			},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: i64(3),
			LastScaleTime:      &ts,
			CurrentReplicas:    3,
			DesiredReplicas:    4,
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
					Current: autoscalingv2.MetricValueStatus{AverageUtilization: i32(40), AverageValue: q("40m")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Ingress", Name: "main"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "requests-per-second"},
					Current:         autoscalingv2.MetricValueStatus{AverageValue: q("250")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{
					Metric:  autoscalingv2.MetricIdentifier{Name: "queue_messages_ready"},
					Current: autoscalingv2.MetricValueStatus{Value: q("12")}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{
					Metric:  autoscalingv2.MetricIdentifier{Name: "packets-per-second"},
					Current: autoscalingv2.MetricValueStatus{AverageValue: q("900")}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{
					Name: corev1.ResourceCPU, Container: "app", Current: autoscalingv2.MetricValueStatus{AverageUtilization: i32(55), AverageValue: q("55m")}}},
			},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, LastTransitionTime: ts, Reason: "ReadyForNewScale", Message: "ok", ObservedGeneration: i64(3)},
				{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, LastTransitionTime: ts, Reason: "FailedGetResourceMetric"},
			},
		},
	}
}

func TestHPARoundTripV2V1V2(t *testing.T) {
	cases := []struct {
		name    string
		hpa     *autoscalingv2.HorizontalPodAutoscaler
		wantCPU *int32
	}{
		{"cpu only", fullHPA(cpuMetric(80)), i32(80)},
		{"cpu last, as Kubernetes lays it out", fullHPA(memoryMetric(), podsMetric(), cpuMetric(70)), i32(70)},
		{"cpu first", fullHPA(cpuMetric(60), memoryMetric()), i32(60)},
		{"two cpu targets", fullHPA(cpuMetric(60), externalMetric(false), cpuMetric(90)), i32(60)},
		{"no cpu", fullHPA(objectMetric(false), objectMetric(true), externalMetric(true), containerMetric()), nil},
		{"every kind", fullHPA(externalMetric(false), objectMetric(true), containerMetric(), podsMetric(), memoryMetric(), cpuMetric(50)), i32(50)},
		{"bare", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "bare"}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "x"}, MinReplicas: i32(1), MaxReplicas: 3,
			Metrics: []autoscalingv2.MetricSpec{cpuMetric(80)}}}, i32(80)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			orig := tc.hpa.DeepCopy()
			v1, err := V2ToV1(tc.hpa)
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(orig, tc.hpa) {
				t.Fatalf("V2ToV1 modified its input")
			}
			if !apiequality.Semantic.DeepEqual(v1.Spec.TargetCPUUtilizationPercentage, tc.wantCPU) {
				t.Fatalf("targetCPUUtilizationPercentage %v", v1.Spec.TargetCPUUtilizationPercentage)
			}
			// What a client gets is JSON: go through it, as a v1 client would.
			raw, err := json.Marshal(v1)
			if err != nil {
				t.Fatal(err)
			}
			var fromClient autoscalingv1.HorizontalPodAutoscaler
			if err := json.Unmarshal(raw, &fromClient); err != nil {
				t.Fatal(err)
			}
			back, err := V1ToV2(&fromClient)
			if err != nil {
				t.Fatal(err)
			}
			back.TypeMeta = tc.hpa.TypeMeta
			if !apiequality.Semantic.DeepEqual(back, tc.hpa) {
				a, _ := json.MarshalIndent(tc.hpa, "", " ")
				b, _ := json.MarshalIndent(back, "", " ")
				t.Fatalf("round trip lost data:\nwant %s\n got %s", a, b)
			}
		})
	}
}

func TestHPAV2ToV1Shape(t *testing.T) {
	h := fullHPA(memoryMetric(), cpuMetric(70))
	v1, err := V2ToV1(h)
	if err != nil {
		t.Fatal(err)
	}
	a := v1.Annotations
	if a["owner"] != "team-a" || *v1.Status.CurrentCPUUtilizationPercentage != 40 || v1.Status.DesiredReplicas != 4 {
		t.Fatalf("v1 %+v", v1)
	}
	var metrics []autoscalingv1.MetricSpec
	if err := json.Unmarshal([]byte(a[MetricSpecsAnnotation]), &metrics); err != nil || len(metrics) != 1 || metrics[0].Resource.Name != corev1.ResourceMemory {
		t.Fatalf("metrics annotation %q (%v)", a[MetricSpecsAnnotation], err)
	}
	if !strings.HasPrefix(a[BehaviorSpecsAnnotation], `{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}],"Tolerance":"50m"}`) {
		t.Fatalf("behavior annotation %s", a[BehaviorSpecsAnnotation])
	}
	if !strings.Contains(a[MetricStatusesAnnotation], `"currentAverageUtilization":40`) || !strings.Contains(a[ConditionsAnnotation], `"reason":"ReadyForNewScale"`) {
		t.Fatalf("status annotations %v", a)
	}

	plain := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Metrics: []autoscalingv2.MetricSpec{cpuMetric(80)}}}
	v1, _ = V2ToV1(plain)
	if v1.Annotations != nil || *v1.Spec.TargetCPUUtilizationPercentage != 80 {
		t.Fatalf("plain HPA got %v / %v", v1.Annotations, v1.Spec.TargetCPUUtilizationPercentage)
	}
}

func TestHPAV1ToV2(t *testing.T) {
	t.Run("no target gets the 80% default", func(t *testing.T) {
		v2, _ := V1ToV2(&autoscalingv1.HorizontalPodAutoscaler{Spec: autoscalingv1.HorizontalPodAutoscalerSpec{MaxReplicas: 3}})
		if len(v2.Spec.Metrics) != 1 || !apiequality.Semantic.DeepEqual(v2.Spec.Metrics[0], cpuMetric(80)) {
			t.Fatalf("metrics %+v", v2.Spec.Metrics)
		}
	})
	t.Run("current cpu without annotation", func(t *testing.T) {
		v2, _ := V1ToV2(&autoscalingv1.HorizontalPodAutoscaler{Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentCPUUtilizationPercentage: i32(33)}})
		if len(v2.Status.CurrentMetrics) != 1 || *v2.Status.CurrentMetrics[0].Resource.Current.AverageUtilization != 33 {
			t.Fatalf("current %+v", v2.Status.CurrentMetrics)
		}
	})
	t.Run("annotations written by Kubernetes", func(t *testing.T) {
		in := &autoscalingv1.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
				MetricSpecsAnnotation:   `[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]`,
				BehaviorSpecsAnnotation: `{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":60,"SelectPolicy":"Min","Policies":[{"Type":"Percent","Value":10,"PeriodSeconds":60}]}}`,
				ConditionsAnnotation:    `[{"type":"AbleToScale","status":"True","lastTransitionTime":"2026-10-07T09:00:00Z","reason":"SucceededGetScale"}]`,
				"keep":                  "me",
			}},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{TargetCPUUtilizationPercentage: i32(50)},
		}
		v2, _ := V1ToV2(in)
		if len(v2.Spec.Metrics) != 2 || v2.Spec.Metrics[0].Resource.Name != corev1.ResourceMemory || !apiequality.Semantic.DeepEqual(v2.Spec.Metrics[1], cpuMetric(50)) {
			t.Fatalf("metrics %+v", v2.Spec.Metrics)
		}
		if b := v2.Spec.Behavior; b == nil || b.ScaleUp != nil || *b.ScaleDown.StabilizationWindowSeconds != 60 || b.ScaleDown.Policies[0].Value != 10 {
			t.Fatalf("behavior %+v", b)
		}
		if len(v2.Status.Conditions) != 1 || v2.Status.Conditions[0].Reason != "SucceededGetScale" {
			t.Fatalf("conditions %+v", v2.Status.Conditions)
		}
		if len(v2.Annotations) != 1 || v2.Annotations["keep"] != "me" {
			t.Fatalf("annotations %v", v2.Annotations)
		}
		if in.Annotations[MetricSpecsAnnotation] == "" {
			t.Fatalf("V1ToV2 modified its input")
		}
	})
	t.Run("garbage annotations are ignored", func(t *testing.T) {
		in := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			MetricSpecsAnnotation: "not json", BehaviorSpecsAnnotation: "[", MetricStatusesAnnotation: "{",
		}}}
		v2, err := V1ToV2(in)
		if err != nil || v2.Spec.Behavior != nil || len(v2.Spec.Metrics) != 1 || v2.Annotations != nil {
			t.Fatalf("got %+v, %v", v2, err)
		}
	})
	t.Run("v1 client edits the cpu target of an order-keeping layout", func(t *testing.T) {
		v1, _ := V2ToV1(fullHPA(cpuMetric(60), memoryMetric()))
		v1.Spec.TargetCPUUtilizationPercentage = i32(75)
		v2, _ := V1ToV2(v1)
		if len(v2.Spec.Metrics) != 2 || !apiequality.Semantic.DeepEqual(v2.Spec.Metrics[0], cpuMetric(75)) {
			t.Fatalf("metrics %+v", v2.Spec.Metrics)
		}
		v1.Spec.TargetCPUUtilizationPercentage = nil
		v2, _ = V1ToV2(v1)
		if len(v2.Spec.Metrics) != 1 || v2.Spec.Metrics[0].Resource.Name != corev1.ResourceMemory {
			t.Fatalf("metrics after removing the cpu target %+v", v2.Spec.Metrics)
		}
	})
}
