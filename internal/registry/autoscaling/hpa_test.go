package autoscaling

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var fixedNow = time.Date(2026, 10, 7, 9, 17, 26, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

type wantErr struct {
	field  string
	typ    field.ErrorType
	detail string
}

func checkErrs(t *testing.T, errs field.ErrorList, want []wantErr) {
	t.Helper()
	var got []string
	for _, e := range errs {
		got = append(got, "  "+e.Error())
	}
	sort.Strings(got)
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), strings.Join(got, "\n"))
	}
	used := make([]bool, len(errs))
	for _, w := range want {
		found := false
		for i, e := range errs {
			if !used[i] && e.Field == w.field && e.Type == w.typ && strings.Contains(e.Detail, w.detail) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing %s %s %q in:\n%s", w.field, w.typ, w.detail, strings.Join(got, "\n"))
		}
	}
}

func validHPA() *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    5,
		},
	}
	hpaStrategy{}.Default(h)
	return h
}

func TestHPADefault(t *testing.T) {
	h := validHPA()
	if *h.Spec.MinReplicas != 1 || len(h.Spec.Metrics) != 1 || !reflect.DeepEqual(h.Spec.Metrics[0], cpuMetric(80)) || h.Spec.Behavior != nil {
		t.Fatalf("defaults %+v", h.Spec)
	}
	withBehavior := validHPA()
	window := int32(30)
	withBehavior.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window}}
	hpaStrategy{}.Default(withBehavior)
	b := withBehavior.Spec.Behavior
	wantUp := defaultScaleUpRules()
	if !reflect.DeepEqual(b.ScaleUp, wantUp) || *b.ScaleUp.StabilizationWindowSeconds != 0 || len(b.ScaleUp.Policies) != 2 {
		t.Fatalf("scale up %+v", b.ScaleUp)
	}
	if *b.ScaleDown.StabilizationWindowSeconds != 30 || *b.ScaleDown.SelectPolicy != autoscalingv2.MaxChangePolicySelect ||
		!reflect.DeepEqual(b.ScaleDown.Policies, []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}) {
		t.Fatalf("scale down %+v", b.ScaleDown)
	}
	noWindow := validHPA()
	noWindow.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	hpaStrategy{}.Default(noWindow)
	if noWindow.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != nil {
		t.Fatalf("scale-down window must stay unset for the controller's default")
	}
	again := withBehavior.DeepCopy()
	hpaStrategy{}.Default(again)
	if !reflect.DeepEqual(again, withBehavior) {
		t.Fatalf("defaulting is not idempotent")
	}
}

func TestHPAValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   []wantErr
	}{
		{"valid", func(*autoscalingv2.HorizontalPodAutoscaler) {}, nil},
		{"every kind of metric", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{memoryMetric(), podsMetric(), objectMetric(true), externalMetric(false), containerMetric(), cpuMetric(50)}
		}, nil},
		{"replica bounds", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.MinReplicas = i32(0)
			h.Spec.MaxReplicas = 0
		}, []wantErr{
			{"spec.minReplicas", field.ErrorTypeInvalid, "must be greater than or equal to 1"},
			{"spec.maxReplicas", field.ErrorTypeInvalid, "must be greater than 0"},
			{"spec.metrics", field.ErrorTypeForbidden, "must specify at least one Object or External metric to support scaling to zero replicas"},
		}},
		{"max below min", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = i32(6) }, []wantErr{
			{"spec.maxReplicas", field.ErrorTypeInvalid, "must be greater than or equal to `minReplicas`"},
		}},
		{"scale target", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Name: "a/b"}
		}, []wantErr{
			{"spec.scaleTargetRef.kind", field.ErrorTypeRequired, ""},
			{"spec.scaleTargetRef.name", field.ErrorTypeInvalid, "may not contain '/'"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := validHPA()
			tc.mutate(h)
			checkErrs(t, hpaStrategy{}.Validate(h), tc.want)
		})
	}

	t.Run("metric sources", func(t *testing.T) {
		h := validHPA()
		both := cpuMetric(0)
		both.Pods = podsMetric().Pods
		h.Spec.Metrics = []autoscalingv2.MetricSpec{
			both,
			{Type: autoscalingv2.PodsMetricSourceType},
			{Type: "Weird"},
			{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "gpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}}},
			{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "q"}, Target: autoscalingv2.MetricTarget{Type: "Value", Value: q("-1"), AverageValue: q("1")}}},
		}
		checkErrs(t, hpaStrategy{}.Validate(h), []wantErr{
			{"spec.metrics[0].pods", field.ErrorTypeForbidden, "must populate the given metric source only"},
			{"spec.metrics[1].pods", field.ErrorTypeRequired, "must populate information for the given metric source"},
			{"spec.metrics[2].type", field.ErrorTypeNotSupported, `"ContainerResource", "External", "Object", "Pods", "Resource"`},
			{"spec.metrics[3].resource.name", field.ErrorTypeInvalid, "must be a standard resource for containers"},
			{"spec.metrics[3].resource.target.averageUtilization", field.ErrorTypeRequired, "must set either a target raw value or a target utilization"},
			{"spec.metrics[4].external.target.value", field.ErrorTypeInvalid, "must be positive"},
			{"spec.metrics[4].external.target.value", field.ErrorTypeForbidden, "may not set both"},
		})
		// The first populated source is the one validated, and its zero
		// utilization is reported there.
		h.Spec.Metrics = []autoscalingv2.MetricSpec{cpuMetric(0)}
		checkErrs(t, hpaStrategy{}.Validate(h), []wantErr{
			{"spec.metrics[0].resource.target.averageUtilization", field.ErrorTypeInvalid, "must be greater than 0"},
		})
	})

	t.Run("behavior", func(t *testing.T) {
		h := validHPA()
		sel := autoscalingv2.ScalingPolicySelect("Sometimes")
		h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: i32(4000), SelectPolicy: &sel, Tolerance: q("-1")},
			ScaleDown: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{
				{Type: "Nodes", Value: 0, PeriodSeconds: 1801},
			}},
		}
		checkErrs(t, hpaStrategy{}.Validate(h), []wantErr{
			{"spec.behavior.scaleUp.stabilizationWindowSeconds", field.ErrorTypeInvalid, "must be less than or equal to 3600"},
			{"spec.behavior.scaleUp.selectPolicy", field.ErrorTypeNotSupported, `"Disabled", "Max", "Min"`},
			{"spec.behavior.scaleUp.policies", field.ErrorTypeRequired, "must specify at least one Policy"},
			{"spec.behavior.scaleUp.tolerance", field.ErrorTypeInvalid, "must be greater than or equal to zero"},
			{"spec.behavior.scaleDown.policies[0].type", field.ErrorTypeNotSupported, `"Percent", "Pods"`},
			{"spec.behavior.scaleDown.policies[0].value", field.ErrorTypeInvalid, "must be greater than zero"},
			{"spec.behavior.scaleDown.policies[0].periodSeconds", field.ErrorTypeInvalid, "must be less than or equal to 1800"},
		})
	})
}

