package integration

import (
	"slices"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

func cpuUtilization(h *autoscalingv2.HorizontalPodAutoscaler) (int32, bool) {
	for _, m := range h.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil {
			return *m.Resource.Target.AverageUtilization, true
		}
	}
	return 0, false
}

func TestMultiVersion(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("horizontalpodautoscalers v1 and v2", func(t *testing.T) {
		t.Parallel()
		for _, gv := range []string{"autoscaling/v1", "autoscaling/v2"} {
			if !served(t, c, gv, "horizontalpodautoscalers") {
				t.Skipf("%s horizontalpodautoscalers not served yet", gv)
			}
		}
		ns := createNamespace(t, c, "hpa")
		v1c, v2c := c.AutoscalingV1().HorizontalPodAutoscalers(ns), c.AutoscalingV2().HorizontalPodAutoscalers(ns)
		target := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}

		// Created as v2 with a CPU and a memory metric.
		h2 := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "from-v2"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: target, MinReplicas: ptr(int32(2)), MaxReplicas: 5,
				Metrics: []autoscalingv2.MetricSpec{
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
						Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(70))}}},
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
						Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("500Mi"))}}},
				},
			},
		}
		if _, err := v2c.Create(ctx, h2, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got1, err := v1c.Get(ctx, "from-v2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got1.Spec.TargetCPUUtilizationPercentage == nil || *got1.Spec.TargetCPUUtilizationPercentage != 70 ||
			*got1.Spec.MinReplicas != 2 || got1.Spec.MaxReplicas != 5 || got1.Spec.ScaleTargetRef.Name != "web" {
			t.Errorf("v2 object read as v1: %+v", got1.Spec)
		}
		// Updating through v1 keeps what v1 cannot express.
		got1.Spec.MaxReplicas = 8
		if _, err := v1c.Update(ctx, got1, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		got2, err := v2c.Get(ctx, "from-v2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got2.Spec.MaxReplicas != 8 || len(got2.Spec.Metrics) != 2 {
			t.Errorf("after v1 update, v2 spec: maxReplicas %d metrics %+v", got2.Spec.MaxReplicas, got2.Spec.Metrics)
		}
		if cpu, ok := cpuUtilization(got2); !ok || cpu != 70 {
			t.Errorf("after v1 update, v2 cpu utilization %d %v", cpu, ok)
		}
		if !slices.ContainsFunc(got2.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
			return m.Resource != nil && m.Resource.Name == corev1.ResourceMemory && m.Resource.Target.AverageValue != nil && m.Resource.Target.AverageValue.Cmp(resource.MustParse("500Mi")) == 0
		}) {
			t.Errorf("memory metric lost by a v1 update: %+v", got2.Spec.Metrics)
		}

		// Created as v1 (as kubectl autoscale does).
		h1 := &autoscalingv1.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "from-v1"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
				ScaleTargetRef:                 autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MaxReplicas:                    4,
				TargetCPUUtilizationPercentage: ptr(int32(50)),
			},
		}
		created1, err := v1c.Create(ctx, h1, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if created1.Spec.MinReplicas == nil || *created1.Spec.MinReplicas != 1 {
			t.Errorf("v1 minReplicas default %v, want 1", created1.Spec.MinReplicas)
		}
		got2, err = v2c.Get(ctx, "from-v1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cpu, ok := cpuUtilization(got2); !ok || cpu != 50 || len(got2.Spec.Metrics) != 1 {
			t.Errorf("v1 object read as v2: metrics %+v", got2.Spec.Metrics)
		}
		if got2.UID != created1.UID || got2.ResourceVersion != created1.ResourceVersion {
			t.Errorf("v1 and v2 views differ in uid/resourceVersion: %s/%s vs %s/%s", got2.UID, got2.ResourceVersion, created1.UID, created1.ResourceVersion)
		}
		// Without a target, v2 defaults to 80% CPU, which v1 shows.
		bare := h1.DeepCopy()
		bare.Name, bare.Spec.TargetCPUUtilizationPercentage = "bare", nil
		if _, err := v1c.Create(ctx, bare, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		bare2, err := v2c.Get(ctx, "bare", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cpu, ok := cpuUtilization(bare2); !ok || cpu != 80 {
			t.Errorf("default metric in v2: %+v", bare2.Spec.Metrics)
		}
		// Both versions list the same objects.
		l1, err := v1c.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l2, err := v2c.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var n1, n2 []string
		for _, it := range l1.Items {
			n1 = append(n1, it.Name)
		}
		for _, it := range l2.Items {
			n2 = append(n2, it.Name)
		}
		if want := []string{"bare", "from-v1", "from-v2"}; !slices.Equal(n1, want) || !slices.Equal(n2, want) {
			t.Errorf("v1 list %v, v2 list %v, want %v", n1, n2, want)
		}
		// A v1 watch sees changes made through v2, in v1 form.
		w, err := v1c.Watch(ctx, metav1.ListOptions{ResourceVersion: l1.ResourceVersion, FieldSelector: "metadata.name=from-v1"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		fromV1, err := v2c.Get(ctx, "from-v1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fromV1.Spec.Metrics[0].Resource.Target.AverageUtilization = ptr(int32(65))
		if _, err := v2c.Update(ctx, fromV1, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		wev := nextEvent(t, w, 10*time.Second)
		if h, ok := wev.Object.(*autoscalingv1.HorizontalPodAutoscaler); !ok || wev.Type != watch.Modified ||
			h.Spec.TargetCPUUtilizationPercentage == nil || *h.Spec.TargetCPUUtilizationPercentage != 65 {
			t.Errorf("v1 watch after a v2 update: %s %+v", describeEvent(wev), wev.Object)
		}
		// Deleting through one version removes it from both.
		if err := v2c.Delete(ctx, "from-v1", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := v1c.Get(ctx, "from-v1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("v1 get after v2 delete: %v", err)
		}
	})

	t.Run("events core/v1 and events.k8s.io/v1", func(t *testing.T) {
		t.Parallel()
		if !served(t, c, "events.k8s.io/v1", "events") {
			t.Skip("events.k8s.io/v1 events not served yet")
		}
		ns := createNamespace(t, c, "events")
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		core := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "core-event"},
			InvolvedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "p", UID: "uid-p"},
			Reason:         "Started",
			Message:        "Started container app",
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
			Type:           corev1.EventTypeNormal,
			Count:          3,
			FirstTimestamp: now,
			LastTimestamp:  now,
		}
		if _, err := c.CoreV1().Events(ns).Create(ctx, core, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ev, err := c.EventsV1().Events(ns).Get(ctx, "core-event", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Regarding.Name != "p" || ev.Regarding.Kind != "Pod" || ev.Note != core.Message || ev.Reason != "Started" ||
			ev.Type != "Normal" || ev.DeprecatedSource.Component != "kubelet" || ev.DeprecatedSource.Host != "node-1" || ev.DeprecatedCount != 3 ||
			!ev.DeprecatedFirstTimestamp.Equal(&now) {
			t.Errorf("core event read as events.k8s.io/v1: %+v", ev)
		}

		newer := &eventsv1.Event{
			ObjectMeta:          metav1.ObjectMeta{Name: "new-event"},
			EventTime:           metav1.NewMicroTime(time.Now()),
			ReportingController: "example.com/scaler",
			ReportingInstance:   "scaler-1",
			Action:              "Scale",
			Reason:              "Scaled",
			Regarding:           corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"},
			Note:                "scaled to 3",
			Type:                corev1.EventTypeNormal,
		}
		if _, err := c.EventsV1().Events(ns).Create(ctx, newer, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ce, err := c.CoreV1().Events(ns).Get(ctx, "new-event", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ce.InvolvedObject.Name != "web" || ce.InvolvedObject.Kind != "Deployment" || ce.Message != "scaled to 3" ||
			ce.ReportingController != "example.com/scaler" || ce.ReportingInstance != "scaler-1" || ce.Action != "Scale" || ce.EventTime.IsZero() {
			t.Errorf("events.k8s.io event read as core/v1: %+v", ce)
		}
		// Field selectors on core events.
		for _, tc := range []struct {
			selector string
			want     []string
		}{
			{"involvedObject.name=p", []string{"core-event"}},
			{"involvedObject.kind=Deployment", []string{"new-event"}},
			{"reason=Started", []string{"core-event"}},
			{"type=Normal", []string{"core-event", "new-event"}},
			{"source=kubelet", []string{"core-event"}},
		} {
			l, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: tc.selector})
			if err != nil {
				t.Errorf("%s: %v", tc.selector, err)
				continue
			}
			var got []string
			for _, it := range l.Items {
				got = append(got, it.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.selector, got, tc.want)
			}
		}
		// events.k8s.io/v1 requires eventTime on create.
		bad := newer.DeepCopy()
		bad.Name, bad.EventTime = "no-time", metav1.MicroTime{}
		if _, err := c.EventsV1().Events(ns).Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("events.k8s.io/v1 event without eventTime: got %v, want 422", err)
		}
	})
}
