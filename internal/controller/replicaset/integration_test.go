package replicaset

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// startControllers runs a control plane without its controllers, and this
// package's two controllers against it.
func startControllers(t *testing.T) kubernetes.Interface {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	client, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(client, 0)
	rs, err := New(Config{Client: client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := NewReplicationController(Config{Client: client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = rs.Run(ctx) }()
	go func() { defer wg.Done(); _ = rc.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); factory.Shutdown() })
	return client
}

func createNamespace(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	_, err := client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func newReplicaSet(ns, name string, replicas int32) *appsv1.ReplicaSet {
	rs := testRS(name, replicas)
	rs.Namespace, rs.UID, rs.Generation = ns, "", 0
	return rs
}

// activeOwned lists the active pods controlled by the object with uid.
func activeOwned(ctx context.Context, client kubernetes.Interface, ns string, uid string) ([]corev1.Pod, error) {
	list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if ref := metav1.GetControllerOf(&p); ref != nil && string(ref.UID) == uid && isPodActive(&p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// waitFor polls cond until it holds or 30s pass.
func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, last)
	}
}

func waitPods(t *testing.T, client kubernetes.Interface, ns, uid string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	waitFor(t, fmt.Sprintf("%d pods", n), func(ctx context.Context) (bool, error) {
		var err error
		pods, err = activeOwned(ctx, client, ns, uid)
		return len(pods) == n, err
	})
	return pods
}

// markReady sets a pod Running and Ready, as a kubelet would.
func markReady(ctx context.Context, client kubernetes.Interface, p *corev1.Pod, ip string) error {
	p = p.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	_, err := client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

func TestReplicaSetIntegration(t *testing.T) {
	client := startControllers(t)
	ctx := context.Background()
	createNamespace(t, client, "rs")

	// Count every pod creation from the start, to catch double creates.
	w, err := client.CoreV1().Pods("rs").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	added := map[string]bool{}
	go func() {
		for ev := range w.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
				mu.Lock()
				added[p.Name] = true
				mu.Unlock()
			}
		}
	}()

	rs, err := client.AppsV1().ReplicaSets("rs").Create(ctx, newReplicaSet("rs", "web", 5), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	uid := string(rs.UID)

	t.Run("creates replicas with owner references", func(t *testing.T) {
		pods := waitPods(t, client, "rs", uid, 5)
		for _, p := range pods {
			ref := metav1.GetControllerOf(&p)
			if !strings.HasPrefix(p.Name, "web-") || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" ||
				ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
				t.Fatalf("pod %s: name or owner reference wrong: %+v", p.Name, ref)
			}
		}
		waitFor(t, "status.replicas 5", func(ctx context.Context) (bool, error) {
			got, err := client.AppsV1().ReplicaSets("rs").Get(ctx, "web", metav1.GetOptions{})
			return err == nil && got.Status.Replicas == 5 && got.Status.FullyLabeledReplicas == 5 && got.Status.ObservedGeneration == got.Generation, err
		})
		mu.Lock()
		n := len(added)
		mu.Unlock()
		if n != 5 {
			t.Fatalf("%d pods were created in all, want exactly 5", n)
		}
	})

	t.Run("ready and available replicas", func(t *testing.T) {
		pods, err := activeOwned(ctx, client, "rs", uid)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pods[:3] {
			if err := markReady(ctx, client, &pods[i], fmt.Sprintf("10.0.0.%d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "3 ready", func(ctx context.Context) (bool, error) {
			got, err := client.AppsV1().ReplicaSets("rs").Get(ctx, "web", metav1.GetOptions{})
			return err == nil && got.Status.ReadyReplicas == 3 && got.Status.AvailableReplicas == 3, err
		})
	})

	t.Run("scales down not-ready pods first", func(t *testing.T) {
		if _, err := client.AppsV1().ReplicaSets("rs").UpdateScale(ctx, "web", scaleTo(rs, 3), metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		pods := waitPods(t, client, "rs", uid, 3)
		for _, p := range pods {
			if !IsPodReady(&p) {
				t.Fatalf("pod %s kept though not ready, while ready pods were deleted", p.Name)
			}
		}
	})

	t.Run("replaces a deleted pod", func(t *testing.T) {
		pods, _ := activeOwned(ctx, client, "rs", uid)
		if err := client.CoreV1().Pods("rs").Delete(ctx, pods[0].Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a replacement", func(ctx context.Context) (bool, error) {
			now, err := activeOwned(ctx, client, "rs", uid)
			if err != nil || len(now) != 3 {
				return false, err
			}
			for _, p := range now {
				if p.Name == pods[0].Name {
					return false, nil
				}
			}
			return true, nil
		})
	})

	t.Run("adopts orphans and releases non-matching pods", func(t *testing.T) {
		orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		if _, err := client.CoreV1().Pods("rs").Create(ctx, orphan, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Adopting makes 4 matching pods: one of them goes (most likely
		// the orphan itself: unscheduled, pending and newest).
		waitFor(t, "orphan adopted and 3 pods again", func(ctx context.Context) (bool, error) {
			o, err := client.CoreV1().Pods("rs").Get(ctx, "orphan", metav1.GetOptions{})
			if err == nil && metav1.GetControllerOf(o) == nil {
				return false, nil
			}
			pods, err := activeOwned(ctx, client, "rs", uid)
			return len(pods) == 3, err
		})
		pods, _ := activeOwned(ctx, client, "rs", uid)
		victim := pods[0].DeepCopy()
		victim.Labels = map[string]string{"app": "elsewhere"}
		if _, err := client.CoreV1().Pods("rs").Update(ctx, victim, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "pod released and replaced", func(ctx context.Context) (bool, error) {
			p, err := client.CoreV1().Pods("rs").Get(ctx, victim.Name, metav1.GetOptions{})
			if err != nil || metav1.GetControllerOf(p) != nil {
				return false, err
			}
			pods, err := activeOwned(ctx, client, "rs", uid)
			return len(pods) == 3, err
		})
	})

	t.Run("events", func(t *testing.T) {
		waitFor(t, "SuccessfulCreate and SuccessfulDelete events", func(ctx context.Context) (bool, error) {
			evs, err := client.CoreV1().Events("rs").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "web").String()})
			if err != nil {
				return false, err
			}
			var create, del bool
			for _, e := range evs.Items {
				create = create || (e.Reason == "SuccessfulCreate" && strings.HasPrefix(e.Message, "Created pod: web-") && e.Source.Component == "replicaset-controller")
				del = del || (e.Reason == "SuccessfulDelete" && strings.HasPrefix(e.Message, "Deleted pod: web-"))
			}
			return create && del, nil
		})
	})

	t.Run("replication controller", func(t *testing.T) {
		two := int32(2)
		rc, err := client.CoreV1().ReplicationControllers("rs").Create(ctx, &corev1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
			Spec: corev1.ReplicationControllerSpec{Replicas: &two, Selector: map[string]string{"app": "legacy"},
				Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "legacy"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods := waitPods(t, client, "rs", string(rc.UID), 2)
		if ref := metav1.GetControllerOf(&pods[0]); ref.Kind != "ReplicationController" || ref.APIVersion != "v1" || !strings.HasPrefix(pods[0].Name, "legacy-") {
			t.Fatalf("pod %s owner %+v", pods[0].Name, ref)
		}
		waitFor(t, "rc status", func(ctx context.Context) (bool, error) {
			got, err := client.CoreV1().ReplicationControllers("rs").Get(ctx, "legacy", metav1.GetOptions{})
			return err == nil && got.Status.Replicas == 2 && got.Status.ObservedGeneration == got.Generation, err
		})
	})
}

func scaleTo(rs *appsv1.ReplicaSet, n int32) *autoscalingv1.Scale {
	return &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: rs.Name, Namespace: rs.Namespace}, Spec: autoscalingv1.ScaleSpec{Replicas: n}}
}
