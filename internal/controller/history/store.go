package history

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// maxCollisions bounds the attempts to find a free revision name.
const maxCollisions = 100

// Record makes sure a revision of owner holds data (the owner's current
// template, from TemplatePatch) and returns it. revs are the owner's
// revisions sorted by Sort. A revision already holding data is reused,
// and renumbered to be the newest if it is not (a rollback); otherwise a
// new one is created. collisionCount is the owner's status.collisionCount:
// it is incremented when a different revision already has the name, and
// the caller must persist it in the owner's status.
func Record(ctx context.Context, client kubernetes.Interface, owner metav1.Object, gvk schema.GroupVersionKind,
	templateLabels map[string]string, data []byte, revs []*appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	next := NextRevision(revs)
	want := New(owner, gvk, templateLabels, data, next, collisionCount)
	choice := Choose(revs, want)
	api := client.AppsV1().ControllerRevisions(owner.GetNamespace())
	switch {
	case choice.Existing != nil && !choice.Renumber:
		return choice.Existing, nil
	case choice.Existing != nil:
		rev := choice.Existing.DeepCopy()
		rev.Revision = next
		updated, err := api.Update(ctx, rev, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("renumbering controller revision %s: %w", rev.Name, err)
		}
		return updated, nil
	}
	for i := 0; i < maxCollisions; i++ {
		want = New(owner, gvk, templateLabels, data, next, collisionCount)
		created, err := api.Create(ctx, want, metav1.CreateOptions{})
		if err == nil {
			return created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating controller revision %s: %w", want.Name, err)
		}
		existing, err := api.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading controller revision %s: %w", want.Name, err)
		}
		if Equal(existing, want) && (metav1.GetControllerOfNoCopy(existing) == nil || metav1.IsControlledBy(existing, owner)) {
			return existing, nil
		}
		if collisionCount == nil {
			return nil, fmt.Errorf("controller revision %s exists with other data", want.Name)
		}
		*collisionCount++
	}
	return nil, fmt.Errorf("no free controller revision name for %s after %d collisions", owner.GetName(), maxCollisions)
}

// Delete removes revisions, ignoring ones already gone.
func Delete(ctx context.Context, client kubernetes.Interface, revs []*appsv1.ControllerRevision) error {
	for _, r := range revs {
		err := client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &r.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting controller revision %s: %w", r.Name, err)
		}
	}
	return nil
}
