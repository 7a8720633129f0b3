package deployment

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/controller"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// deploy is a rolling-update deployment with the given surge and
// unavailability (ints or percentages as strings).
func deploy(replicas int32, surge, unavailable string) *appsv1.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	d := newDeployment("web", replicas, "img:1")
	d.UID = "d-uid"
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}}
	return d
}

// rs is a replica set named name created age ago with spec replicas,
// status replicas and available replicas.
func rs(name string, age time.Duration, spec, have, available int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name), CreationTimestamp: metav1.NewTime(t0.Add(-age)),
			Annotations: map[string]string{}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &spec},
		Status: appsv1.ReplicaSetStatus{Replicas: have, ReadyReplicas: available, AvailableReplicas: available},
	}
}

func annotated(r *appsv1.ReplicaSet, kv ...string) *appsv1.ReplicaSet {
	for i := 0; i+1 < len(kv); i += 2 {
		r.Annotations[kv[i]] = kv[i+1]
	}
	return r
}

func render(rs []resize) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s=%d", r.rs.Name, r.to))
	}
	return strings.Join(out, " ")
}

func TestFenceposts(t *testing.T) {
	tests := []struct {
		surge, unavailable string
		desired            int32
		wantS, wantU       int32
	}{
		{"25%", "25%", 10, 3, 2}, // surge rounds up, unavailable down
		{"25%", "25%", 1, 1, 0},
		{"0", "0%", 3, 0, 1}, // both zero: one may be unavailable
		{"1", "0", 4, 1, 0},
		{"50%", "50%", 5, 3, 2},
		{"0%", "33%", 3, 0, 0 + 1}, // 0.99 rounds to 0, then the fencepost
	}
	for _, tt := range tests {
		s, u := intstr.Parse(tt.surge), intstr.Parse(tt.unavailable)
		gotS, gotU := fenceposts(&s, &u, tt.desired)
		if gotS != tt.wantS || gotU != tt.wantU {
			t.Errorf("fenceposts(%s, %s, %d) = %d, %d; want %d, %d", tt.surge, tt.unavailable, tt.desired, gotS, gotU, tt.wantS, tt.wantU)
		}
	}
	d := deploy(2, "0", "200%")
	if got := maxUnavailable(d); got != 2 {
		t.Errorf("maxUnavailable caps at replicas: got %d", got)
	}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if maxSurge(d) != 0 || maxUnavailable(d) != 0 {
		t.Errorf("Recreate has no surge or unavailability")
	}
}

func TestPlanNewReplicaSet(t *testing.T) {
	tests := []struct {
		name    string
		d       *appsv1.Deployment
		old     []*appsv1.ReplicaSet
		newRS   *appsv1.ReplicaSet
		want    int32
		changed bool
	}{
		{"surge room", deploy(4, "1", "0"), []*appsv1.ReplicaSet{rs("old", time.Hour, 4, 4, 4)}, rs("new", 0, 0, 0, 0), 1, true},
		{"no room", deploy(4, "1", "0"), []*appsv1.ReplicaSet{rs("old", time.Hour, 4, 4, 4)}, rs("new", 0, 1, 1, 0), 1, false},
		{"scale-down not yet carried out holds the surge", deploy(4, "1", "0"), []*appsv1.ReplicaSet{rs("old", time.Hour, 3, 4, 4)}, rs("new", 0, 1, 1, 1), 1, false},
		{"room after old pods went", deploy(4, "1", "0"), []*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3, 3)}, rs("new", 0, 1, 1, 1), 2, true},
		{"never beyond replicas", deploy(4, "10", "0"), nil, rs("new", 0, 1, 1, 1), 4, true},
		{"too big shrinks to replicas", deploy(4, "1", "0"), nil, rs("new", 0, 6, 6, 6), 4, true},
		{"done", deploy(4, "1", "0"), nil, rs("new", 0, 4, 4, 4), 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := planNewReplicaSet(tt.d, withNew(tt.old, tt.newRS), tt.newRS)
			if got != tt.want || changed != tt.changed {
				t.Fatalf("planNewReplicaSet = %d, %v; want %d, %v", got, changed, tt.want, tt.changed)
			}
		})
	}
}

