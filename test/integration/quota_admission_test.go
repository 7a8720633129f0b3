package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testcluster"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func quotaTestPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
}

func TestAdmissionPlugins(t *testing.T) {
	s := testcluster.Start(t)
	c := s.Client
	ctx := context.Background()
	ns := "admission"
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("quota of one pod refuses the second", func(t *testing.T) {
		q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "one-pod"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}}}
		if _, err := c.CoreV1().ResourceQuotas(ns).Create(ctx, q, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CoreV1().Pods(ns).Create(ctx, quotaTestPod("first"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("first pod: %v", err)
		}
		_, err := c.CoreV1().Pods(ns).Create(ctx, quotaTestPod("second"), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota: one-pod, requested: pods=1, used: pods=1, limited: pods=1") {
			t.Fatalf("second pod: err = %v, want Forbidden exceeded quota", err)
		}
		got, err := c.CoreV1().ResourceQuotas(ns).Get(ctx, "one-pod", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if used := got.Status.Used[corev1.ResourcePods]; used.String() != "1" {
			t.Errorf("status.used.pods = %s, want 1", used.String())
		}
		// Deleting the first pod gives its quota back (the quota
		// controller recomputes usage), so the second now fits.
		if err := c.CoreV1().Pods(ns).Delete(ctx, "first", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := c.CoreV1().ResourceQuotas(ns).Get(ctx, "one-pod", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if used := got.Status.Used[corev1.ResourcePods]; used.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("quota usage not released 20s after the pod was deleted: %v", got.Status.Used)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := c.CoreV1().Pods(ns).Create(ctx, quotaTestPod("second"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("second pod after release: %v", err)
		}
		if err := c.CoreV1().Pods(ns).Delete(ctx, "second", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := c.CoreV1().ResourceQuotas(ns).Delete(ctx, "one-pod", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("limit range defaults and bounds", func(t *testing.T) {
		lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "bounds"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
			Max:            corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
		}}}}
		if _, err := c.CoreV1().LimitRanges(ns).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod, err := c.CoreV1().Pods(ns).Create(ctx, quotaTestPod("defaulted"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res := pod.Spec.Containers[0].Resources
		if lim, req := res.Limits[corev1.ResourceCPU], res.Requests[corev1.ResourceCPU]; lim.String() != "500m" || req.String() != "100m" {
			t.Errorf("defaults: limit %s request %s, want 500m and 100m", lim.String(), req.String())
		}
		big := quotaTestPod("too-big")
		big.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
		_, err = c.CoreV1().Pods(ns).Create(ctx, big, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "maximum cpu usage per Container is 1, but limit is 2") {
			t.Fatalf("too big: err = %v", err)
		}
		if err := c.CoreV1().LimitRanges(ns).Delete(ctx, "bounds", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("priority and default tolerations", func(t *testing.T) {
		pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}
		if _, err := c.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p := quotaTestPod("important")
		p.Spec.PriorityClassName = "high"
		got, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.Priority == nil || *got.Spec.Priority != 1000 {
			t.Errorf("priority = %v, want 1000", got.Spec.Priority)
		}
		tolerated := map[string]int64{}
		for _, tol := range got.Spec.Tolerations {
			if tol.TolerationSeconds != nil {
				tolerated[tol.Key] = *tol.TolerationSeconds
			}
		}
		if tolerated[corev1.TaintNodeNotReady] != 300 || tolerated[corev1.TaintNodeUnreachable] != 300 {
			t.Errorf("default tolerations = %v, want 300s for not-ready and unreachable", tolerated)
		}
		missing := quotaTestPod("unknown-class")
		missing.Spec.PriorityClassName = "nope"
		if _, err := c.CoreV1().Pods(ns).Create(ctx, missing, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "no PriorityClass with name nope was found") {
			t.Errorf("unknown class: err = %v", err)
		}
	})
}