func TestHPAUpdateAndStatus(t *testing.T) {
	s := hpaStrategy{}
	old := validHPA()
	old.Spec.MinReplicas = i32(0)
	old.Spec.Metrics = []autoscalingv2.MetricSpec{externalMetric(true)}
	upd := old.DeepCopy()
	upd.Spec.MaxReplicas = 7
	checkErrs(t, s.ValidateUpdate(upd, old), nil)
	checkErrs(t, s.Validate(upd), []wantErr{{"spec.minReplicas", field.ErrorTypeInvalid, "must be greater than or equal to 1"}})

	old = validHPA()
	old.Generation = 1
	old.Status.CurrentReplicas = 2
	upd = old.DeepCopy()
	upd.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	upd.Spec.MaxReplicas = 9
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 2 || upd.Status.CurrentReplicas != 2 {
		t.Fatalf("update %+v", upd)
	}
	st := old.DeepCopy()
	st.Spec.MaxReplicas = 99
	st.Status.DesiredReplicas = -1
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.MaxReplicas != 5 {
		t.Fatalf("status update changed spec")
	}
	checkErrs(t, s.ValidateStatusUpdate(st, old), []wantErr{{"status.desiredReplicas", field.ErrorTypeInvalid, "must be greater than or equal to 0"}})
}

func TestFormatHPAMetrics(t *testing.T) {
	resStatus := func(util int32, avg string) autoscalingv2.MetricStatus {
		return autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
			Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: &util, AverageValue: q(avg)}}}
	}
	cases := []struct {
		specs    []autoscalingv2.MetricSpec
		statuses []autoscalingv2.MetricStatus
		want     string
	}{
		{nil, nil, "<none>"},
		{[]autoscalingv2.MetricSpec{cpuMetric(80)}, nil, "cpu: <unknown>/80%"},
		{[]autoscalingv2.MetricSpec{cpuMetric(80)}, []autoscalingv2.MetricStatus{resStatus(40, "40m")}, "cpu: 40%/80%"},
		{[]autoscalingv2.MetricSpec{cpuMetric(80), memoryMetric()}, nil, "cpu: <unknown>/80%, memory: <unknown>/100Mi"},
		{[]autoscalingv2.MetricSpec{podsMetric(), externalMetric(true), objectMetric(false), {Type: "Whatever"}},
			[]autoscalingv2.MetricStatus{
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Current: autoscalingv2.MetricValueStatus{AverageValue: q("7")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Current: autoscalingv2.MetricValueStatus{AverageValue: q("300m")}}},
			}, "7/1k, 300m/3 (avg) + 2 more..."},
		{[]autoscalingv2.MetricSpec{objectMetric(false), podsMetric()},
			[]autoscalingv2.MetricStatus{resStatus(1, "1"), {Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{}}},
			"<unknown>/10k, <nil>/1k"},
		{[]autoscalingv2.MetricSpec{{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "cpu"}}, {Type: "Other"}},
			nil, "cpu: <unknown>/<auto>, <unknown type>"},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := formatHPAMetrics(tc.specs, tc.statuses); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHPATable(t *testing.T) {
	s := hpaStrategy{now: fixedClock}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"}) {
		t.Fatalf("columns %v", heads)
	}
	h := validHPA()
	h.CreationTimestamp = metav1.NewTime(fixedNow.Add(-75 * time.Second))
	h.Spec.MinReplicas = i32(2)
	h.Status.CurrentReplicas = 2
	want := []interface{}{"web", "Deployment/web", "cpu: <unknown>/80%", "2", int64(5), int64(2), "75s"}
	if got := s.TableRow(h); !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
	v1, _ := V2ToV1(h)
	if got := (hpaV1Strategy{now: fixedClock}).TableRow(v1); !reflect.DeepEqual(got, want) {
		t.Fatalf("v1 row %#v", got)
	}
}