func TestPlanOldReplicaSets(t *testing.T) {
	tests := []struct {
		name  string
		d     *appsv1.Deployment
		old   []*appsv1.ReplicaSet
		newRS *appsv1.ReplicaSet
		want  string
	}{
		{"new pods not available yet", deploy(4, "1", "0"), []*appsv1.ReplicaSet{rs("old", time.Hour, 4, 4, 4)}, rs("new", 0, 1, 1, 0), ""},
		{"one new available frees one old", deploy(4, "1", "0"), []*appsv1.ReplicaSet{rs("old", time.Hour, 4, 4, 4)}, rs("new", 0, 1, 1, 1), "old=3"},
		{"unavailability budget", deploy(4, "0", "2"), []*appsv1.ReplicaSet{rs("old", time.Hour, 4, 4, 4)}, rs("new", 0, 0, 0, 0), "old=2"},
		{"unhealthy old pods go first, within the budget", deploy(4, "0", "1"),
			[]*appsv1.ReplicaSet{rs("older", 2*time.Hour, 2, 2, 0), rs("old", time.Hour, 2, 2, 2)}, rs("new", 0, 0, 0, 0), "older=1"},
		{"unhealthy old pods go first, oldest set first", deploy(4, "0", "2"),
			[]*appsv1.ReplicaSet{rs("older", 2*time.Hour, 2, 2, 0), rs("old", time.Hour, 2, 2, 2)}, rs("new", 0, 0, 0, 0), "older=0"},
		{"stale available count of a shrinking set is not trusted", deploy(4, "1", "0"),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 2, 3, 3)}, rs("new", 0, 2, 2, 2), ""},
		{"nothing old", deploy(4, "1", "0"), nil, rs("new", 0, 4, 4, 4), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(planOldReplicaSets(tt.d, tt.old, tt.newRS)); got != tt.want {
				t.Fatalf("planOldReplicaSets = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlanScale(t *testing.T) {
	maxAnn := func(r *appsv1.ReplicaSet, n string) *appsv1.ReplicaSet {
		return annotated(r, MaxReplicasAnnotation, n, DesiredReplicasAnnotation, "10")
	}
	tests := []struct {
		name  string
		d     *appsv1.Deployment
		newRS *appsv1.ReplicaSet
		old   []*appsv1.ReplicaSet
		want  string
	}{
		{"lone active set takes the size", deploy(5, "1", "0"), rs("new", 0, 3, 3, 3), []*appsv1.ReplicaSet{rs("old", time.Hour, 0, 0, 0)}, "new=5"},
		{"latest set when none is active", deploy(2, "1", "0"), nil, []*appsv1.ReplicaSet{rs("a", 2*time.Hour, 0, 0, 0), rs("b", time.Hour, 0, 0, 0)}, "b=2"},
		{"unchanged", deploy(3, "1", "0"), rs("new", 0, 3, 3, 3), nil, ""},
		{"saturated new set zeroes old ones", deploy(3, "1", "0"), annotated(rs("new", 0, 3, 3, 3), DesiredReplicasAnnotation, "3"),
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 1, 1, 1)}, "old=0"},
		{"proportional up", deploy(20, "3", "0"), maxAnn(rs("new", 0, 3, 3, 0), "13"), []*appsv1.ReplicaSet{maxAnn(rs("old", time.Hour, 10, 10, 10), "13")}, "old=18 new=5"},
		{"proportional down", deploy(5, "3", "0"), maxAnn(rs("new", 0, 3, 3, 0), "13"), []*appsv1.ReplicaSet{maxAnn(rs("old", time.Hour, 10, 10, 10), "13")}, "old=6 new=2"},
		{"to zero", deploy(0, "3", "0"), maxAnn(rs("new", 0, 3, 3, 0), "13"), []*appsv1.ReplicaSet{maxAnn(rs("old", time.Hour, 10, 10, 10), "13")}, "old=0 new=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(planScale(tt.d, tt.newRS, tt.old)); got != tt.want {
				t.Fatalf("planScale = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindNewAndOld(t *testing.T) {
	d := deploy(1, "1", "0")
	match := func(name string, age time.Duration) *appsv1.ReplicaSet {
		r := rs(name, age, 1, 1, 1)
		r.Spec.Template = *d.Spec.Template.DeepCopy()
		r.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "h-" + name
		return r
	}
	other := rs("other", 3*time.Hour, 1, 1, 1)
	rss := []*appsv1.ReplicaSet{match("young", time.Minute), other, match("elder", time.Hour)}
	if n := findNewReplicaSet(d, rss); n == nil || n.Name != "elder" {
		t.Fatalf("new = %v, want the oldest matching set", n)
	}
	if old := findOldReplicaSets(d, rss); len(old) != 2 {
		t.Fatalf("old = %d sets, want 2", len(old))
	}
}

func TestComputeHash(t *testing.T) {
	d := deploy(1, "1", "0")
	a, b := computeHash(&d.Spec.Template, nil), computeHash(d.Spec.Template.DeepCopy(), nil)
	if a != b || a == "" {
		t.Fatalf("hash not stable: %q vs %q", a, b)
	}
	one := int32(1)
	if computeHash(&d.Spec.Template, &one) == a {
		t.Fatalf("collision count must change the hash")
	}
	d.Spec.Template.Spec.Containers[0].Image = "img:2"
	if computeHash(&d.Spec.Template, nil) == a {
		t.Fatalf("a different template must hash differently")
	}
	if strings.ContainsAny(a, "aeiou") {
		t.Fatalf("hash %q contains vowels", a)
	}
	labelled := d.Spec.Template.DeepCopy()
	labelled.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "x"
	if !equalIgnoreHash(labelled, &d.Spec.Template) {
		t.Fatalf("equalIgnoreHash must ignore pod-template-hash")
	}
}

func TestSetNewReplicaSetAnnotations(t *testing.T) {
	d := deploy(3, "1", "0")
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "v2", RevisionAnnotation: "9",
		corev1.LastAppliedConfigAnnotation: "{}"}
	fresh := rs("new", 0, 0, 0, 0)
	if !setNewReplicaSetAnnotations(d, fresh, "1", false) {
		t.Fatalf("no change reported")
	}
	want := map[string]string{"kubernetes.io/change-cause": "v2", RevisionAnnotation: "1", DesiredReplicasAnnotation: "3", MaxReplicasAnnotation: "4"}
	if fmt.Sprint(fresh.Annotations) != fmt.Sprint(want) {
		t.Fatalf("annotations = %v, want %v", fresh.Annotations, want)
	}
	// Rolling back to revision 1 when the latest is 2.
	if !setNewReplicaSetAnnotations(d, fresh, "3", true) || fresh.Annotations[RevisionAnnotation] != "3" || fresh.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Fatalf("after rollback: %v", fresh.Annotations)
	}
	setNewReplicaSetAnnotations(d, fresh, "5", true)
	if fresh.Annotations[RevisionHistoryAnnotation] != "1,3" {
		t.Fatalf("history = %q", fresh.Annotations[RevisionHistoryAnnotation])
	}
	if setNewReplicaSetAnnotations(d, fresh, "4", true) {
		t.Fatalf("a lower revision must not change anything")
	}
	long := strings.Repeat("12345,", 400) + "1"
	if got := appendRevisionHistory(long, "99"); len(got) > maxRevisionHistoryChars || !strings.HasSuffix(got, ",99") {
		t.Fatalf("history not bounded: %d chars", len(got))
	}
}

func TestCleanupCandidates(t *testing.T) {
	d := deploy(1, "1", "0")
	two := int32(2)
	d.Spec.RevisionHistoryLimit = &two
	rev := func(r *appsv1.ReplicaSet, n string) *appsv1.ReplicaSet { return annotated(r, RevisionAnnotation, n) }
	busy := rev(rs("busy", 5*time.Hour, 0, 1, 0), "1")
	old := []*appsv1.ReplicaSet{rev(rs("r3", time.Hour, 0, 0, 0), "3"), busy, rev(rs("r2", 4*time.Hour, 0, 0, 0), "2"),
		rev(rs("r4", time.Minute, 0, 0, 0), "4")}
	var names []string
	for _, r := range cleanupCandidates(d, old) {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "r2" {
		t.Fatalf("candidates = %v; want r2 (busy still has a pod)", names)
	}
	d.Spec.RevisionHistoryLimit = nil
	if len(cleanupCandidates(d, old)) != 0 {
		t.Fatalf("no limit, no cleanup")
	}
}

func TestRolloutStatus(t *testing.T) {
	d := deploy(3, "1", "0")
	deadline := int32(60)
	d.Spec.ProgressDeadlineSeconds = &deadline
	d.Generation = 2
	newRS := rs("web-new", 0, 3, 3, 3)
	progressing := func(reason string, updated time.Time) []appsv1.DeploymentCondition {
		return []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: reason,
			LastUpdateTime: metav1.NewTime(updated), LastTransitionTime: metav1.NewTime(updated)}}
	}
	tests := []struct {
		name       string
		status     appsv1.DeploymentStatus
		rss        []*appsv1.ReplicaSet
		wantReason string
		wantMsg    string
		available  corev1.ConditionStatus
	}{
		{"complete", appsv1.DeploymentStatus{Conditions: progressing(ReasonReplicaSetUpdated, t0)}, []*appsv1.ReplicaSet{newRS},
			ReasonNewRSAvailable, `ReplicaSet "web-new" has successfully progressed.`, corev1.ConditionTrue},
		{"progress", appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3, Conditions: progressing(ReasonNewReplicaSetCreated, t0)},
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 2, 2, 2), rs("web-new", 0, 2, 2, 1)},
			ReasonReplicaSetUpdated, `ReplicaSet "web-new" is progressing.`, corev1.ConditionTrue},
		{"stuck past the deadline", appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3, Conditions: progressing(ReasonReplicaSetUpdated, t0.Add(-2*time.Minute))},
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3, 3), rs("web-new", 0, 1, 1, 0)},
			ReasonTimedOut, `ReplicaSet "web-new" has timed out progressing.`, corev1.ConditionTrue},
		{"stuck within the deadline", appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3, Conditions: progressing(ReasonReplicaSetUpdated, t0.Add(-time.Second))},
			[]*appsv1.ReplicaSet{rs("old", time.Hour, 3, 3, 3), rs("web-new", 0, 1, 1, 0)},
			ReasonReplicaSetUpdated, "", corev1.ConditionTrue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := d.DeepCopy()
			d.Status = tt.status
			newRS := tt.rss[len(tt.rss)-1]
			st := rolloutStatus(d, tt.rss, newRS, t0)
			c := getCondition(st, appsv1.DeploymentProgressing)
			if c == nil || c.Reason != tt.wantReason || (tt.wantMsg != "" && c.Message != tt.wantMsg) {
				t.Fatalf("Progressing = %+v, want %s %q", c, tt.wantReason, tt.wantMsg)
			}
			if a := getCondition(st, appsv1.DeploymentAvailable); a == nil || a.Status != tt.available {
				t.Fatalf("Available = %+v, want %s", a, tt.available)
			}
			if st.ObservedGeneration != 2 {
				t.Fatalf("observedGeneration = %d", st.ObservedGeneration)
			}
		})
	}
}

