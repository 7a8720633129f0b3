package replicaset

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

func testRS(name string, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "x"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
}

// harness is a controller over a fake clientset whose informer caches the
// test fills by hand, so that each Reconcile sees exactly the given state.
type harness struct {
	c      *Controller
	client *fake.Clientset
	f      informers.SharedInformerFactory
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	seq := 0
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		// The fake does not implement generateName.
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			seq++
			p.Name = fmt.Sprintf("%sgen%d", p.GenerateName, seq)
		}
		return false, nil, nil
	})
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: f, Recorder: record.NewFakeRecorder(100), BurstReplicas: 10,
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.ReplicaSet:
			f.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
	}
	return &harness{c: c, client: client, f: f}
}

func (h *harness) actions(verb, resource string) int {
	n := 0
	for _, a := range h.client.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource && a.GetSubresource() == "" {
			n++
		}
	}
	return n
}

func ownedPod(rs *appsv1.ReplicaSet, name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := pod(name, opts...)
	p.Labels = map[string]string{"app": rs.Name}
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
	return p
}

func TestReconcileCreatesOnceWhileInformerLags(t *testing.T) {
	rs := testRS("web", 3)
	h := newHarness(t, rs)
	ctx := context.Background()
	if err := h.c.Reconcile(ctx, "ns/web"); err != nil {
		t.Fatal(err)
	}
	if n := h.actions("create", "pods"); n != 3 {
		t.Fatalf("created %d pods, want 3", n)
	}
	// The informer has seen none of them: a second sync must not create more.
	if err := h.c.Reconcile(ctx, "ns/web"); err != nil {
		t.Fatal(err)
	}
	if n := h.actions("create", "pods"); n != 3 {
		t.Fatalf("created %d pods after a lagging resync, want still 3", n)
	}
	// Once the informer reports them, expectations are met again.
	for i := range 3 {
		p := ownedPod(rs, fmt.Sprintf("web-%d", i))
		h.f.Core().V1().Pods().Informer().GetIndexer().Add(p)
		h.c.addPod(p)
	}
	if !h.c.exp.satisfied("ns/web", rs.UID) {
		t.Fatalf("expectations not satisfied after observing the creations")
	}
}

func TestReconcileDeletesExtra(t *testing.T) {
	rs := testRS("web", 1)
	ready := readySince(t0.Add(-time.Hour))
	h := newHarness(t, rs, ownedPod(rs, "a", ready), ownedPod(rs, "b"), ownedPod(rs, "c", onNode("")))
	if err := h.c.Reconcile(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range h.client.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource().Resource == "pods" {
			deleted = append(deleted, d.GetName())
		}
	}
	if len(deleted) != 2 || contains(deleted, "a") {
		t.Fatalf("deleted %v, want b and c (the not-ready and the unscheduled)", deleted)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestReconcileFailedCreateSetsCondition(t *testing.T) {
	rs := testRS("web", 4)
	h := newHarness(t, rs)
	calls := 0
	h.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		calls++
		return true, nil, fmt.Errorf(`pods "web-x" is forbidden: exceeded quota: q`)
	})
	err := h.c.Reconcile(context.Background(), "ns/web")
	if err == nil {
		t.Fatalf("Reconcile should fail")
	}
	if calls != 1 {
		t.Fatalf("slow start made %d create calls after a failure, want 1", calls)
	}
	got, err := h.client.AppsV1().ReplicaSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := failureCondition(got.Status.Conditions); c == nil || c.Reason != ReasonFailedCreate {
		t.Fatalf("conditions = %+v", got.Status.Conditions)
	}
	if !h.c.exp.satisfied("ns/web", rs.UID) {
		t.Fatalf("failed and skipped creates must not stay expected")
	}
	rec := h.c.recorder.(*record.FakeRecorder)
	select {
	case e := <-rec.Events:
		if e != `Warning FailedCreate Error creating: pods "web-x" is forbidden: exceeded quota: q` {
			t.Fatalf("event = %q", e)
		}
	default:
		t.Fatalf("no event recorded")
	}
}

func TestReconcileAdoptsAndReleases(t *testing.T) {
	rs := testRS("web", 2)
	orphan := pod("orphan")
	orphan.Labels = map[string]string{"app": "web"}
	stray := ownedPod(rs, "stray")
	stray.Labels = map[string]string{"app": "other"}
	keep := ownedPod(rs, "keep")
	h := newHarness(t, rs, orphan, stray, keep)
	if err := h.c.Reconcile(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	patched := map[string]string{}
	for _, a := range h.client.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok {
			patched[p.GetName()] = string(p.GetPatch())
		}
	}
	if len(patched) != 2 || patched["orphan"] == "" || patched["stray"] == "" {
		t.Fatalf("patches = %v", patched)
	}
	if n := h.actions("create", "pods"); n != 0 {
		t.Fatalf("created %d pods; the adopted orphan should make two", n)
	}
}

func TestReplicationControllerStatusRoundTrip(t *testing.T) {
	st := appsv1.ReplicaSetStatus{Replicas: 2, FullyLabeledReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 3,
		Conditions: []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "m"}}}
	rc := &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Selector: map[string]string{"a": "b"}},
		Status: toReplicationControllerStatus(st)}
	back := fromReplicationController(rc).Status
	if back.Replicas != 2 || back.ReadyReplicas != 1 || back.ObservedGeneration != 3 || back.Conditions[0].Reason != "FailedCreate" {
		t.Fatalf("round trip = %+v", back)
	}
	if s := fromReplicationController(rc); s.Replicas != 1 || s.Template == nil {
		t.Fatalf("defaults: replicas %d, template %v", s.Replicas, s.Template)
	}
}
