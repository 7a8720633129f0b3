package statefulset

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func webSet(replicas int32, mutate ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "set-uid"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: "nginx",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "web:2"}}},
			},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
	for _, m := range mutate {
		m(set)
	}
	return set
}

func parallel(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }
func onDelete(s *appsv1.StatefulSet) {
	s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
}
func partition(p int32) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) {
		s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &p}
	}
}
func maxUnavailable(n int) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) {
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		v := intstr.FromInt(n)
		s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &v
	}
}
func withClaims(s *appsv1.StatefulSet) {
	s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "www"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}}
}
func startAt(n int32) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: n} }
}

// spod is pod ordinal of set web at revision rev; state is "ready",
// "pending", "running" (not ready), "failed" or "terminating".
func spod(ord int, rev, state string) *corev1.Pod {
	set := webSet(1)
	tmpl := set.Spec.Template
	p := newPod(set, &tmpl, ord, rev)
	p.UID = types.UID("uid-" + p.Name)
	switch state {
	case "ready":
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}}
	case "pending":
		p.Status.Phase = corev1.PodPending
	case "running":
		p.Status.Phase = corev1.PodRunning
	case "failed":
		p.Status.Phase = corev1.PodFailed
	case "terminating":
		p.Status.Phase = corev1.PodRunning
		ts := metav1.NewTime(t0)
		p.DeletionTimestamp = &ts
	}
	return p
}

func stateOf(set *appsv1.StatefulSet, pods ...*corev1.Pod) state {
	s := state{set: set, current: &set.Spec.Template, update: &set.Spec.Template, currentRev: "web-1", updateRev: "web-2",
		pods: map[int]*corev1.Pod{}, claims: map[string]*corev1.PersistentVolumeClaim{}, now: t0.Add(time.Hour)}
	for _, p := range pods {
		ord, _ := memberOrdinal(set, p)
		s.pods[ord] = p
	}
	return s
}

func describe(p plan) string {
	names := map[stepKind]string{createPod: "create", deletePod: "delete", recreatePod: "recreate", fixIdentity: "fix",
		createClaims: "claims", fixClaims: "fixclaims"}
	var out []string
	for _, s := range p.steps {
		d := names[s.kind] + " " + s.pod.Name
		if s.kind == createPod {
			d += "@" + revisionOf(s.pod)
		}
		out = append(out, d)
	}
	return strings.Join(out, ", ")
}

