package statefulset_test

import (
	"context"
	"fmt"
	"github.com/skiff-io/skiff/internal/controller/statefulset"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
)

// startController runs the stateful set controller against the test
// server, with events recorded to the API, until the test ends.
func startController(t *testing.T, s *testserver.Server) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	rec := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "statefulset-controller"})
	c, err := statefulset.New(statefulset.Config{Client: cs, Informers: factory, Recorder: rec, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
		broadcaster.Shutdown()
	})
	return cs
}

// fakeKubelet stands in for nodes the tests do not have: while auto is
// set it marks every pod of its namespace Running and Ready with a pod IP;
// otherwise only pods passed to ready. It records the order in which pods
// were created and deleted.
type fakeKubelet struct {
	cs   kubernetes.Interface
	ns   string
	auto atomic.Bool
	ip   atomic.Int32

	mu  sync.Mutex
	log []string // "+web-0", "-web-2"
}

func startKubelet(t *testing.T, cs kubernetes.Interface, ns string) *fakeKubelet {
	t.Helper()
	k := &fakeKubelet{cs: cs, ns: ns}
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			k.record("+" + obj.(*corev1.Pod).Name)
			k.maybeReady(ctx, obj)
		},
		UpdateFunc: func(_, obj interface{}) { k.maybeReady(ctx, obj) },
		DeleteFunc: func(obj interface{}) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				k.record("-" + p.Name)
			}
		},
	}); err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	return k
}

func (k *fakeKubelet) record(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log = append(k.log, s)
}

