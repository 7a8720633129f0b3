package daemonset

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// dpod is a daemon pod for node with revision hash; state is "ready",
// "unready", "failed", "succeeded" or "terminating"; age orders pods.
func dpod(name, node, hash, state string, age int) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"controller-revision-hash": hash},
			CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Second))},
		Spec:   corev1.PodSpec{Affinity: pinnedAffinity(nil, node)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	switch state {
	case "ready":
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}}
	case "failed":
		p.Status.Phase = corev1.PodFailed
	case "succeeded":
		p.Status.Phase = corev1.PodSucceeded
	case "terminating":
		now := metav1.NewTime(t0)
		p.DeletionTimestamp = &now
	}
	return p
}

func nodesNamed(names ...string) []*corev1.Node {
	var out []*corev1.Node
	for _, n := range names {
		out = append(out, node(n, nil))
	}
	return out
}

func names(pods []*corev1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestPlanManage(t *testing.T) {
	tainted := node("n3", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule})
	evicting := node("n4", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoExecute})
	tests := []struct {
		name              string
		nodes             []*corev1.Node
		pods              []*corev1.Pod
		surge             bool
		create, del, fail string
	}{
		{name: "empty cluster"},
		{name: "every node gets a pod", nodes: nodesNamed("n1", "n2"), create: "n1,n2"},
		{name: "pod present", nodes: nodesNamed("n1", "n2"), pods: []*corev1.Pod{dpod("a", "n1", "h", "ready", 0)}, create: "n2"},
		{name: "NoSchedule taint keeps running pod, creates none",
			nodes: []*corev1.Node{tainted}, pods: []*corev1.Pod{dpod("a", "n3", "h", "ready", 0)}},
		{name: "NoSchedule taint gets no new pod", nodes: []*corev1.Node{tainted}},
		{name: "NoExecute taint evicts", nodes: []*corev1.Node{evicting}, pods: []*corev1.Pod{dpod("a", "n4", "h", "ready", 0)}, del: "a"},
		{name: "extra pods: keep the oldest", nodes: nodesNamed("n1"),
			pods: []*corev1.Pod{dpod("b", "n1", "h", "ready", 2), dpod("a", "n1", "h", "ready", 1), dpod("c", "n1", "h", "ready", 3)}, del: "b,c"},
		{name: "failed pod is replaced after deletion", nodes: nodesNamed("n1"), pods: []*corev1.Pod{dpod("a", "n1", "h", "failed", 0)}, fail: "a"},
		{name: "succeeded pod is deleted", nodes: nodesNamed("n1"), pods: []*corev1.Pod{dpod("a", "n1", "h", "succeeded", 0)}, del: "a"},
		{name: "terminating pod: wait", nodes: nodesNamed("n1"), pods: []*corev1.Pod{dpod("a", "n1", "h", "terminating", 0)}},
		{name: "node gone", nodes: nodesNamed("n1"),
			pods: []*corev1.Pod{dpod("a", "n1", "h", "ready", 0), dpod("b", "n9", "h", "ready", 0)}, del: "b"},
		{name: "surge: old ready, new unavailable coexist", nodes: nodesNamed("n1"), surge: true,
			pods: []*corev1.Pod{dpod("old", "n1", "h0", "ready", 0), dpod("new", "n1", "h", "unready", 1)}},
		{name: "surge: new available retires old", nodes: nodesNamed("n1"), surge: true,
			pods: []*corev1.Pod{dpod("old", "n1", "h0", "ready", 0), dpod("new", "n1", "h", "ready", 1)}, del: "old"},
		{name: "surge: unready old goes", nodes: nodesNamed("n1"), surge: true,
			pods: []*corev1.Pod{dpod("old", "n1", "h0", "unready", 0), dpod("new", "n1", "h", "unready", 1)}, del: "old"},
		{name: "surge: second new pod goes", nodes: nodesNamed("n1"), surge: true,
			pods: []*corev1.Pod{dpod("new1", "n1", "h", "ready", 0), dpod("new2", "n1", "h", "ready", 1)}, del: "new2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := dsWith(nil)
			p := planManage(ds, eligibility(ds, tt.nodes), groupByNode(tt.pods), "h", tt.surge, t0.Add(time.Hour))
			if got := strings.Join(p.create, ","); got != tt.create {
				t.Errorf("create = %q, want %q", got, tt.create)
			}
			if got := names(p.delete); got != tt.del {
				t.Errorf("delete = %q, want %q", got, tt.del)
			}
			if got := names(p.failed); got != tt.fail {
				t.Errorf("failed = %q, want %q", got, tt.fail)
			}
		})
	}
}

