package garbagecollector_test

import (
	"context"
	"fmt"
	"github.com/skiff-io/skiff/internal/controller/garbagecollector"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// env is a server with the collector running against it.
type env struct {
	s  *testserver.Server
	cs kubernetes.Interface
}

func startEnv(t *testing.T) *env {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) {
		c.DisableControllers, c.DisableScheduler, c.DisableAgent = true, true, true
	})
	md, err := metadata.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.Client.CoreV1().Events("")})
	t.Cleanup(b.Shutdown)
	gc, err := garbagecollector.New(garbagecollector.Config{Client: s.Client, Metadata: md,
		Recorder: b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "garbage-collector-controller"})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = gc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &env{s: s, cs: s.Client}
}

func (e *env) namespace(t *testing.T, name string) string {
	t.Helper()
	if _, err := e.cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

func (e *env) configMap(t *testing.T, ns, name string, owners ...metav1.OwnerReference) *corev1.ConfigMap {
	t.Helper()
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: owners}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating configmap %s/%s: %v", ns, name, err)
	}
	return cm
}

func ownedBy(cm metav1.Object, kind string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: kind, Name: cm.GetName(), UID: cm.GetUID(),
		BlockOwnerDeletion: ptr.To(block)}
}

func (e *env) gone(t *testing.T, ns, name string) {
	t.Helper()
	testserver.Eventually(t, 0, fmt.Sprintf("configmap %s/%s deleted", ns, name), func() error {
		_, err := e.cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (err %v)", err)
	})
}

func (e *env) get(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("configmap %s/%s: %v", ns, name, err)
	}
	return cm
}

// sentinel creates an object whose owner never existed and waits for the
// collector to delete it: everything queued before it has been looked at
// by then, which lets a test assert that something was NOT collected.
func (e *env) sentinel(t *testing.T, ns string) {
	t.Helper()
	name := fmt.Sprintf("sentinel-%d", time.Now().UnixNano())
	e.configMap(t, ns, name, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "never", UID: types.UID("never-" + name)})
	e.gone(t, ns, name)
}

func (e *env) del(t *testing.T, ns, name string, policy metav1.DeletionPropagation) {
	t.Helper()
	if err := e.cs.CoreV1().ConfigMaps(ns).Delete(context.Background(), name,
		metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		t.Fatalf("deleting %s/%s: %v", ns, name, err)
	}
}