// history returns the recorded creations and deletions with prefix.
func (k *fakeKubelet) history(prefix string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, s := range k.log {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func (k *fakeKubelet) maybeReady(ctx context.Context, obj interface{}) {
	if pod, ok := obj.(*corev1.Pod); ok && k.auto.Load() && pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodRunning {
		_ = k.setReady(ctx, pod)
	}
}

func (k *fakeKubelet) setReady(ctx context.Context, pod *corev1.Pod) error {
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = fmt.Sprintf("10.42.0.%d", k.ip.Add(1))
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()})
	_, err := k.cs.CoreV1().Pods(k.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	return err
}

// ready marks the named pod Running and Ready.
func (k *fakeKubelet) ready(t *testing.T, name string) {
	t.Helper()
	pod, err := k.cs.CoreV1().Pods(k.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.setReady(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds, failing the test after timeout
// with cond's last explanation.
func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type fixture struct {
	t   *testing.T
	cs  kubernetes.Interface
	ns  string
	kub *fakeKubelet
}

func newFixture(t *testing.T, s *testserver.Server, cs kubernetes.Interface, ns string) *fixture {
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, cs: cs, ns: ns, kub: startKubelet(t, cs, ns)}
}

// pods lists the live pods of the namespace by name.
func (f *fixture) pods() map[string]*corev1.Pod {
	f.t.Helper()
	list, err := f.cs.CoreV1().Pods(f.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp == nil {
			out[list.Items[i].Name] = &list.Items[i]
		}
	}
	return out
}

func (f *fixture) podNames() string {
	var names []string
	for n := range f.pods() {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func (f *fixture) waitPods(want string) {
	f.t.Helper()
	eventually(f.t, 20*time.Second, func() (bool, string) {
		got := f.podNames()
		return got == want, fmt.Sprintf("pods %q, want %q", got, want)
	})
}

func (f *fixture) set(name string) *appsv1.StatefulSet {
	f.t.Helper()
	set, err := f.cs.AppsV1().StatefulSets(f.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return set
}

// waitStatus waits until the set's status, observed at its generation,
// satisfies cond.
func (f *fixture) waitStatus(name string, cond func(appsv1.StatefulSetStatus) bool) {
	f.t.Helper()
	eventually(f.t, 20*time.Second, func() (bool, string) {
		set := f.set(name)
		return set.Status.ObservedGeneration == set.Generation && cond(set.Status), fmt.Sprintf("generation %d, status %+v", set.Generation, set.Status)
	})
}

func (f *fixture) update(name string, mutate func(*appsv1.StatefulSet)) {
	f.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		set := f.set(name)
		mutate(set)
		_, err := f.cs.AppsV1().StatefulSets(f.ns).Update(context.Background(), set, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) claims() string {
	f.t.Helper()
	list, err := f.cs.CoreV1().PersistentVolumeClaims(f.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	for _, c := range list.Items {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func statefulSet(ns, name string, replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1"}}},
			},
		},
	}
}

func TestStatefulSetIntegration(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := startController(t, s)
	t.Run("OrderedReady", func(t *testing.T) { testOrdered(t, newFixture(t, s, cs, "ordered")) })
	t.Run("Parallel", func(t *testing.T) { testParallel(t, newFixture(t, s, cs, "parallel")) })
	t.Run("RetentionPolicy", func(t *testing.T) { testRetention(t, newFixture(t, s, cs, "retention")) })
}

// testOrdered covers ordered creation, claims, rolling update with a
// partition, history and ordered scale-down.
func testOrdered(t *testing.T, f *fixture) {
	ctx := context.Background()
	set := statefulSet(f.ns, "web", 3)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "www"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")}}},
	}}
	if _, err := f.cs.AppsV1().StatefulSets(f.ns).Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// web-0 first; web-1 only once web-0 is Ready; web-2 only once web-1 is.
	f.waitPods("web-0")
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool { return st.Replicas == 1 })
	if got := f.podNames(); got != "web-0" {
		t.Fatalf("pods %q before web-0 is ready, want only web-0", got)
	}
	f.kub.ready(t, "web-0")
	f.waitPods("web-0,web-1")
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool { return st.Replicas == 2 && st.ReadyReplicas == 1 })
	if got := f.podNames(); got != "web-0,web-1" {
		t.Fatalf("pods %q before web-1 is ready, want web-0,web-1", got)
	}
	f.kub.ready(t, "web-1")
	f.waitPods("web-0,web-1,web-2")
	f.kub.ready(t, "web-2")
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool {
		return st.Replicas == 3 && st.ReadyReplicas == 3 && st.AvailableReplicas == 3 && st.CurrentReplicas == 3 &&
			st.UpdatedReplicas == 3 && st.CurrentRevision != "" && st.CurrentRevision == st.UpdateRevision
	})
	if got := f.kub.history("+"); got != "+web-0 +web-1 +web-2" {
		t.Errorf("creation order %q", got)
	}
	rev1 := f.set("web").Status.CurrentRevision

	// Identity and claims.
	pod := f.pods()["web-1"]
	if pod.Spec.Hostname != "web-1" || pod.Spec.Subdomain != "web" ||
		pod.Labels["statefulset.kubernetes.io/pod-name"] != "web-1" || pod.Labels["apps.kubernetes.io/pod-index"] != "1" ||
		pod.Labels["controller-revision-hash"] != rev1 {
		t.Errorf("web-1 hostname %q subdomain %q labels %v", pod.Spec.Hostname, pod.Spec.Subdomain, pod.Labels)
	}
	if v := pod.Spec.Volumes; len(v) == 0 || v[0].PersistentVolumeClaim == nil || v[0].PersistentVolumeClaim.ClaimName != "www-web-1" {
		t.Errorf("web-1 volumes %+v", v)
	}
	if got := f.claims(); got != "www-web-0,www-web-1,www-web-2" {
		t.Errorf("claims %q", got)
	}

	// Rolling update with partition 2: only web-2 moves to the new revision.
	f.kub.auto.Store(true)
	f.update("web", func(s *appsv1.StatefulSet) {
		p := int32(2)
		s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &p}
		s.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	})
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool {
		return st.UpdatedReplicas == 1 && st.ReadyReplicas == 3 && st.CurrentReplicas == 2 && st.CurrentRevision == rev1 && st.UpdateRevision != rev1
	})
	rev2 := f.set("web").Status.UpdateRevision
	for name, want := range map[string]string{"web-0": rev1, "web-1": rev1, "web-2": rev2} {
		if got := f.pods()[name].Labels["controller-revision-hash"]; got != want {
			t.Errorf("%s at revision %s, want %s", name, got, want)
		}
	}
	// Partition 0: the rest follow, from the highest ordinal down.
	f.update("web", func(s *appsv1.StatefulSet) {
		p := int32(0)
		s.Spec.UpdateStrategy.RollingUpdate.Partition = &p
	})
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool {
		return st.UpdatedReplicas == 3 && st.ReadyReplicas == 3 && st.CurrentRevision == rev2 && st.UpdateRevision == rev2
	})
	if got := f.kub.history("-"); got != "-web-2 -web-1 -web-0" {
		t.Errorf("deletion order during the update %q, want web-2, web-1, web-0", got)
	}
	for name, p := range f.pods() {
		if p.Spec.Containers[0].Image != "nginx:2" {
			t.Errorf("%s runs %s after the update", name, p.Spec.Containers[0].Image)
		}
	}
	revs, err := f.cs.AppsV1().ControllerRevisions(f.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range revs.Items {
		got[r.Name] = r.Revision
	}
	if len(got) != 2 || got[rev1] != 1 || got[rev2] != 2 {
		t.Errorf("controller revisions %v, want %s=1 %s=2", got, rev1, rev2)
	}

	// Rollback (what kubectl rollout undo does): re-apply revision 1's
	// data; the old revision is reused with the next number.
	var old appsv1.ControllerRevision
	for _, r := range revs.Items {
		if r.Name == rev1 {
			old = r
		}
	}
	if _, err := f.cs.AppsV1().StatefulSets(f.ns).Patch(ctx, "web", types.StrategicMergePatchType, old.Data.Raw, metav1.PatchOptions{}); err != nil {
		t.Fatalf("applying revision 1: %v", err)
	}
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool {
		return st.UpdateRevision == rev1 && st.CurrentRevision == rev1 && st.UpdatedReplicas == 3 && st.ReadyReplicas == 3
	})
	if r, err := f.cs.AppsV1().ControllerRevisions(f.ns).Get(ctx, rev1, metav1.GetOptions{}); err != nil || r.Revision != 3 {
		t.Errorf("rolled-back revision %s: %v, number %d, want 3", rev1, err, r.Revision)
	}

	// Scale down: highest ordinal first; claims are kept.
	f.kub.mu.Lock()
	f.kub.log = nil
	f.kub.mu.Unlock()
	f.update("web", func(s *appsv1.StatefulSet) { one := int32(1); s.Spec.Replicas = &one })
	f.waitPods("web-0")
	f.waitStatus("web", func(st appsv1.StatefulSetStatus) bool { return st.Replicas == 1 })
	if got := f.kub.history("-"); got != "-web-2 -web-1" {
		t.Errorf("scale-down order %q, want web-2 then web-1", got)
	}
	if got := f.claims(); got != "www-web-0,www-web-1,www-web-2" {
		t.Errorf("claims after scale-down %q, want all kept", got)
	}

	// Events are recorded on the set.
	eventually(t, 10*time.Second, func() (bool, string) {
		evs, err := f.cs.CoreV1().Events(f.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=web"})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Reason == "SuccessfulCreate" && e.Message == "create Pod web-0 in StatefulSet web successful" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none for creating web-0", len(evs.Items))
	})
}