func TestHPAV1Strategy(t *testing.T) {
	s := hpaV1Strategy{}
	h := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: map[string]string{ConditionsAnnotation: `[{"type":"AbleToScale","status":"True"}]`}},
		Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}, MaxReplicas: 3},
		Status:     autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 9},
	}
	s.Default(h)
	if *h.Spec.MinReplicas != 1 || h.Spec.TargetCPUUtilizationPercentage != nil {
		t.Fatalf("v1 defaults %+v", h.Spec)
	}
	s.PrepareForCreate(h)
	if h.Status.CurrentReplicas != 0 || h.Annotations != nil || h.Generation != 1 {
		t.Fatalf("create %+v", h)
	}
	checkErrs(t, s.Validate(h), nil)

	h.Spec.TargetCPUUtilizationPercentage = i32(0)
	h.Spec.MaxReplicas = 0
	checkErrs(t, s.Validate(h), []wantErr{
		{"spec.maxReplicas", field.ErrorTypeInvalid, "must be greater than 0"},
		{"spec.maxReplicas", field.ErrorTypeInvalid, "must be greater than or equal to `minReplicas`"},
		{"spec.metrics[0].resource.target.averageUtilization", field.ErrorTypeInvalid, "must be greater than 0"},
	})

	old, _ := V2ToV1(fullHPA(memoryMetric(), cpuMetric(70)))
	upd := old.DeepCopy()
	upd.Status = autoscalingv1.HorizontalPodAutoscalerStatus{}
	delete(upd.Annotations, MetricStatusesAnnotation)
	upd.Annotations[ConditionsAnnotation] = "[]"
	upd.Spec.MaxReplicas = 12
	s.PrepareForUpdate(upd, old)
	if upd.Status.CurrentReplicas != 3 || upd.Annotations[MetricStatusesAnnotation] != old.Annotations[MetricStatusesAnnotation] ||
		upd.Annotations[ConditionsAnnotation] != old.Annotations[ConditionsAnnotation] || upd.Generation != old.Generation+1 {
		t.Fatalf("update kept %+v / %v", upd.Status, upd.Annotations)
	}
	same := old.DeepCopy()
	s.PrepareForUpdate(same, old)
	if same.Generation != old.Generation {
		t.Fatalf("generation moved without a spec change")
	}

	st := old.DeepCopy()
	st.Spec.MaxReplicas = 1
	delete(st.Annotations, MetricSpecsAnnotation)
	st.Annotations[BehaviorSpecsAnnotation] = "{}"
	st.Status.CurrentReplicas = 4
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.MaxReplicas != 10 || st.Annotations[MetricSpecsAnnotation] != old.Annotations[MetricSpecsAnnotation] ||
		st.Annotations[BehaviorSpecsAnnotation] != old.Annotations[BehaviorSpecsAnnotation] || st.Status.CurrentReplicas != 4 {
		t.Fatalf("status update %+v / %v", st.Spec, st.Annotations)
	}
	checkErrs(t, s.ValidateStatusUpdate(st, old), nil)
}

func TestHPAResources(t *testing.T) {
	v2, v1 := HorizontalPodAutoscalersV2(), HorizontalPodAutoscalersV1()
	if v2.StorageResource != nil || v2.Convert != nil || v2.Version != "v2" || !reflect.DeepEqual(v2.ShortNames, []string{"hpa"}) {
		t.Fatalf("v2 %+v", v2)
	}
	if v1.StorageResource == nil || v1.StorageResource.Group != "autoscaling" || v1.StorageResource.Resource != "horizontalpodautoscalers" || v1.Convert == nil {
		t.Fatalf("v1 %+v", v1)
	}
	stored, err := v1.Convert.ToStorage(&autoscalingv1.HorizontalPodAutoscaler{Spec: autoscalingv1.HorizontalPodAutoscalerSpec{TargetCPUUtilizationPercentage: i32(60)}})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := stored.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 || h.APIVersion != "autoscaling/v2" {
		t.Fatalf("stored %#v", stored)
	}
	served, err := v1.Convert.FromStorage(h)
	if err != nil || *served.(*autoscalingv1.HorizontalPodAutoscaler).Spec.TargetCPUUtilizationPercentage != 60 {
		t.Fatalf("served %#v %v", served, err)
	}
	if _, err := v1.Convert.ToStorage(h); err == nil {
		t.Fatalf("ToStorage accepted a v2 object")
	}
}