func TestPlanSync(t *testing.T) {
	tests := []struct {
		name string
		set  *appsv1.StatefulSet
		pods []*corev1.Pod
		want string
	}{
		{"ordered: first pod", webSet(3), nil, "create web-0@web-2"},
		{"ordered: wait for web-0 to be ready", webSet(3), []*corev1.Pod{spod(0, "web-2", "pending")}, ""},
		{"ordered: running but not ready", webSet(3), []*corev1.Pod{spod(0, "web-2", "running")}, ""},
		{"ordered: next pod once ready", webSet(3), []*corev1.Pod{spod(0, "web-2", "ready")}, "create web-1@web-2"},
		{"ordered: a gap is filled first", webSet(3), []*corev1.Pod{spod(0, "web-2", "ready"), spod(2, "web-2", "ready")}, "create web-1@web-2"},
		{"parallel: all at once", webSet(3, parallel), []*corev1.Pod{spod(0, "web-2", "pending")}, "create web-1@web-2, create web-2@web-2"},
		{"start ordinal", webSet(2, startAt(5)), []*corev1.Pod{spod(5, "web-2", "ready")}, "create web-6@web-2"},
		{"ordered scale down: highest first", webSet(1),
			[]*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "ready"), spod(2, "web-2", "ready")}, "delete web-2"},
		{"ordered scale down waits for termination", webSet(1),
			[]*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "ready"), spod(2, "web-2", "terminating")}, ""},
		{"ordered scale down: a healthy pod goes before an unhealthy one below", webSet(1),
			[]*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "running"), spod(2, "web-2", "ready")}, "delete web-2"},
		{"ordered scale down: an unhealthy pod above the first unhealthy one blocks", webSet(1),
			[]*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "running"), spod(2, "web-2", "running")}, ""},
		{"ordered scale down: the first unhealthy pod may go", webSet(1),
			[]*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "running")}, "delete web-1"},
		{"ordered scale down: a not-ready replica blocks", webSet(1),
			[]*corev1.Pod{spod(0, "web-2", "running"), spod(1, "web-2", "ready")}, ""},
		{"parallel scale down", webSet(1, parallel),
			[]*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "ready"), spod(2, "web-2", "running")}, "delete web-2, delete web-1"},
		{"failed pod is recreated", webSet(2), []*corev1.Pod{spod(0, "web-2", "failed"), spod(1, "web-2", "ready")}, "recreate web-0"},
		{"rolling update from the top", webSet(3),
			[]*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready"), spod(2, "web-1", "ready")}, "delete web-2"},
		{"rolling update continues down", webSet(3),
			[]*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready"), spod(2, "web-2", "ready")}, "delete web-1"},
		{"rolling update waits for the new pod", webSet(3, parallel),
			[]*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready"), spod(2, "web-2", "running")}, ""},
		{"partition stops the update", webSet(3, partition(2)),
			[]*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready"), spod(2, "web-2", "ready")}, ""},
		{"below the partition pods are made at the current revision", webSet(3, partition(2)),
			[]*corev1.Pod{spod(1, "web-1", "ready"), spod(2, "web-2", "ready")}, "create web-0@web-1"},
		{"maxUnavailable 2", webSet(3, parallel, maxUnavailable(2)),
			[]*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready"), spod(2, "web-1", "ready")}, "delete web-2, delete web-1"},
		{"an unavailable old pod may always go", webSet(3, parallel),
			[]*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready"), spod(2, "web-1", "running")}, "delete web-2"},
		{"OnDelete never replaces", webSet(2, onDelete), []*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-1", "ready")}, ""},
		{"OnDelete creates at the update revision", webSet(2, onDelete), []*corev1.Pod{spod(0, "web-1", "ready")}, "create web-1@web-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(planSync(stateOf(tt.set, tt.pods...))); got != tt.want {
				t.Errorf("plan = %q\nwant   %q", got, tt.want)
			}
		})
	}
}

func TestPlanIdentityAndClaims(t *testing.T) {
	set := webSet(2, withClaims)
	s := stateOf(set)
	p := planSync(s)
	if len(p.steps) != 1 || len(p.steps[0].claims) != 1 {
		t.Fatalf("plan = %+v, want one pod creation with one claim", p.steps)
	}
	pod, claim := p.steps[0].pod, p.steps[0].claims[0]
	if pod.Name != "web-0" || pod.Spec.Hostname != "web-0" || pod.Spec.Subdomain != "nginx" {
		t.Errorf("pod name %s hostname %s subdomain %s", pod.Name, pod.Spec.Hostname, pod.Spec.Subdomain)
	}
	wantLabels := map[string]string{"app": "web", "statefulset.kubernetes.io/pod-name": "web-0", "apps.kubernetes.io/pod-index": "0", "controller-revision-hash": "web-2"}
	if !reflect.DeepEqual(pod.Labels, wantLabels) {
		t.Errorf("pod labels %v, want %v", pod.Labels, wantLabels)
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "www-web-0" {
		t.Errorf("pod volumes %+v", pod.Spec.Volumes)
	}
	if claim.Name != "www-web-0" || claim.Labels["app"] != "web" || len(claim.OwnerReferences) != 0 {
		t.Errorf("claim %s labels %v owners %v", claim.Name, claim.Labels, claim.OwnerReferences)
	}

	// An existing claim is reused; a claim being deleted blocks its pod.
	s.claims["www-web-0"] = claim
	if p := planSync(s); len(p.steps) != 1 || len(p.steps[0].claims) != 0 {
		t.Errorf("plan with claim present = %+v, want the pod only", p.steps)
	}
	gone := claim.DeepCopy()
	ts := metav1.NewTime(t0)
	gone.DeletionTimestamp = &ts
	s.claims["www-web-0"] = gone
	if p := planSync(s); len(p.steps) != 0 || p.wait != claimRecheck {
		t.Errorf("plan with terminating claim = %+v (wait %v), want nothing until rechecked", p.steps, p.wait)
	}

	// Lost identity labels are restored.
	bare := spod(0, "web-2", "ready")
	delete(bare.Labels, appsv1.PodIndexLabel)
	if got := describe(planSync(stateOf(webSet(1), bare))); got != "fix web-0" {
		t.Errorf("plan = %q, want the identity fixed", got)
	}
}

func TestSetClaimRefs(t *testing.T) {
	set := webSet(1)
	pod := spod(1, "web-2", "ready")
	tests := []struct {
		whenDeleted, whenScaled string
		inRange                 bool
		want                    string // owner kinds, controller marked with *
	}{
		{"Retain", "Retain", true, ""},
		{"Retain", "Retain", false, ""},
		{"Delete", "Retain", true, "*StatefulSet"},
		{"Delete", "Retain", false, "*StatefulSet"},
		{"Retain", "Delete", true, ""},
		{"Retain", "Delete", false, "*Pod"},
		{"Delete", "Delete", true, "*StatefulSet"},
		{"Delete", "Delete", false, "*Pod"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%v", tt.whenDeleted, tt.whenScaled, tt.inRange), func(t *testing.T) {
			set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.PersistentVolumeClaimRetentionPolicyType(tt.whenDeleted),
				WhenScaled:  appsv1.PersistentVolumeClaimRetentionPolicyType(tt.whenScaled)}
			// Start from the opposite state so that every transition is exercised.
			claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "www-web-1"}}
			setClaimRefs(claim, set, pod, !tt.inRange)
			setClaimRefs(claim, set, pod, tt.inRange)
			var got []string
			for _, r := range claim.OwnerReferences {
				k := r.Kind
				if r.Controller != nil && *r.Controller {
					k = "*" + k
				}
				got = append(got, k)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("owners = %v, want %q", got, tt.want)
			}
			if setClaimRefs(claim, set, pod, tt.inRange) {
				t.Errorf("second call changed the claim")
			}
		})
	}
}