// testParallel covers Parallel management, the start ordinal and OnDelete.
func testParallel(t *testing.T, f *fixture) {
	ctx := context.Background()
	set := statefulSet(f.ns, "par", 3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5}
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	if _, err := f.cs.AppsV1().StatefulSets(f.ns).Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// All three without waiting for readiness.
	f.waitPods("par-5,par-6,par-7")
	f.waitStatus("par", func(st appsv1.StatefulSetStatus) bool { return st.Replicas == 3 && st.ReadyReplicas == 0 })

	// OnDelete: a new template reaches only deleted pods.
	f.kub.auto.Store(true)
	for _, n := range []string{"par-5", "par-6", "par-7"} {
		f.kub.ready(t, n)
	}
	f.update("par", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	f.waitStatus("par", func(st appsv1.StatefulSetStatus) bool {
		return st.UpdateRevision != st.CurrentRevision && st.UpdatedReplicas == 0 && st.ReadyReplicas == 3
	})
	victim := f.pods()["par-6"]
	if err := f.cs.CoreV1().Pods(f.ns).Delete(ctx, "par-6", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		p := f.pods()["par-6"]
		if p == nil || p.UID == victim.UID {
			return false, "waiting for par-6 to be recreated"
		}
		return p.Spec.Containers[0].Image == "nginx:2", "par-6 runs " + p.Spec.Containers[0].Image
	})
	f.waitStatus("par", func(st appsv1.StatefulSetStatus) bool { return st.UpdatedReplicas == 1 && st.ReadyReplicas == 3 })
	if img := f.pods()["par-5"].Spec.Containers[0].Image; img != "nginx:1" {
		t.Errorf("par-5 replaced under OnDelete: %s", img)
	}
}

// testRetention covers persistentVolumeClaimRetentionPolicy: with
// whenDeleted=Delete claims are owned by the set; with whenScaled=Delete a
// condemned pod's claims are handed to the pod before it goes.
func testRetention(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.kub.auto.Store(true)
	set := statefulSet(f.ns, "db", 2)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")}}},
	}}
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	created, err := f.cs.AppsV1().StatefulSets(f.ns).Create(ctx, set, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.waitStatus("db", func(st appsv1.StatefulSetStatus) bool { return st.ReadyReplicas == 2 })
	owner := func(claim string) string {
		c, err := f.cs.CoreV1().PersistentVolumeClaims(f.ns).Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, r := range c.OwnerReferences {
			out = append(out, fmt.Sprintf("%s/%s/%v", r.Kind, r.UID, r.Controller != nil && *r.Controller))
		}
		return strings.Join(out, ",")
	}
	if got, want := owner("data-db-1"), fmt.Sprintf("StatefulSet/%s/true", created.UID); got != want {
		t.Errorf("owner of data-db-1 = %q, want %q", got, want)
	}
	db1 := f.pods()["db-1"]
	f.update("db", func(s *appsv1.StatefulSet) { one := int32(1); s.Spec.Replicas = &one })
	f.waitPods("db-0")
	// No garbage collector runs here, so the claim stays, owned by db-1.
	eventually(t, 10*time.Second, func() (bool, string) {
		got, want := owner("data-db-1"), fmt.Sprintf("Pod/%s/true", db1.UID)
		return got == want, fmt.Sprintf("owner of data-db-1 = %q, want %q", got, want)
	})
	if got, want := owner("data-db-0"), fmt.Sprintf("StatefulSet/%s/true", created.UID); got != want {
		t.Errorf("owner of data-db-0 = %q, want %q", got, want)
	}
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
