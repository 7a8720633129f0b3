package integration

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/testserver"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// served reports whether the server offers resource in groupVersion.
func served(t *testing.T, c kubernetes.Interface, groupVersion, resource string) bool {
	t.Helper()
	list, err := c.Discovery().ServerResourcesForGroupVersion(groupVersion)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatalf("discovery of %s: %v", groupVersion, err)
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return true
		}
	}
	return false
}

func TestDeletes(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("finalizers", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "finalizers")
		cms := c.CoreV1().ConfigMaps(ns)
		cm := configMap(ns, "held", nil, nil)
		cm.Finalizers = []string{"example.com/hold", "example.com/second"}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := cms.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("object with finalizers gone after delete: %v", err)
		}
		if got.DeletionTimestamp == nil {
			t.Fatalf("deletionTimestamp not set")
		}
		if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 0 {
			t.Errorf("deletionGracePeriodSeconds %v, want 0", got.DeletionGracePeriodSeconds)
		}
		// A second delete changes nothing.
		if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		// New finalizers cannot be added while deleting, but removing one
		// keeps the object while others remain.
		got, err = cms.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got.Finalizers = []string{"example.com/second"}
		got.Data = map[string]string{"still": "writable"}
		got, err = cms.Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("removing one finalizer: %v", err)
		}
		if got.DeletionTimestamp == nil {
			t.Errorf("deletionTimestamp lost by an update")
		}
		// Removing the last finalizer deletes the object.
		got.Finalizers = nil
		if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("removing the last finalizer: %v", err)
		}
		testserver.Eventually(t, 0, "object gone after its last finalizer is removed", func() error {
			_, err := cms.Get(ctx, "held", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("get: %v", err)
		})
		// The same with a JSON patch removing the finalizer.
		cm2 := configMap(ns, "held2", nil, nil)
		cm2.Finalizers = []string{"example.com/hold"}
		if _, err := cms.Create(ctx, cm2, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "held2", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cms.Patch(ctx, "held2", types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		testserver.Eventually(t, 0, "object gone after its finalizer is patched away", func() error {
			_, err := cms.Get(ctx, "held2", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("get: %v", err)
		})
	})

	t.Run("propagationPolicy", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "propagation")
		cms := c.CoreV1().ConfigMaps(ns)
		for _, tc := range []struct {
			policy    metav1.DeletionPropagation
			finalizer string // "" = deleted at once
		}{
			{metav1.DeletePropagationForeground, metav1.FinalizerDeleteDependents},
			{metav1.DeletePropagationOrphan, metav1.FinalizerOrphanDependents},
			{metav1.DeletePropagationBackground, ""},
		} {
			t.Run(string(tc.policy), func(t *testing.T) {
				name := "cm-" + strings.ToLower(string(tc.policy))
				created, err := cms.Create(ctx, configMap(ns, name, nil, nil), metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				// Watch the object so that what the deletion did is seen
				// even if a garbage collector finishes it quickly.
				w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion, FieldSelector: "metadata.name=" + name})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Stop()
				if err := cms.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &tc.policy}); err != nil {
					t.Fatal(err)
				}
				ev := nextEvent(t, w, 10*time.Second)
				got, ok := ev.Object.(*corev1.ConfigMap)
				if !ok {
					t.Fatalf("got %s", describeEvent(ev))
				}
				if tc.finalizer == "" {
					if ev.Type != watch.Deleted {
						t.Errorf("got %s, want DELETED", describeEvent(ev))
					}
					return
				}
				if ev.Type != watch.Modified || got.DeletionTimestamp == nil || !slices.Contains(got.Finalizers, tc.finalizer) {
					t.Errorf("got %s with deletionTimestamp %v finalizers %v, want MODIFIED with %s", describeEvent(ev), got.DeletionTimestamp, got.Finalizers, tc.finalizer)
				}
			})
		}
		_, err := cms.Create(ctx, configMap(ns, "bad-policy", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bad := metav1.DeletionPropagation("Sideways")
		// DeleteOptions validation failures are 422 Invalid.
		for _, tc := range []struct {
			name string
			opts metav1.DeleteOptions
		}{
			{"propagationPolicy=Sideways", metav1.DeleteOptions{PropagationPolicy: &bad}},
			{"orphanDependents with propagationPolicy", metav1.DeleteOptions{OrphanDependents: ptr(true), PropagationPolicy: ptr(metav1.DeletePropagationBackground)}},
			{"dryRun=Some", metav1.DeleteOptions{DryRun: []string{"Some"}}},
		} {
			if err := cms.Delete(ctx, "bad-policy", tc.opts); !apierrors.IsInvalid(err) {
				t.Errorf("%s: got %v (code %d), want 422 Invalid", tc.name, err, statusCode(err))
			}
		}
		if _, err := cms.Get(ctx, "bad-policy", metav1.GetOptions{}); err != nil {
			t.Errorf("refused deletes removed the object: %v", err)
		}
	})

	t.Run("preconditions", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "preconditions")
		cms := c.CoreV1().ConfigMaps(ns)
		cm, err := cms.Create(ctx, configMap(ns, "cm", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			pre  metav1.Preconditions
		}{
			{"uid mismatch", metav1.Preconditions{UID: ptr(types.UID("00000000-0000-0000-0000-000000000000"))}},
			{"resourceVersion mismatch", metav1.Preconditions{ResourceVersion: ptr("1")}},
		} {
			err := cms.Delete(ctx, "cm", metav1.DeleteOptions{Preconditions: &tc.pre})
			if !apierrors.IsConflict(err) {
				t.Errorf("%s: got %v, want 409 Conflict", tc.name, err)
			}
		}
		if _, err := cms.Get(ctx, "cm", metav1.GetOptions{}); err != nil {
			t.Fatalf("object gone after failed preconditions: %v", err)
		}
		if err := cms.Delete(ctx, "cm", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cm.UID, ResourceVersion: &cm.ResourceVersion}}); err != nil {
			t.Fatalf("delete with matching preconditions: %v", err)
		}
		if _, err := cms.Get(ctx, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("after delete: got %v, want NotFound", err)
		}
		if err := cms.Delete(ctx, "cm", metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("second delete: got %v, want 404", err)
		}
	})

	t.Run("graceful pod deletion", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "graceful")
		pods := c.CoreV1().Pods(ns)
		scheduled := pod(ns, "scheduled", nil)
		scheduled.Spec.NodeName = "node-1"
		if _, err := pods.Create(ctx, scheduled, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Create(ctx, pod(ns, "pending", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// An unscheduled pod has nothing to stop: it goes at once.
		if err := pods.Delete(ctx, "pending", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("unscheduled pod after delete: got %v, want NotFound", err)
		}
		// A pod on a node gets its grace period for the kubelet.
		before := time.Now().Add(-2 * time.Second)
		if err := pods.Delete(ctx, "scheduled", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx, "scheduled", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("scheduled pod gone at once: %v", err)
		}
		if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Errorf("deletionGracePeriodSeconds %v, want 30", got.DeletionGracePeriodSeconds)
		}
		if got.DeletionTimestamp == nil || got.DeletionTimestamp.Time.Before(before.Add(30*time.Second)) {
			t.Errorf("deletionTimestamp %v, want about 30s from now", got.DeletionTimestamp)
		}
		// A shorter grace period shortens it; zero (as the kubelet sends)
		// deletes.
		if err := pods.Delete(ctx, "scheduled", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(10))}); err != nil {
			t.Fatal(err)
		}
		got, err = pods.Get(ctx, "scheduled", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 10 {
			t.Errorf("after delete with gracePeriodSeconds=10: %v", got.DeletionGracePeriodSeconds)
		}
		if err := pods.Delete(ctx, "scheduled", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "scheduled", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("after delete with gracePeriodSeconds=0: got %v, want NotFound", err)
		}
	})

	t.Run("deletecollection", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "deletecollection")
		cms := c.CoreV1().ConfigMaps(ns)
		for i := range 5 {
			labels := map[string]string{"batch": "old"}
			if i >= 3 {
				labels["batch"] = "new"
			}
			if _, err := cms.Create(ctx, configMap(ns, fmt.Sprintf("cm-%d", i), labels, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "batch=old"}); err != nil {
			t.Fatal(err)
		}
		l, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cmNames(l.Items); !slices.Equal(got, []string{"cm-3", "cm-4"}) {
			t.Errorf("after deletecollection batch=old: %v, want [cm-3 cm-4]", got)
		}
		// Other namespaces are untouched.
		other := createNamespace(t, c, "deletecollection-other")
		if _, err := c.CoreV1().ConfigMaps(other).Create(ctx, configMap(other, "keep", map[string]string{"batch": "new"}, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if l, err := cms.List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
			t.Errorf("after deletecollection of everything: %v, %v", cmNames(l.Items), err)
		}
		if _, err := c.CoreV1().ConfigMaps(other).Get(ctx, "keep", metav1.GetOptions{}); err != nil {
			t.Errorf("configmap in another namespace: %v", err)
		}
	})

	t.Run("binding", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "binding")
		pods := c.CoreV1().Pods(ns)
		if _, err := pods.Create(ctx, pod(ns, "p", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		bind := func(node string) error {
			return pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{})
		}
		if err := bind("node-1"); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx, "p", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.NodeName != "node-1" {
			t.Errorf("nodeName %q after binding, want node-1", got.Spec.NodeName)
		}
		scheduled := false
		for _, cond := range got.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionTrue {
				scheduled = true
			}
		}
		if !scheduled {
			t.Errorf("no PodScheduled=True condition: %+v", got.Status.Conditions)
		}
		if err := bind("node-2"); !apierrors.IsConflict(err) {
			t.Errorf("second binding: got %v, want 409 Conflict", err)
		}
		if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "missing"}, Target: corev1.ObjectReference{Name: "node-1"}}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("binding a missing pod: got %v, want 404", err)
		}
	})

	t.Run("eviction", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "eviction")
		pods := c.CoreV1().Pods(ns)
		if _, err := pods.Create(ctx, pod(ns, "free", map[string]string{"app": "free"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := c.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "free", Namespace: ns}}); err != nil {
			t.Fatalf("evicting a pod without a budget: %v", err)
		}
		if _, err := pods.Get(ctx, "free", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("evicted pod: got %v, want NotFound", err)
		}
		if err := c.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "missing", Namespace: ns}}); !apierrors.IsNotFound(err) {
			t.Errorf("evicting a missing pod: got %v, want 404", err)
		}

		if !served(t, c, "policy/v1", "poddisruptionbudgets") {
			t.Skip("policy/v1 poddisruptionbudgets not served yet: eviction against a budget untested")
		}
		if _, err := pods.Create(ctx, pod(ns, "guarded", map[string]string{"app": "guarded"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pdb, err := c.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "budget"},
			Spec: policyv1.PodDisruptionBudgetSpec{
				MinAvailable: ptr(intstr.FromInt32(1)),
				Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "guarded"}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: 0, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1}
		if _, err := c.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Asked once: client-go retries a 429 that suggests a delay.
		err = c.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name("guarded").SubResource("eviction").
			Body(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: ns}}).MaxRetries(0).Do(ctx).Error()
		if !apierrors.IsTooManyRequests(err) {
			t.Errorf("evicting a pod whose budget allows no disruption: got %v, want 429", err)
		}
		if !apierrors.HasStatusCause(err, policyv1.DisruptionBudgetCause) {
			t.Errorf("429 without a %s cause: %v", policyv1.DisruptionBudgetCause, err)
		}
		// Kubernetes suggests no retry delay here (retryAfterSeconds 0), so
		// clients such as kubectl drain decide on their own back-off.
		if delay, ok := apierrors.SuggestsClientDelay(err); ok && delay > 0 {
			t.Errorf("429 suggests a client delay of %ds; Kubernetes suggests none", delay)
		}
		if _, err := pods.Get(ctx, "guarded", metav1.GetOptions{}); err != nil {
			t.Errorf("pod protected by its budget: %v", err)
		}
	})
}
