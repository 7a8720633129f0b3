package history

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

func set(image string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-web", Annotations: map[string]string{"kubernetes.io/change-cause": "why"}},
		Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
		}},
	}
}

func TestTemplatePatchRoundTrip(t *testing.T) {
	data, err := TemplatePatch(set("nginx:1"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]map[string]interface{}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 1 || len(doc["spec"]) != 1 || doc["spec"]["template"]["$patch"] != "replace" {
		t.Errorf("patch = %s, want only spec.template with $patch: replace", data)
	}
	again, _ := TemplatePatch(set("nginx:1"))
	if string(again) != string(data) {
		t.Errorf("patch not deterministic:\n%s\n%s", data, again)
	}
	rev := New(set("nginx:1"), appsv1.SchemeGroupVersion.WithKind("StatefulSet"), map[string]string{"app": "web"}, data, 1, nil)
	tmpl, err := Template(rev)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Spec.Containers[0].Image != "nginx:1" || tmpl.Labels["app"] != "web" {
		t.Errorf("template = %+v", tmpl)
	}
}

func TestNewAndHash(t *testing.T) {
	data, _ := TemplatePatch(set("nginx:1"))
	gvk := appsv1.SchemeGroupVersion.WithKind("StatefulSet")
	rev := New(set("nginx:1"), gvk, map[string]string{"app": "web"}, data, 4, nil)
	hash := rev.Labels[HashLabel]
	if rev.Name != "web-"+hash || rev.Revision != 4 || rev.Labels["app"] != "web" || rev.Namespace != "ns" {
		t.Errorf("revision %s #%d labels %v", rev.Name, rev.Revision, rev.Labels)
	}
	if rev.Annotations["kubernetes.io/change-cause"] != "why" {
		t.Errorf("annotations %v, want the owner's", rev.Annotations)
	}
	if !metav1.IsControlledBy(rev, set("")) {
		t.Errorf("owner references %+v", rev.OwnerReferences)
	}
	one := int32(1)
	if Hash(data, &one) == hash {
		t.Errorf("collision count does not change the hash")
	}
	other, _ := TemplatePatch(set("nginx:2"))
	if Hash(other, nil) == hash {
		t.Errorf("different templates share hash %s", hash)
	}
	if n := Name(strings.Repeat("x", 300), "h"); len(n) != maxPrefixLen+2 {
		t.Errorf("long name has %d characters", len(n))
	}
}

func rev(name string, number int64, data string) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name}, Revision: number, Data: runtime.RawExtension{Raw: []byte(data)}}
}

func TestChoose(t *testing.T) {
	revs := []*appsv1.ControllerRevision{rev("a", 1, `{"x":1}`), rev("b", 2, `{"x":2}`)}
	tests := []struct {
		name     string
		want     string
		existing string
		renumber bool
	}{
		{"new template", `{"x":3}`, "", false},
		{"unchanged", `{"x":2}`, "b", false},
		{"same JSON, other spacing", `{ "x" : 2 }`, "b", false},
		{"rollback", `{"x":1}`, "a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Choose(revs, rev("new", 3, tt.want))
			got := ""
			if c.Existing != nil {
				got = c.Existing.Name
			}
			if got != tt.existing || c.Renumber != tt.renumber {
				t.Errorf("Choose = (%q, %v), want (%q, %v)", got, c.Renumber, tt.existing, tt.renumber)
			}
		})
	}
	if NextRevision(revs) != 3 || NextRevision(nil) != 1 {
		t.Errorf("NextRevision wrong")
	}
}

