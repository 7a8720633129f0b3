package nodelifecycle

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mkNode(ready corev1.ConditionStatus, heartbeat time.Time, mut ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, LastHeartbeatTime: metav1.NewTime(heartbeat)}}
	}
	for _, m := range mut {
		m(n)
	}
	return n
}

func TestObserveHealth(t *testing.T) {
	const grace, startup = 50 * time.Second, time.Minute
	lease := func(t time.Time) *metav1.MicroTime { return &metav1.MicroTime{Time: t} }
	known := nodeHealth{probe: t0, readyHeartbeat: metav1.NewTime(t0), leaseRenew: t0, hadReady: true}
	now := t0.Add(30 * time.Second)
	for _, tc := range []struct {
		name      string
		h         nodeHealth
		known     bool
		node      *corev1.Node
		lease     *metav1.MicroTime
		wantProbe time.Time
		wantGrace time.Duration
	}{
		{"first sight of a node with status: grace from now", nodeHealth{}, false, mkNode(corev1.ConditionTrue, t0.Add(-time.Hour)), nil, now, grace},
		{"first sight of a node that never posted status: from creation", nodeHealth{}, false, mkNode("", t0), nil, t0.Add(-time.Hour), startup},
		{"never posted status but renews its lease", nodeHealth{}, false, mkNode("", t0), lease(t0), now, startup},
		{"nothing new", known, true, mkNode(corev1.ConditionTrue, t0), lease(t0), t0, grace},
		{"lease renewed", known, true, mkNode(corev1.ConditionTrue, t0), lease(t0.Add(time.Second)), now, grace},
		{"lease older than seen", known, true, mkNode(corev1.ConditionTrue, t0), lease(t0.Add(-time.Second)), t0, grace},
		{"status heartbeat", known, true, mkNode(corev1.ConditionTrue, t0.Add(time.Second)), lease(t0), now, grace},
		{"heartbeat from a skewed clock still counts", known, true, mkNode(corev1.ConditionTrue, t0.Add(-time.Hour)), lease(t0), now, grace},
	} {
		h, g := observeHealth(tc.h, tc.known, tc.node, tc.lease, now, grace, startup)
		if !h.probe.Equal(tc.wantProbe) || g != tc.wantGrace {
			t.Errorf("%s: probe %v grace %v, want %v %v", tc.name, h.probe, g, tc.wantProbe, tc.wantGrace)
		}
	}
}

func TestMarkUnknown(t *testing.T) {
	n := mkNode(corev1.ConditionTrue, t0, func(n *corev1.Node) {
		n.Status.Conditions = append(n.Status.Conditions,
			corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
			corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse})
	})
	now := t0.Add(time.Minute)
	if !markUnknown(&n.Status, n.CreationTimestamp, now) {
		t.Fatal("no change")
	}
	byType := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range n.Status.Conditions {
		byType[c.Type] = c
	}
	r := byType[corev1.NodeReady]
	if r.Status != corev1.ConditionUnknown || r.Reason != "NodeStatusUnknown" || r.Message != "Kubelet stopped posting node status." ||
		!r.LastTransitionTime.Time.Equal(now) || !r.LastHeartbeatTime.Time.Equal(t0) {
		t.Errorf("Ready = %+v", r)
	}
	if byType[corev1.NodeMemoryPressure].Status != corev1.ConditionUnknown {
		t.Errorf("MemoryPressure = %+v", byType[corev1.NodeMemoryPressure])
	}
	if d := byType[corev1.NodeDiskPressure]; d.Status != corev1.ConditionUnknown || d.Reason != "NodeStatusNeverUpdated" {
		t.Errorf("DiskPressure = %+v", d)
	}
	if byType[corev1.NodeNetworkUnavailable].Status != corev1.ConditionFalse {
		t.Errorf("NetworkUnavailable changed")
	}
	if markUnknown(&n.Status, n.CreationTimestamp, now.Add(time.Minute)) {
		t.Error("second markUnknown changed something")
	}
}

func TestConditionTaints(t *testing.T) {
	for _, tc := range []struct {
		name string
		node *corev1.Node
		want []string
	}{
		{"ready", mkNode(corev1.ConditionTrue, t0), nil},
		{"not ready", mkNode(corev1.ConditionFalse, t0), []string{corev1.TaintNodeNotReady}},
		{"unknown", mkNode(corev1.ConditionUnknown, t0), []string{corev1.TaintNodeUnreachable}},
		{"pressure and cordoned", mkNode(corev1.ConditionTrue, t0, func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Status.Conditions = append(n.Status.Conditions,
				corev1.NodeCondition{Type: corev1.NodeDiskPressure, Status: corev1.ConditionTrue},
				corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue})
		}), []string{corev1.TaintNodeDiskPressure, corev1.TaintNodeNetworkUnavailable, corev1.TaintNodeUnschedulable}},
	} {
		if got := conditionTaints(tc.node); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNoExecuteTaint(t *testing.T) {
	for _, tc := range []struct {
		ready corev1.ConditionStatus
		all   bool
		want  string
	}{
		{corev1.ConditionTrue, false, ""},
		{corev1.ConditionFalse, false, corev1.TaintNodeNotReady},
		{corev1.ConditionUnknown, false, corev1.TaintNodeUnreachable},
		{corev1.ConditionUnknown, true, ""},
		{"", false, ""},
	} {
		if got := noExecuteTaint(mkNode(tc.ready, t0), tc.all); got != tc.want {
			t.Errorf("Ready=%q all=%v: got %q, want %q", tc.ready, tc.all, got, tc.want)
		}
	}
}

func taintStrings(ts []corev1.Taint) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ToString())
	}
	return fmt.Sprint(out)
}

