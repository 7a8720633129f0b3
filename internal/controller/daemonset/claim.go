package daemonset

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// recheck confirms, with a live read, that ds may still adopt.
func (c *Controller) recheck(ds *appsv1.DaemonSet) func(context.Context) error {
	return history.RecheckOwner(ds, func(ctx context.Context) (metav1.Object, error) {
		return c.cfg.Client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	})
}

// claimPods returns the pods ds controls, adopting and releasing as needed.
func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) ([]*corev1.Pod, error) {
	pods, err := c.pods.Pods(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	api := c.cfg.Client.CoreV1().Pods(ds.Namespace)
	return history.Claimer[*corev1.Pod]{
		Owner: ds, Kind: controllerKind, Selector: sel, Recheck: c.recheck(ds),
		Copy: (*corev1.Pod).DeepCopy,
		Update: func(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
			return api.Update(ctx, p, metav1.UpdateOptions{})
		},
	}.Claim(ctx, pods)
}

// claimRevisions returns ds's controller revisions sorted oldest first,
// adopting and releasing as needed.
func (c *Controller) claimRevisions(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) ([]*appsv1.ControllerRevision, error) {
	revs, err := c.revisions.ControllerRevisions(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing controller revisions: %w", err)
	}
	api := c.cfg.Client.AppsV1().ControllerRevisions(ds.Namespace)
	owned, err := history.Claimer[*appsv1.ControllerRevision]{
		Owner: ds, Kind: controllerKind, Selector: sel, Recheck: c.recheck(ds),
		Copy: (*appsv1.ControllerRevision).DeepCopy,
		Update: func(ctx context.Context, r *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
			return api.Update(ctx, r, metav1.UpdateOptions{})
		},
	}.Claim(ctx, revs)
	history.Sort(owned)
	return owned, err
}
