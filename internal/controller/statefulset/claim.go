package statefulset

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// recheck confirms, with a live read, that set may still adopt.
func (c *Controller) recheck(set *appsv1.StatefulSet) func(context.Context) error {
	return history.RecheckOwner(set, func(ctx context.Context) (metav1.Object, error) {
		return c.cfg.Client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	})
}

// claimPods returns the pods set controls, adopting and releasing as
// needed; only pods named as the set's members are considered.
func (c *Controller) claimPods(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(set.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	var members []*corev1.Pod
	for _, pod := range all {
		if _, ok := memberOrdinal(set, pod); ok {
			members = append(members, pod)
		}
	}
	return history.PodClaimer(c.cfg.Client, set, controllerKind, sel, c.recheck(set)).Claim(ctx, members)
}

// claimRevisions returns set's controller revisions sorted oldest first,
// adopting and releasing as needed.
func (c *Controller) claimRevisions(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*appsv1.ControllerRevision, error) {
	return history.ClaimRevisions(ctx, c.cfg.Client, c.revisions, set, controllerKind, sel, c.recheck(set))
}
