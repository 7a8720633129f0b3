package history

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRecord(t *testing.T) {
	ctx := context.Background()
	gvk := appsv1.SchemeGroupVersion.WithKind("StatefulSet")
	owner := set("nginx:1")
	data1, _ := TemplatePatch(owner)
	data2, _ := TemplatePatch(set("nginx:2"))

	// A revision of someone else squats on the name revision 1 would take.
	var zero int32
	squatter := New(owner, gvk, nil, data2, 1, nil)
	squatter.Name = New(owner, gvk, nil, data1, 1, &zero).Name
	squatter.OwnerReferences = nil
	client := fake.NewSimpleClientset(squatter)
	var collisions int32
	r1, err := Record(ctx, client, owner, gvk, nil, data1, nil, &collisions)
	if err != nil {
		t.Fatal(err)
	}
	if collisions != 1 || r1.Name == squatter.Name || r1.Revision != 1 {
		t.Errorf("after a collision: %s #%d, collisions %d", r1.Name, r1.Revision, collisions)
	}
	// Recording the same template again reuses it.
	again, err := Record(ctx, client, owner, gvk, nil, data1, []*appsv1.ControllerRevision{r1}, &collisions)
	if err != nil || again.Name != r1.Name {
		t.Errorf("re-record: %v, %v", again, err)
	}
	r2, err := Record(ctx, client, owner, gvk, nil, data2, []*appsv1.ControllerRevision{r1}, &collisions)
	if err != nil || r2.Revision != 2 {
		t.Fatalf("second template: %v, %v", r2, err)
	}
	// Rolling back renumbers the old revision.
	back, err := Record(ctx, client, owner, gvk, nil, data1, []*appsv1.ControllerRevision{r1, r2}, &collisions)
	if err != nil || back.Name != r1.Name || back.Revision != 3 {
		t.Errorf("rollback: %v, %v", back, err)
	}
	if err := Delete(ctx, client, []*appsv1.ControllerRevision{r2, r2}); err != nil {
		t.Errorf("Delete: %v", err)
	}
	list, _ := client.AppsV1().ControllerRevisions("ns").List(ctx, metav1.ListOptions{})
	if len(list.Items) != 2 {
		t.Errorf("%d revisions left, want the squatter and r1", len(list.Items))
	}
}