func TestReconcileTaints(t *testing.T) {
	user := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	unreachNS := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}
	unreachNE := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReadyNE := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	userNE := corev1.Taint{Key: corev1.TaintNodeUnreachable, Value: "custom", Effect: corev1.TaintEffectPreferNoSchedule}
	for _, tc := range []struct {
		name        string
		cur         []corev1.Taint
		noSchedule  []string
		noExecute   string
		add         bool
		want        string
		wantChanged bool
	}{
		{"nothing to do", []corev1.Taint{user}, nil, "", true, "[dedicated=gpu:NoSchedule]", false},
		{"node goes unreachable", []corev1.Taint{user}, []string{corev1.TaintNodeUnreachable}, corev1.TaintNodeUnreachable, true,
			"[dedicated=gpu:NoSchedule node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute]", true},
		{"rate limited: NoSchedule only", nil, []string{corev1.TaintNodeUnreachable}, corev1.TaintNodeUnreachable, false,
			"[node.kubernetes.io/unreachable:NoSchedule]", true},
		{"swap is not rate limited", []corev1.Taint{notReadyNE}, nil, corev1.TaintNodeUnreachable, false,
			"[node.kubernetes.io/unreachable:NoExecute]", true},
		{"recovered", []corev1.Taint{unreachNS, user, unreachNE}, nil, "", true, "[dedicated=gpu:NoSchedule]", true},
		{"foreign effect kept", []corev1.Taint{userNE}, nil, "", true, "[node.kubernetes.io/unreachable=custom:PreferNoSchedule]", false},
		{"duplicates dropped", []corev1.Taint{unreachNS, unreachNS}, []string{corev1.TaintNodeUnreachable}, "", true,
			"[node.kubernetes.io/unreachable:NoSchedule]", true},
	} {
		got, changed := reconcileTaints(tc.cur, tc.noSchedule, tc.noExecute, tc.add, t0)
		if taintStrings(got) != tc.want || changed != tc.wantChanged {
			t.Errorf("%s: got %s (changed %v), want %s (changed %v)", tc.name, taintStrings(got), changed, tc.want, tc.wantChanged)
		}
		for _, tt := range got {
			if tt.Effect == corev1.TaintEffectNoExecute && tt.TimeAdded == nil {
				t.Errorf("%s: NoExecute taint without timeAdded", tc.name)
			}
		}
	}
}

func TestPodsToMarkNotReady(t *testing.T) {
	pod := func(name string, ready corev1.ConditionStatus) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if ready != "" {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: ready}}
		}
		return p
	}
	in := []*corev1.Pod{pod("ready", corev1.ConditionTrue), pod("notready", corev1.ConditionFalse), pod("pending", "")}
	out := podsToMarkNotReady(in, t0)
	if len(out) != 1 || out[0].Name != "ready" || out[0].Status.Conditions[1].Status != corev1.ConditionFalse ||
		!out[0].Status.Conditions[1].LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("got %+v", out)
	}
	if in[0].Status.Conditions[1].Status != corev1.ConditionTrue {
		t.Error("input pod modified")
	}
}