func TestRecheckIn(t *testing.T) {
	d := deploy(3, "1", "0")
	deadline := int32(60)
	d.Spec.ProgressDeadlineSeconds = &deadline
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: ReasonReplicaSetUpdated,
		LastUpdateTime: metav1.NewTime(t0.Add(-20 * time.Second))}}
	st := d.Status
	if after, ok := recheckIn(d, &st, t0); !ok || after != 40*time.Second {
		t.Fatalf("recheckIn = %v, %v; want 40s", after, ok)
	}
	d.Status.Conditions[0].Reason = ReasonTimedOut
	if _, ok := recheckIn(d, &st, t0); ok {
		t.Fatalf("a timed-out rollout needs no recheck")
	}
}

func TestPausedCondition(t *testing.T) {
	deadline := int32(600)
	tests := []struct {
		name   string
		paused bool
		cur    string
		want   string // "" for no change
	}{
		{"pause", true, ReasonNewRSAvailable, ReasonPaused},
		{"already paused", true, ReasonPaused, ""},
		{"resume", false, ReasonPaused, ReasonResumed},
		{"running", false, ReasonNewRSAvailable, ""},
		{"timed out stays", true, ReasonTimedOut, ""},
	}
	for _, tt := range tests {
		d := deploy(1, "1", "0")
		d.Spec.ProgressDeadlineSeconds = &deadline
		d.Spec.Paused = tt.paused
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: tt.cur}}
		c, ok := pausedCondition(d, t0)
		if got := map[bool]string{true: c.Reason, false: ""}[ok]; got != tt.want {
			t.Errorf("%s: pausedCondition reason %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSetCondition(t *testing.T) {
	st := &appsv1.DeploymentStatus{}
	setCondition(st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "m", t0))
	setCondition(st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "m", t0.Add(time.Hour)))
	if len(st.Conditions) != 1 || !st.Conditions[0].LastUpdateTime.Time.Equal(t0) {
		t.Fatalf("same status and reason must not update: %+v", st.Conditions)
	}
	setCondition(st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "Other", "m", t0.Add(time.Hour)))
	if c := st.Conditions[0]; c.Reason != "Other" || !c.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("same status keeps its transition time: %+v", c)
	}
}

