package replicaset

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/controller"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// pod builds a test pod; opts adjust it.
func pod(name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))}}
	p.Spec.NodeName = "node-a"
	p.Status.Phase = corev1.PodRunning
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(n string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func phase(ph corev1.PodPhase) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}
func readySince(t time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady,
			Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t)})
	}
}
func created(t time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t) }
}
func restarts(n int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: n}}
	}
}
func cost(c string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{PodDeletionCostAnnotation: c} }
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPodsToDelete(t *testing.T) {
	ready := readySince(t0.Add(-time.Hour))
	tests := []struct {
		name    string
		pods    []*corev1.Pod
		related []*corev1.Pod // nil: pods
		n       int
		want    []string
	}{
		{"unscheduled first", []*corev1.Pod{pod("a", ready), pod("b", onNode(""), phase(corev1.PodPending))}, nil, 1, []string{"b"}},
		{"pending before unknown before running", []*corev1.Pod{pod("run", ready), pod("unk", phase(corev1.PodUnknown)), pod("pend", phase(corev1.PodPending))}, nil, 2, []string{"pend", "unk"}},
		{"not ready before ready", []*corev1.Pod{pod("r", ready), pod("nr")}, nil, 1, []string{"nr"}},
		{"lower deletion cost first", []*corev1.Pod{pod("hi", ready, cost("10")), pod("lo", ready, cost("-5")), pod("none", ready)}, nil, 2, []string{"lo", "none"}},
		{"crowded node first", []*corev1.Pod{pod("x", ready, onNode("n1")), pod("y", ready, onNode("n2"))},
			[]*corev1.Pod{pod("x", onNode("n1")), pod("y", onNode("n2")), pod("z", onNode("n2"))}, 1, []string{"y"}},
		{"ready for less time first", []*corev1.Pod{pod("old", readySince(t0.Add(-10*time.Hour))), pod("new", readySince(t0.Add(-time.Minute)))}, nil, 1, []string{"new"}},
		{"more restarts first", []*corev1.Pod{pod("calm", ready, restarts(0)), pod("flappy", ready, restarts(7))}, nil, 1, []string{"flappy"}},
		{"newer first", []*corev1.Pod{pod("older", created(t0.Add(-48*time.Hour))), pod("newer", created(t0.Add(-time.Minute)))}, nil, 1, []string{"newer"}},
		{"everything when n covers all", []*corev1.Pod{pod("a"), pod("b")}, nil, 5, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			related := tt.related
			if related == nil {
				related = tt.pods
			}
			got := names(podsToDelete(tt.pods, related, tt.n, t0))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("podsToDelete = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPodsToDeleteLogarithmicBuckets(t *testing.T) {
	// Created 60s and 61s ago fall in the same log2 bucket: the order
	// comes from the UID, not from the one-second difference.
	a := pod("a", created(t0.Add(-61*time.Second)))
	b := pod("b", created(t0.Add(-60*time.Second)))
	a.UID, b.UID = "1", "2"
	if got := names(podsToDelete([]*corev1.Pod{b, a}, nil, 1, t0)); got[0] != "a" {
		t.Fatalf("same bucket: deleted %v, want a (lower UID)", got)
	}
}

func TestBatchSizes(t *testing.T) {
	tests := []struct {
		count int
		want  []int
	}{{0, nil}, {1, []int{1}}, {3, []int{1, 2}}, {10, []int{1, 2, 4, 3}}, {16, []int{1, 2, 4, 8, 1}}}
	for _, tt := range tests {
		if got := batchSizes(tt.count); !slices.Equal(got, tt.want) {
			t.Errorf("batchSizes(%d) = %v, want %v", tt.count, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	now := metav1.Now()
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	mk := func(lbls map[string]string, owner types.UID, deleting bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: lbls}}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{UID: owner, Controller: ptr(true), Name: "o", Kind: "ReplicaSet"}}
		}
		if deleting {
			p.DeletionTimestamp = &now
		}
		return p
	}
	match, other := map[string]string{"app": "web"}, map[string]string{"app": "db"}
	tests := []struct {
		name          string
		pod           *corev1.Pod
		ownerDeleting bool
		want          controller.Claim
	}{
		{"ours and matching", mk(match, "me", false), false, controller.ClaimKeep},
		{"ours, labels changed", mk(other, "me", false), false, controller.ClaimRelease},
		{"ours, labels changed, owner deleting", mk(other, "me", false), true, controller.ClaimIgnore},
		{"someone else's", mk(match, "them", false), false, controller.ClaimIgnore},
		{"matching orphan", mk(match, "", false), false, controller.ClaimAdopt},
		{"orphan, owner deleting", mk(match, "", false), true, controller.ClaimIgnore},
		{"terminating orphan", mk(match, "", true), false, controller.ClaimIgnore},
		{"non-matching orphan", mk(other, "", false), false, controller.ClaimIgnore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := controller.ClaimOf("me", tt.ownerDeleting, sel, tt.pod); got != tt.want {
				t.Fatalf("classify = %v, want %v", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestIsPodAvailable(t *testing.T) {
	tests := []struct {
		name     string
		pod      *corev1.Pod
		minReady int32
		want     bool
	}{
		{"not ready", pod("p"), 0, false},
		{"ready, no minReady", pod("p", readySince(t0)), 0, true},
		{"ready long enough", pod("p", readySince(t0.Add(-11*time.Second))), 10, true},
		{"ready too briefly", pod("p", readySince(t0.Add(-9*time.Second))), 10, false},
		{"exactly minReady is not yet", pod("p", readySince(t0.Add(-10*time.Second))), 10, false},
	}
	for _, tt := range tests {
		if got := IsPodAvailable(tt.pod, tt.minReady, t0); got != tt.want {
			t.Errorf("%s: IsPodAvailable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestUntilAvailable(t *testing.T) {
	pods := []*corev1.Pod{pod("a", readySince(t0.Add(-2*time.Second))), pod("b", readySince(t0.Add(-7*time.Second))), pod("c")}
	wait, ok := untilAvailable(pods, 10, t0)
	if !ok || wait < 3*time.Second || wait > 3*time.Second+time.Second/2 {
		t.Fatalf("untilAvailable = %v, %v; want about 3s", wait, ok)
	}
	if _, ok := untilAvailable(pods, 0, t0); ok {
		t.Fatalf("untilAvailable with minReadySeconds 0 should not wait")
	}
}

func TestPodFromTemplate(t *testing.T) {
	s := fromReplicaSet(testRS("web", 3))
	p, err := podFromTemplate(s, (&replicaSets{}).gvk())
	if err != nil {
		t.Fatal(err)
	}
	if p.GenerateName != "web-" || p.Namespace != "ns" || p.Labels["app"] != "web" {
		t.Fatalf("pod meta = %+v", p.ObjectMeta)
	}
	ref := p.OwnerReferences[0]
	if ref.UID != s.UID || ref.Name != "web" || !*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Fatalf("owner reference = %+v", ref)
	}
	s.Template.Labels = nil
	if _, err := podFromTemplate(s, (&replicaSets{}).gvk()); err == nil {
		t.Fatalf("a template without labels must not make pods")
	}
}

func TestCalculateStatus(t *testing.T) {
	s := fromReplicaSet(testRS("web", 3))
	s.Generation = 4
	s.MinReadySeconds = 5
	pods := []*corev1.Pod{
		pod("a", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web", "tier": "x"} }, readySince(t0.Add(-time.Minute))),
		pod("b", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web", "tier": "x"} }, readySince(t0)),
		pod("c", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web"} }),
	}
	st := calculateStatus(s, pods, nil, t0)
	if st.Replicas != 3 || st.FullyLabeledReplicas != 2 || st.ReadyReplicas != 2 || st.AvailableReplicas != 1 || st.ObservedGeneration != 4 {
		t.Fatalf("status = %+v", st)
	}
	if st.Conditions != nil {
		t.Fatalf("unexpected conditions %v", st.Conditions)
	}
	s.Replicas = 5
	failed := calculateStatus(s, pods, fmt.Errorf("pods \"web-x\" is forbidden: exceeded quota"), t0)
	if len(failed.Conditions) != 1 || failed.Conditions[0].Reason != ReasonFailedCreate || failed.Conditions[0].Message != `pods "web-x" is forbidden: exceeded quota` {
		t.Fatalf("failure conditions = %+v", failed.Conditions)
	}
	s.Status = failed
	s.Replicas = 2
	again := calculateStatus(s, pods, fmt.Errorf("other"), t0.Add(time.Minute))
	if len(again.Conditions) != 1 || again.Conditions[0].Reason != ReasonFailedCreate {
		t.Fatalf("an existing failure condition is kept as is, got %+v", again.Conditions)
	}
	cleared := calculateStatus(s, pods, nil, t0)
	if cleared.Conditions != nil {
		t.Fatalf("a clean sync clears ReplicaFailure, got %+v", cleared.Conditions)
	}
}
