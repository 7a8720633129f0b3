package daemonset_test

import (
	"context"
	"fmt"
	"github.com/skiff-io/skiff/internal/controller/daemonset"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
)

// startController runs the daemon set controller against the test
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
	rec := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "daemonset-controller"})
	c, err := daemonset.New(daemonset.Config{Client: cs, Informers: factory, Recorder: rec, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

// fakeKubelet marks every pod of namespace ns Running and Ready with a
// pod IP while enabled, standing in for nodes the tests do not have.
type fakeKubelet struct{ enabled atomic.Bool }

func startKubelet(t *testing.T, cs kubernetes.Interface, ns string) *fakeKubelet {
	t.Helper()
	k := &fakeKubelet{}
	k.enabled.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	var ip atomic.Int32
	mark := func(obj interface{}) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || !k.enabled.Load() || pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodRunning {
			return
		}
		pod = pod.DeepCopy()
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP = fmt.Sprintf("10.42.0.%d", ip.Add(1))
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()})
		_, _ = cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: mark, UpdateFunc: func(_, o interface{}) { mark(o) }}); err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	return k
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

func createNode(t *testing.T, cs kubernetes.Interface, name string, taints ...corev1.Taint) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec: corev1.NodeSpec{Taints: taints}}
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node %s: %v", name, err)
	}
}

// podsByNode lists the live daemon pods of ds by the node they are for.
func podsByNode(t *testing.T, cs kubernetes.Interface, ns string) map[string][]corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=agent"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]corev1.Pod{}
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		node, _ := daemonset.TargetNode(&p)
		out[node] = append(out[node], p)
	}
	return out
}

func nodeNames(m map[string][]corev1.Pod) string {
	var out []string
	for n, pods := range m {
		for range pods {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// updateDS changes daemon set "agent", retrying on conflicts with the
// controller's status writes.
func updateDS(t *testing.T, cs kubernetes.Interface, ns string, mutate func(*appsv1.DaemonSet)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds, err := cs.AppsV1().DaemonSets(ns).Get(context.Background(), "agent", metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(ds)
		_, err = cs.AppsV1().DaemonSets(ns).Update(context.Background(), ds, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDaemonSetIntegration(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := startController(t, s)
	ctx := context.Background()
	const ns = "ds-test"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	startKubelet(t, cs, ns)
	dedicated := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	createNode(t, cs, "n1")
	createNode(t, cs, "n2")
	createNode(t, cs, "n3", dedicated)

	one := intstr.FromInt32(1)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:1"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one}},
		},
	}
	if _, err := cs.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitStatus := func(want appsv1.DaemonSetStatus) {
		t.Helper()
		eventually(t, 20*time.Second, func() (bool, string) {
			got, err := cs.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			st := got.Status
			want.ObservedGeneration = got.Generation
			st.CollisionCount, st.Conditions = nil, nil
			return reflect.DeepEqual(st, want), fmt.Sprintf("status %+v, want %+v", st, want)
		})
	}
	wantNodes := func(want string) {
		t.Helper()
		eventually(t, 20*time.Second, func() (bool, string) {
			got := nodeNames(podsByNode(t, cs, ns))
			return got == want, fmt.Sprintf("daemon pods on %q, want %q", got, want)
		})
	}
	full := func(n int32) appsv1.DaemonSetStatus {
		return appsv1.DaemonSetStatus{DesiredNumberScheduled: n, CurrentNumberScheduled: n, NumberReady: n, NumberAvailable: n, UpdatedNumberScheduled: n}
	}

	// Covers every node but the tainted one.
	wantNodes("n1,n2")
	waitStatus(full(2))
	pods := podsByNode(t, cs, ns)
	p := pods["n1"][0]
	terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Values[0] != "n1" {
		t.Errorf("daemon pod affinity = %+v, want matchFields metadata.name=n1", terms)
	}
	if p.Spec.NodeName != "" {
		t.Errorf("daemon pod bound to %q by the controller; binding is the scheduler's", p.Spec.NodeName)
	}
	if p.Labels["controller-revision-hash"] == "" || len(p.OwnerReferences) != 1 || !*p.OwnerReferences[0].Controller {
		t.Errorf("daemon pod labels %v, owners %+v", p.Labels, p.OwnerReferences)
	}

	// Follows a new node, and a node losing its taint.
	createNode(t, cs, "n4")
	wantNodes("n1,n2,n4")
	n3, err := cs.CoreV1().Nodes().Get(ctx, "n3", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n3.Spec.Taints = nil
	if _, err := cs.CoreV1().Nodes().Update(ctx, n3, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantNodes("n1,n2,n3,n4")
	waitStatus(full(4))

	// A NoExecute taint evicts; a removed node loses its pod.
	n3, _ = cs.CoreV1().Nodes().Get(ctx, "n3", metav1.GetOptions{})
	n3.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}}
	if _, err := cs.CoreV1().Nodes().Update(ctx, n3, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, "n4", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wantNodes("n1,n2")
	waitStatus(full(2))

	// Rolling update: every pod replaced by one of the new revision.
	oldHash := podsByNode(t, cs, ns)["n1"][0].Labels["controller-revision-hash"]
	updateDS(t, cs, ns, func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" })
	eventually(t, 20*time.Second, func() (bool, string) {
		m := podsByNode(t, cs, ns)
		var images []string
		for _, n := range []string{"n1", "n2"} {
			for _, p := range m[n] {
				images = append(images, p.Spec.Containers[0].Image)
			}
		}
		got := strings.Join(images, ",")
		return got == "agent:2,agent:2", "images " + got
	})
	waitStatus(full(2))
	revs, err := cs.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var revNums []string
	for _, r := range revs.Items {
		revNums = append(revNums, fmt.Sprint(r.Revision))
		if r.Labels["controller-revision-hash"] == oldHash && r.Revision != 1 {
			t.Errorf("first revision %s has number %d", r.Name, r.Revision)
		}
	}
	sort.Strings(revNums)
	if strings.Join(revNums, ",") != "1,2" {
		t.Errorf("controller revisions %v, want 1,2", revNums)
	}

	// OnDelete: a new template reaches only the pods the user deletes.
	updateDS(t, cs, ns, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		ds.Spec.Template.Spec.Containers[0].Image = "agent:3"
	})
	waitStatus(appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2})
	victim := podsByNode(t, cs, ns)["n2"][0]
	if victim.Spec.Containers[0].Image != "agent:2" {
		t.Fatalf("OnDelete replaced pod %s: image %s", victim.Name, victim.Spec.Containers[0].Image)
	}
	if err := cs.CoreV1().Pods(ns).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		m := podsByNode(t, cs, ns)
		if len(m["n2"]) != 1 || m["n2"][0].UID == victim.UID {
			return false, "waiting for the replacement on n2"
		}
		return m["n2"][0].Spec.Containers[0].Image == "agent:3" && m["n1"][0].Spec.Containers[0].Image == "agent:2",
			fmt.Sprintf("n1 %s, n2 %s", m["n1"][0].Spec.Containers[0].Image, m["n2"][0].Spec.Containers[0].Image)
	})
	waitStatus(appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2, UpdatedNumberScheduled: 1})

	// Events are recorded on the daemon set.
	eventually(t, 10*time.Second, func() (bool, string) {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=agent"})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Reason == "SuccessfulCreate" && strings.HasPrefix(e.Message, "Created pod: agent-") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none SuccessfulCreate", len(evs.Items))
	})
}