func TestSortAndPrune(t *testing.T) {
	now := time.Now()
	r3 := rev("c", 3, "{}")
	r1 := rev("a", 1, "{}")
	r2a := rev("b2", 2, "{}")
	r2a.CreationTimestamp = metav1.NewTime(now)
	r2b := rev("b1", 2, "{}")
	r2b.CreationTimestamp = metav1.NewTime(now.Add(time.Second))
	revs := []*appsv1.ControllerRevision{r3, r2b, r1, r2a}
	Sort(revs)
	var order []string
	for _, r := range revs {
		order = append(order, r.Name)
	}
	if strings.Join(order, ",") != "a,b2,b1,c" {
		t.Errorf("sorted %v", order)
	}
	live := func(r *appsv1.ControllerRevision) bool { return r.Name == "c" || r.Name == "a" }
	tests := []struct {
		limit int
		want  string
	}{{0, "b2,b1"}, {1, "b2"}, {2, ""}, {10, ""}, {-1, "b2,b1"}}
	for _, tt := range tests {
		var got []string
		for _, r := range Prune(revs, live, tt.limit) {
			got = append(got, r.Name)
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("Prune(limit %d) = %v, want %q", tt.limit, got, tt.want)
		}
	}
}

func TestClaimOf(t *testing.T) {
	owner := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "me"}}
	deleting := owner.DeepCopy()
	now := metav1.Now()
	deleting.DeletionTimestamp = &now
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	yes := true
	obj := func(match bool, controller types.UID) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "other"}}}
		if match {
			p.Labels["app"] = "web"
		}
		if controller != "" {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "x", UID: controller, Controller: &yes}}
		}
		return p
	}
	tests := []struct {
		name  string
		obj   *corev1.Pod
		owner metav1.Object
		want  Claim
	}{
		{"owned and matching", obj(true, "me"), owner, Owned},
		{"owned, no longer matching", obj(false, "me"), owner, Release},
		{"owned, not matching, owner deleting", obj(false, "me"), deleting, Ignore},
		{"orphan matching", obj(true, ""), owner, Adopt},
		{"orphan matching, owner deleting", obj(true, ""), deleting, Ignore},
		{"orphan not matching", obj(false, ""), owner, Ignore},
		{"someone else's", obj(true, "other"), owner, Ignore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClaimOf(tt.obj, tt.owner, sel); got != tt.want {
				t.Errorf("ClaimOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOwnerRefs(t *testing.T) {
	yes := true
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{UID: "a"}, {UID: "b"}}}}
	if !SetControllerRef(p, metav1.OwnerReference{UID: "b", Controller: &yes}) || len(p.OwnerReferences) != 2 || !*p.OwnerReferences[1].Controller {
		t.Errorf("upgrading a reference to controller: %+v", p.OwnerReferences)
	}
	if SetControllerRef(p, metav1.OwnerReference{UID: "b", Controller: &yes}) {
		t.Errorf("setting the same controller twice reported a change")
	}
	if !RemoveOwnerRef(p, "a") || RemoveOwnerRef(p, "a") || len(p.OwnerReferences) != 1 || !HasOwnerRef(p, "b") {
		t.Errorf("removing: %+v", p.OwnerReferences)
	}
}

func TestExpectations(t *testing.T) {
	now := time.Now()
	e := NewExpectations(time.Minute)
	e.now = func() time.Time { return now }
	cache := map[string]metav1.Object{}
	lookup := func(name string) metav1.Object { return cache[name] }
	if !e.Satisfied("k", lookup) {
		t.Fatal("nothing expected yet")
	}
	e.ExpectCreate("k", "p1")
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p2", UID: "u2"}}
	cache["p2"] = old
	e.ExpectDelete("k", "p2", "u2")
	if e.Satisfied("k", lookup) {
		t.Fatal("satisfied before the cache shows anything")
	}
	cache["p1"] = &corev1.Pod{}
	if e.Satisfied("k", lookup) {
		t.Fatal("satisfied with p2 still cached")
	}
	terminating := old.DeepCopy()
	ts := metav1.Now()
	terminating.DeletionTimestamp = &ts
	cache["p2"] = terminating
	if !e.Satisfied("k", lookup) {
		t.Fatal("not satisfied once the cache shows both")
	}
	// Expectations expire.
	e.ExpectCreate("k", "never")
	now = now.Add(2 * time.Minute)
	if !e.Satisfied("k", lookup) {
		t.Fatal("expectation did not expire")
	}
	e.ExpectCreate("j", "never")
	e.Forget("j")
	if !e.Satisfied("j", lookup) {
		t.Fatal("Forget did not drop")
	}
}