func TestClassify(t *testing.T) {
	d := deploy(1, "1", "0")
	sel, _ := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	mk := func(app string, owner types.UID) *appsv1.ReplicaSet {
		r := rs("x", 0, 1, 1, 1)
		r.Labels = map[string]string{"app": app}
		if owner != "" {
			yes := true
			r.OwnerReferences = []metav1.OwnerReference{{UID: owner, Controller: &yes, Kind: "Deployment", Name: "n"}}
		}
		return r
	}
	tests := []struct {
		rs   *appsv1.ReplicaSet
		want controller.Claim
	}{
		{mk("web", "d-uid"), controller.ClaimKeep}, {mk("db", "d-uid"), controller.ClaimRelease}, {mk("web", ""), controller.ClaimAdopt},
		{mk("web", "other"), controller.ClaimIgnore}, {mk("db", ""), controller.ClaimIgnore},
	}
	for i, tt := range tests {
		if got := controller.ClaimOf(d.UID, false, sel, tt.rs); got != tt.want {
			t.Errorf("case %d: classify = %v, want %v", i, got, tt.want)
		}
	}
}

func TestReplicaFailure(t *testing.T) {
	failing := rs("old", time.Hour, 1, 0, 0)
	failing.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
		Reason: "FailedCreate", Message: "pods \"x\" is forbidden: exceeded quota"}}
	healthy := rs("new", 0, 1, 1, 1)
	d := deploy(2, "1", "0")
	st := rolloutStatus(d, []*appsv1.ReplicaSet{failing, healthy}, healthy, t0)
	c := getCondition(st, appsv1.DeploymentReplicaFailure)
	if c == nil || c.Reason != "FailedCreate" || c.Status != corev1.ConditionTrue {
		t.Fatalf("ReplicaFailure = %+v", c)
	}
	d.Status = st
	if st := rolloutStatus(d, []*appsv1.ReplicaSet{healthy}, healthy, t0); getCondition(st, appsv1.DeploymentReplicaFailure) != nil {
		t.Fatalf("ReplicaFailure must go once no replica set fails")
	}
	if getCondition(st, appsv1.DeploymentProgressing) != nil {
		t.Fatalf("without a progress deadline there is no Progressing condition")
	}
}
