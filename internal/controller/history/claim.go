package history

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
)

// Claimer applies ClaimOf to a controller's candidate dependents (pods or
// revisions of one namespace) and writes the adoptions and releases.
type Claimer[T metav1.Object] struct {
	Owner    metav1.Object
	Kind     schema.GroupVersionKind
	Selector labels.Selector
	// Recheck confirms with a live read, before the first adoption, that
	// the owner still exists with the same UID and is not being deleted, so
	// that a stale cache does not adopt for a deleted owner.
	Recheck func(ctx context.Context) error
	// Copy deep-copies a cached dependent; Update writes a changed one.
	Copy   func(T) T
	Update func(ctx context.Context, obj T) (T, error)
}

// Claim returns the dependents the owner controls after adopting matching
// orphans and releasing non-matching ones. A dependent that vanished or
// changed meanwhile is skipped; other write errors are returned along with
// what was claimed.
func (c Claimer[T]) Claim(ctx context.Context, objs []T) ([]T, error) {
	var owned []T
	var errs []error
	checked := false
	for _, obj := range objs {
		switch ClaimOf(obj, c.Owner, c.Selector) {
		case Owned:
			owned = append(owned, obj)
		case Adopt:
			if !checked {
				if err := c.Recheck(ctx); err != nil {
					return owned, fmt.Errorf("cannot adopt for %s: %w", c.Owner.GetName(), err)
				}
				checked = true
			}
			next := c.Copy(obj)
			SetControllerRef(next, *metav1.NewControllerRef(c.Owner, c.Kind))
			updated, err := c.Update(ctx, next)
			switch {
			case err == nil:
				owned = append(owned, updated)
			case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			default:
				errs = append(errs, fmt.Errorf("adopting %s: %w", obj.GetName(), err))
			}
		case Release:
			next := c.Copy(obj)
			RemoveOwnerRef(next, c.Owner.GetUID())
			if _, err := c.Update(ctx, next); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("releasing %s: %w", obj.GetName(), err))
			}
		}
	}
	return owned, errors.Join(errs...)
}

// RecheckOwner returns a Claimer.Recheck that reads the owner with get.
func RecheckOwner(owner metav1.Object, get func(ctx context.Context) (metav1.Object, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return err
		}
		if fresh.GetUID() != owner.GetUID() {
			return fmt.Errorf("original %s is gone: got uid %s, wanted %s", owner.GetName(), fresh.GetUID(), owner.GetUID())
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s is being deleted", owner.GetName())
		}
		return nil
	}
}

// PodClaimer returns the Claimer of an owner's pods, writing through client.
func PodClaimer(client kubernetes.Interface, owner metav1.Object, kind schema.GroupVersionKind, sel labels.Selector, recheck func(context.Context) error) Claimer[*corev1.Pod] {
	api := client.CoreV1().Pods(owner.GetNamespace())
	return Claimer[*corev1.Pod]{
		Owner: owner, Kind: kind, Selector: sel, Recheck: recheck,
		Copy: (*corev1.Pod).DeepCopy,
		Update: func(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
			return api.Update(ctx, p, metav1.UpdateOptions{})
		},
	}
}

// ClaimRevisions adopts and releases the ControllerRevisions of the
// owner's namespace and returns those it owns, oldest first.
func ClaimRevisions(ctx context.Context, client kubernetes.Interface, lister appslisters.ControllerRevisionLister, owner metav1.Object, kind schema.GroupVersionKind, sel labels.Selector, recheck func(context.Context) error) ([]*appsv1.ControllerRevision, error) {
	revs, err := lister.ControllerRevisions(owner.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing controller revisions: %w", err)
	}
	api := client.AppsV1().ControllerRevisions(owner.GetNamespace())
	owned, err := Claimer[*appsv1.ControllerRevision]{
		Owner: owner, Kind: kind, Selector: sel, Recheck: recheck,
		Copy: (*appsv1.ControllerRevision).DeepCopy,
		Update: func(ctx context.Context, r *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
			return api.Update(ctx, r, metav1.UpdateOptions{})
		},
	}.Claim(ctx, revs)
	Sort(owned)
	return owned, err
}