func TestComputeStatus(t *testing.T) {
	set := webSet(3)
	set.Generation = 7
	pods := []*corev1.Pod{spod(0, "web-1", "ready"), spod(1, "web-2", "ready"), spod(2, "web-2", "running")}
	st, _ := computeStatus(set, pods, "web-1", "web-2", nil, t0.Add(time.Hour))
	want := appsv1.StatefulSetStatus{ObservedGeneration: 7, Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2,
		CurrentReplicas: 1, UpdatedReplicas: 2, CurrentRevision: "web-1", UpdateRevision: "web-2"}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status = %+v\nwant     %+v", st, want)
	}
	// Complete: every pod updated and ready.
	pods = []*corev1.Pod{spod(0, "web-2", "ready"), spod(1, "web-2", "ready")}
	st, _ = computeStatus(set, pods, "web-1", "web-2", nil, t0.Add(time.Hour))
	if st.CurrentRevision != "web-2" || st.CurrentReplicas != 2 {
		t.Errorf("completed rollout: current %s x%d, want web-2 x2", st.CurrentRevision, st.CurrentReplicas)
	}
	// minReadySeconds: ready but not yet available.
	set.Spec.MinReadySeconds = 60
	fresh := spod(0, "web-2", "ready")
	fresh.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(time.Hour - 20*time.Second))
	st, requeue := computeStatus(set, []*corev1.Pod{fresh}, "web-2", "web-2", nil, t0.Add(time.Hour))
	if st.AvailableReplicas != 0 || requeue != 40*time.Second {
		t.Errorf("available %d requeue %v, want 0 and 40s", st.AvailableReplicas, requeue)
	}
}

func TestParseName(t *testing.T) {
	for name, want := range map[string]string{"web-0": "web/0", "my-web-12": "my-web/12", "web": "", "web-x": ""} {
		parent, ord, ok := parseName(name)
		got := ""
		if ok {
			got = fmt.Sprintf("%s/%d", parent, ord)
		}
		if got != want {
			t.Errorf("parseName(%q) = %q, want %q", name, got, want)
		}
	}
}