func TestGarbageCollector(t *testing.T) {
	e := startEnv(t)
	ctx := context.Background()

	t.Run("background", func(t *testing.T) {
		ns := e.namespace(t, "bg")
		owner := e.configMap(t, ns, "owner")
		e.configMap(t, ns, "dep-a", ownedBy(owner, "ConfigMap", true))
		e.configMap(t, ns, "dep-b", ownedBy(owner, "ConfigMap", false))
		sec, err := e.cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dep-secret",
			OwnerReferences: []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false)}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Dependents of a live owner are kept.
		e.sentinel(t, ns)
		e.get(t, ns, "dep-a")
		e.del(t, ns, "owner", metav1.DeletePropagationBackground)
		e.gone(t, ns, "owner")
		e.gone(t, ns, "dep-a")
		e.gone(t, ns, "dep-b")
		testserver.Eventually(t, 0, "secret deleted", func() error {
			_, err := e.cs.CoreV1().Secrets(ns).Get(ctx, sec.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
	})

	t.Run("foreground waits for blocking dependents", func(t *testing.T) {
		ns := e.namespace(t, "fg")
		owner := e.configMap(t, ns, "owner")
		_, err := e.cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: "held", Finalizers: []string{"test.skiff.io/hold"},
			OwnerReferences: []metav1.OwnerReference{ownedBy(owner, "ConfigMap", true)}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.configMap(t, ns, "free", ownedBy(owner, "ConfigMap", false))
		e.del(t, ns, "owner", metav1.DeletePropagationForeground)
		e.gone(t, ns, "free")
		testserver.Eventually(t, 0, "held dependent being deleted", func() error {
			if e.get(t, ns, "held").DeletionTimestamp == nil {
				return fmt.Errorf("no deletionTimestamp")
			}
			return nil
		})
		cur := e.get(t, ns, "owner")
		if cur.DeletionTimestamp == nil || !contains(cur.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("owner should wait with the foreground finalizer: %+v", cur.ObjectMeta)
		}
		held := e.get(t, ns, "held")
		held.Finalizers = nil
		if _, err := e.cs.CoreV1().ConfigMaps(ns).Update(ctx, held, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.gone(t, ns, "held")
		e.gone(t, ns, "owner")
	})

	t.Run("foreground through a chain", func(t *testing.T) {
		ns := e.namespace(t, "chain")
		top := e.configMap(t, ns, "top")
		mid := e.configMap(t, ns, "mid", ownedBy(top, "ConfigMap", true))
		leaf, err := e.cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: "leaf", Finalizers: []string{"test.skiff.io/hold"},
			OwnerReferences: []metav1.OwnerReference{ownedBy(mid, "ConfigMap", true)}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.del(t, ns, "top", metav1.DeletePropagationForeground)
		// mid has a dependent, so it is deleted in the foreground too,
		// and both wait for the leaf.
		testserver.Eventually(t, 0, "mid deleted in the foreground", func() error {
			m := e.get(t, ns, "mid")
			if m.DeletionTimestamp == nil || !contains(m.Finalizers, metav1.FinalizerDeleteDependents) {
				return fmt.Errorf("mid: %+v", m.ObjectMeta)
			}
			return nil
		})
		leaf = e.get(t, ns, leaf.Name)
		leaf.Finalizers = nil
		if _, err := e.cs.CoreV1().ConfigMaps(ns).Update(ctx, leaf, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.gone(t, ns, "leaf")
		e.gone(t, ns, "mid")
		e.gone(t, ns, "top")
	})

	t.Run("orphan", func(t *testing.T) {
		ns := e.namespace(t, "orphan")
		owner := e.configMap(t, ns, "owner")
		other := e.configMap(t, ns, "other")
		e.configMap(t, ns, "dep-a", ownedBy(owner, "ConfigMap", true))
		e.configMap(t, ns, "dep-b", ownedBy(owner, "ConfigMap", false), ownedBy(other, "ConfigMap", false))
		e.del(t, ns, "owner", metav1.DeletePropagationOrphan)
		e.gone(t, ns, "owner")
		if refs := e.get(t, ns, "dep-a").OwnerReferences; len(refs) != 0 {
			t.Fatalf("dep-a still has owners %v", refs)
		}
		if refs := e.get(t, ns, "dep-b").OwnerReferences; len(refs) != 1 || refs[0].UID != other.UID {
			t.Fatalf("dep-b owners = %v, want only %s", refs, other.Name)
		}
		e.sentinel(t, ns)
		e.get(t, ns, "dep-a")
	})

	t.Run("uid mismatch and partial ownership", func(t *testing.T) {
		ns := e.namespace(t, "uid")
		owner := e.configMap(t, ns, "owner")
		alive := e.configMap(t, ns, "alive")
		stale := ownedBy(owner, "ConfigMap", false)
		stale.UID = "not-the-owners-uid"
		e.configMap(t, ns, "impostor-dep", stale)
		e.configMap(t, ns, "two-owners", stale, ownedBy(alive, "ConfigMap", false))
		e.configMap(t, ns, "real-dep", ownedBy(owner, "ConfigMap", false))
		e.gone(t, ns, "impostor-dep")
		testserver.Eventually(t, 0, "dangling reference removed", func() error {
			refs := e.get(t, ns, "two-owners").OwnerReferences
			if len(refs) != 1 || refs[0].UID != alive.UID {
				return fmt.Errorf("owners %v", refs)
			}
			return nil
		})
		e.sentinel(t, ns)
		e.get(t, ns, "real-dep")
	})

	t.Run("cluster-scoped owner", func(t *testing.T) {
		ns := e.namespace(t, "clusterowner")
		cr, err := e.cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "gc-owner"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ref := metav1.OwnerReference{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: cr.Name, UID: cr.UID}
		e.configMap(t, ns, "dep", ref)
		e.sentinel(t, ns)
		e.get(t, ns, "dep")
		if err := e.cs.RbacV1().ClusterRoles().Delete(ctx, cr.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		e.gone(t, ns, "dep")
	})

	t.Run("invalid namespaces", func(t *testing.T) {
		nsA, nsB := e.namespace(t, "ns-a"), e.namespace(t, "ns-b")
		owner := e.configMap(t, nsA, "owner")
		// A namespaced owner must be in the dependent's namespace.
		e.configMap(t, nsB, "cross", ownedBy(owner, "ConfigMap", false))
		e.gone(t, nsB, "cross")
		// A cluster-scoped object cannot have a namespaced owner: it is
		// never collected.
		cr, err := e.cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "gc-bad-dependent",
			OwnerReferences: []metav1.OwnerReference{ownedBy(owner, "ConfigMap", false)}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		testserver.Eventually(t, 0, "OwnerRefInvalidNamespace events", func() error {
			for _, want := range []struct{ ns, name string }{{nsB, "cross"}, {"", cr.Name}} {
				evs, err := e.cs.CoreV1().Events(want.ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return err
				}
				found := false
				for _, ev := range evs.Items {
					if ev.Reason == "OwnerRefInvalidNamespace" && ev.InvolvedObject.Name == want.name && ev.Type == corev1.EventTypeWarning {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("no event for %s/%s", want.ns, want.name)
				}
			}
			return nil
		})
		if _, err := e.cs.RbacV1().ClusterRoles().Get(ctx, cr.Name, metav1.GetOptions{}); err != nil {
			t.Fatalf("cluster-scoped dependent of a namespaced owner was collected: %v", err)
		}
		e.get(t, nsA, "owner")
	})

	t.Run("replicaset and its pods", func(t *testing.T) {
		ns := e.namespace(t, "rs")
		labels := map[string]string{"app": "web"}
		for _, policy := range []metav1.DeletionPropagation{metav1.DeletePropagationForeground, metav1.DeletePropagationBackground} {
			name := "web-" + strings.ToLower(string(policy))
			rs, err := e.cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
			for i := 0; i < 2; i++ {
				if _, err := e.cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
					Name: fmt.Sprintf("%s-%d", name, i), Labels: labels, OwnerReferences: []metav1.OwnerReference{owner}},
					Spec: rs.Spec.Template.Spec}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.cs.AppsV1().ReplicaSets(ns).Delete(ctx, rs.Name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
				t.Fatal(err)
			}
			testserver.Eventually(t, 0, string(policy)+" deletion of the replicaset and its pods", func() error {
				pods, err := e.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return err
				}
				_, err = e.cs.AppsV1().ReplicaSets(ns).Get(ctx, rs.Name, metav1.GetOptions{})
				if len(pods.Items) != 0 || !apierrors.IsNotFound(err) {
					return fmt.Errorf("%d pods left, replicaset: %v", len(pods.Items), err)
				}
				return nil
			})
		}
	})

	t.Run("kubectl cascade", func(t *testing.T) {
		if _, err := exec.LookPath("kubectl"); err != nil {
			t.Skip("kubectl not installed")
		}
		ns := e.namespace(t, "kubectl")
		for _, mode := range []string{"background", "foreground", "orphan"} {
			owner := e.configMap(t, ns, "owner-"+mode)
			e.configMap(t, ns, "dep-"+mode, ownedBy(owner, "ConfigMap", true))
			out, err := exec.Command("kubectl", "--kubeconfig", e.s.Kubeconfig, "-n", ns, "delete", "configmap", owner.Name,
				"--cascade="+mode, "--timeout=30s").CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl delete --cascade=%s: %v\n%s", mode, err, out)
			}
			if !strings.Contains(string(out), "deleted") {
				t.Fatalf("kubectl output: %s", out)
			}
			e.gone(t, ns, owner.Name)
			if mode == "orphan" {
				if refs := e.get(t, ns, "dep-"+mode).OwnerReferences; len(refs) != 0 {
					t.Fatalf("orphaned dependent keeps %v", refs)
				}
				continue
			}
			if mode == "foreground" {
				// kubectl waited for the owner, which waited for it.
				if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "dep-"+mode, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Fatalf("foreground: dependent outlived its owner (err %v)", err)
				}
			}
			e.gone(t, ns, "dep-"+mode)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