func rolling(maxUnavailable, maxSurge intstr.IntOrString) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}}
	}
}

func TestPlanRollingUpdate(t *testing.T) {
	one, zero, two := intstr.FromInt32(1), intstr.FromInt32(0), intstr.FromInt32(2)
	tests := []struct {
		name        string
		strategy    func(*appsv1.DaemonSet)
		nodes       []*corev1.Node
		pods        []*corev1.Pod
		del, create string
	}{
		{name: "maxUnavailable 1: one old pod at a time", strategy: rolling(one, zero), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "ready", 0), dpod("b", "n2", "h0", "ready", 0), dpod("c", "n3", "h0", "ready", 0)}, del: "a"},
		{name: "maxUnavailable 2", strategy: rolling(two, zero), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "ready", 0), dpod("b", "n2", "h0", "ready", 0), dpod("c", "n3", "h0", "ready", 0)}, del: "a,b"},
		{name: "a new pod still unavailable uses the budget", strategy: rolling(one, zero), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{dpod("a", "n1", "h", "unready", 0), dpod("b", "n2", "h0", "ready", 0)}},
		{name: "a node without pod uses the budget", strategy: rolling(one, zero), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{dpod("b", "n2", "h0", "ready", 0)}},
		{name: "unavailable old pods always go", strategy: rolling(one, zero), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "unready", 0), dpod("b", "n2", "h0", "unready", 0), dpod("c", "n3", "h0", "ready", 0)}, del: "a,b"},
		{name: "percent rounds up", strategy: rolling(intstr.FromString("10%"), zero), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "ready", 0), dpod("b", "n2", "h0", "ready", 0), dpod("c", "n3", "h0", "ready", 0)}, del: "a"},
		{name: "all updated: nothing", strategy: rolling(one, zero), nodes: nodesNamed("n1"),
			pods: []*corev1.Pod{dpod("a", "n1", "h", "ready", 0)}},
		{name: "surge 1: one new pod next to an old one", strategy: rolling(zero, one), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "ready", 0), dpod("b", "n2", "h0", "ready", 0)}, create: "n1"},
		{name: "surge: wait for the new pod", strategy: rolling(zero, one), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "ready", 0), dpod("a2", "n1", "h", "unready", 1), dpod("b", "n2", "h0", "ready", 0)}},
		{name: "surge: available new pod retires the old one", strategy: rolling(zero, one), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "ready", 0), dpod("a2", "n1", "h", "ready", 1), dpod("b", "n2", "h0", "ready", 0)}, del: "a", create: "n2"},
		{name: "surge: unavailable old pod is replaced at once", strategy: rolling(zero, one), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{dpod("a", "n1", "h0", "unready", 0), dpod("b", "n2", "h0", "unready", 0)}, create: "n1,n2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := dsWith(nil)
			tt.strategy(ds)
			p := planRollingUpdate(ds, eligibility(ds, tt.nodes), groupByNode(tt.pods), "h", t0.Add(time.Hour))
			if got := names(p.delete); got != tt.del {
				t.Errorf("delete = %q, want %q", got, tt.del)
			}
			if got := strings.Join(p.create, ","); got != tt.create {
				t.Errorf("create = %q, want %q", got, tt.create)
			}
		})
	}
}

func TestComputeStatus(t *testing.T) {
	ds := dsWith(nil)
	ds.Generation = 4
	ds.Spec.MinReadySeconds = 30
	nodes := append(nodesNamed("n1", "n2", "n3"), node("n4", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}))
	recent := dpod("c", "n3", "h", "ready", 0)
	recent.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(time.Hour - 10*time.Second))
	pods := []*corev1.Pod{
		dpod("a", "n1", "h", "ready", 0),
		dpod("b", "n2", "h0", "unready", 0),
		recent,
		dpod("d", "n4", "h", "ready", 0), // misscheduled: n4 is tainted
	}
	st, requeue := computeStatus(ds, eligibility(ds, nodes), groupByNode(pods), "h", t0.Add(time.Hour))
	want := appsv1.DaemonSetStatus{ObservedGeneration: 4, DesiredNumberScheduled: 3, CurrentNumberScheduled: 3,
		NumberMisscheduled: 1, NumberReady: 2, NumberAvailable: 1, UpdatedNumberScheduled: 2, NumberUnavailable: 2}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status = %+v\nwant     %+v", st, want)
	}
	if requeue != 30*time.Second {
		t.Errorf("requeue = %v, want 30s", requeue)
	}
}