func TestZones(t *testing.T) {
	node := func(zone string, ready bool, extra ...string) *corev1.Node {
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		return mkNode(st, t0, func(n *corev1.Node) {
			n.Labels = map[string]string{}
			if zone != "" {
				n.Labels[corev1.LabelTopologyZone] = zone
			}
			for _, e := range extra {
				n.Labels[e] = ""
			}
		})
	}
	repeat := func(n int, f func() *corev1.Node) []*corev1.Node {
		var out []*corev1.Node
		for i := 0; i < n; i++ {
			out = append(out, f())
		}
		return out
	}
	cfg := Config{}
	cfg.defaults()
	for _, tc := range []struct {
		name    string
		nodes   []*corev1.Node
		want    map[string]zoneState
		wantAll bool
	}{
		{"healthy", []*corev1.Node{node("a", true), node("a", false)}, map[string]zoneState{":\x00:a": zoneNormal}, false},
		{"one node, down", []*corev1.Node{node("", false)}, map[string]zoneState{"": zoneFullDisruption}, true},
		{"two of three down is not partial (needs more than two)", []*corev1.Node{node("", false), node("", false), node("", true)},
			map[string]zoneState{"": zoneNormal}, false},
		{"three of five down is partial", append(repeat(3, func() *corev1.Node { return node("", false) }), node("", true), node("", true)),
			map[string]zoneState{"": zonePartialDisruption}, false},
		{"one zone down, another up", []*corev1.Node{node("a", false), node("b", true)},
			map[string]zoneState{":\x00:a": zoneFullDisruption, ":\x00:b": zoneNormal}, false},
		{"excluded nodes do not count", []*corev1.Node{node("", false), node("", true, labelExcludeDisruption)},
			map[string]zoneState{"": zoneFullDisruption}, true},
	} {
		got := computeZoneStates(tc.nodes, cfg.UnhealthyZoneThreshold)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v", tc.name, got)
		}
		for z, st := range tc.want {
			if got[z].state != st {
				t.Errorf("%s: zone %q = %v, want %v", tc.name, z, got[z].state, st)
			}
		}
		if allFullyDisrupted(got) != tc.wantAll {
			t.Errorf("%s: allFullyDisrupted = %v", tc.name, !tc.wantAll)
		}
	}
	for _, tc := range []struct {
		z    zoneStat
		want float32
	}{
		{zoneStat{zoneNormal, 10}, 0.1},
		{zoneStat{zoneFullDisruption, 10}, 0.1},
		{zoneStat{zonePartialDisruption, 10}, 0},
		{zoneStat{zonePartialDisruption, 51}, 0.01},
	} {
		if got := zoneRate(tc.z, &cfg); got != tc.want {
			t.Errorf("zoneRate(%v) = %v, want %v", tc.z, got, tc.want)
		}
	}
}

func TestLimiters(t *testing.T) {
	l := limiters{rate: 0.1, zones: map[string]*zoneLimiter{}}
	if !l.tryAccept("a") {
		t.Fatal("first token refused")
	}
	if l.tryAccept("a") {
		t.Fatal("burst of more than one")
	}
	if !l.tryAccept("b") {
		t.Fatal("zones share a bucket")
	}
	l.set("c", 0)
	if l.tryAccept("c") {
		t.Fatal("rate 0 accepted")
	}
}

func TestTolerates(t *testing.T) {
	taint := corev1.Taint{Key: "k", Value: "5", Effect: corev1.TaintEffectNoExecute}
	for _, tc := range []struct {
		tol  corev1.Toleration
		want bool
	}{
		{corev1.Toleration{Key: "k", Value: "5", Effect: corev1.TaintEffectNoExecute}, true},
		{corev1.Toleration{Key: "k", Value: "6"}, false},
		{corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}, true},
		{corev1.Toleration{Operator: corev1.TolerationOpExists}, true},
		{corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, false},
		{corev1.Toleration{Key: "other", Operator: corev1.TolerationOpExists}, false},
		{corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "4"}, true},
		{corev1.Toleration{Key: "k", Operator: corev1.TolerationOpLt, Value: "4"}, false},
		{corev1.Toleration{Key: "k", Operator: "Bogus"}, false},
	} {
		if got := tolerates(tc.tol, taint); got != tc.want {
			t.Errorf("%+v: got %v", tc.tol, got)
		}
	}
}

func TestEvictionDecision(t *testing.T) {
	added := metav1.NewTime(t0)
	unreach := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added}
	noSched := corev1.Taint{Key: "x", Effect: corev1.TaintEffectNoSchedule}
	noTime := corev1.Taint{Key: "maint", Effect: corev1.TaintEffectNoExecute}
	tol := func(key string, secs *int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs}
	}
	start := func(t corev1.Taint) time.Time {
		if t.TimeAdded != nil {
			return t.TimeAdded.Time
		}
		return t0.Add(10 * time.Second)
	}
	now := t0.Add(100 * time.Second)
	for _, tc := range []struct {
		name   string
		tols   []corev1.Toleration
		taints []corev1.Taint
		want   eviction
	}{
		{"no NoExecute taints", nil, []corev1.Taint{noSched}, eviction{}},
		{"not tolerated", nil, []corev1.Taint{unreach}, eviction{evict: true}},
		{"tolerated for ever", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)}, []corev1.Taint{unreach}, eviction{}},
		{"300s toleration pending", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](300))}, []corev1.Taint{unreach}, eviction{after: 200 * time.Second}},
		{"toleration ran out", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](60))}, []corev1.Taint{unreach}, eviction{evict: true}},
		{"zero seconds", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](0))}, []corev1.Taint{unreach}, eviction{evict: true}},
		{"one of two taints not tolerated", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)}, []corev1.Taint{unreach, noTime}, eviction{evict: true}},
		{"earliest deadline wins", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](300)), tol("maint", ptr.To[int64](120))},
			[]corev1.Taint{unreach, noTime}, eviction{after: 30 * time.Second}},
		{"first matching toleration decides", []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](150)), tol("", nil)},
			[]corev1.Taint{unreach}, eviction{after: 50 * time.Second}},
	} {
		if got := evictionDecision(tc.tols, tc.taints, start, now); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
