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
	return history.PodClaimer(c.cfg.Client, ds, controllerKind, sel, c.recheck(ds)).Claim(ctx, pods)
}

// claimRevisions returns ds's controller revisions sorted oldest first,
// adopting and releasing as needed.
func (c *Controller) claimRevisions(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) ([]*appsv1.ControllerRevision, error) {
	return history.ClaimRevisions(ctx, c.cfg.Client, c.revisions, ds, controllerKind, sel, c.recheck(ds))
}
