package deployment

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// state is one sync's working view: a private copy of the deployment and
// its replica sets, each replaced by the server's answer after every write
// so that later steps of the same sync build on what was just written.
type state struct {
	ctx context.Context
	d   *appsv1.Deployment
	rss []*appsv1.ReplicaSet
	now time.Time
}

// put records a replica set as the server returned it.
func (st *state) put(rs *appsv1.ReplicaSet) {
	for i := range st.rss {
		if st.rss[i].UID == rs.UID {
			st.rss[i] = rs
			return
		}
	}
	st.rss = append(st.rss, rs)
}

// split returns the new replica set (nil if none) and all the others.
func (st *state) split() (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	return findNewReplicaSet(st.d, st.rss), findOldReplicaSets(st.d, st.rss)
}

// Reconcile implements controller.Reconciler for a "namespace/name" key.
// A conflict means the cache is behind; the newer object's event brings
// the key back, so it is not an error.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.deployments.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	st := &state{ctx: ctx, d: cached.DeepCopy(), now: c.cfg.Now()}
	err = c.sync(st)
	if apierrors.IsConflict(err) {
		c.log.Debug("conflict; waiting for the newer object", "key", key, "err", err)
		return nil
	}
	return err
}

func (c *Controller) sync(st *state) error {
	d := st.d
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		c.log.Warn("invalid selector", "deployment", d.Namespace+"/"+d.Name, "err", err)
		return nil
	}
	if sel.Empty() {
		c.recorder.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.updateStatus(st)
		}
		return nil
	}
	if st.rss, err = c.claimReplicaSets(st, sel); err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(st)
	}
	if cond, ok := pausedCondition(d, st.now); ok {
		setCondition(&d.Status, cond)
		if err := c.updateStatus(st); err != nil {
			return err
		}
	}
	if d.Spec.Paused {
		return c.syncScale(st)
	}
	scaling, err := c.isScalingEvent(st)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScale(st)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return c.rolloutRecreate(st, sel)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(st)
	}
	c.log.Warn("unexpected strategy type", "deployment", d.Namespace+"/"+d.Name, "type", d.Spec.Strategy.Type)
	return nil
}

// isScalingEvent reports whether spec.replicas changed since the active
// replica sets were last sized (their desired-replicas annotation).
func (c *Controller) isScalingEvent(st *state) (bool, error) {
	newRS, oldRSs, err := c.syncRevision(st, false)
	if err != nil {
		return false, err
	}
	for _, rs := range active(withNew(oldRSs, newRS)) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicasOf(st.d) {
			return true, nil
		}
	}
	return false, nil
}

// syncScale follows a change of spec.replicas, or keeps a paused
// deployment sized, without progressing a rollout.
func (c *Controller) syncScale(st *state) error {
	newRS, oldRSs, err := c.syncRevision(st, false)
	if err != nil {
		return err
	}
	for _, r := range planScale(st.d, newRS, oldRSs) {
		if _, err := c.resize(st, r); err != nil {
			return err
		}
	}
	if st.d.Spec.Paused {
		if err := c.cleanup(st); err != nil {
			return err
		}
	}
	return c.syncStatusOnly(st)
}

// syncStatusOnly writes the counters and the Available condition.
func (c *Controller) syncStatusOnly(st *state) error {
	newRS, oldRSs, err := c.syncRevision(st, false)
	if err != nil {
		return err
	}
	status := calculateStatus(st.d, withNew(oldRSs, newRS), newRS, st.now)
	if equality.Semantic.DeepEqual(st.d.Status, status) {
		return nil
	}
	st.d.Status = status
	return c.updateStatus(st)
}

// rolloutRolling moves a RollingUpdate one step: grow the new replica set
// within maxSurge, else shrink old ones within maxUnavailable; once
// complete, prune history.
func (c *Controller) rolloutRolling(st *state) error {
	newRS, oldRSs, err := c.syncRevision(st, true)
	if err != nil {
		return err
	}
	if to, ok := planNewReplicaSet(st.d, withNew(oldRSs, newRS), newRS); ok {
		scaled, err := c.resize(st, resize{rs: newRS, to: to})
		if err != nil {
			return err
		}
		if scaled {
			return c.syncRolloutStatus(st)
		}
	}
	scaledDown := false
	for _, r := range planOldReplicaSets(st.d, oldRSs, newRS) {
		scaled, err := c.resize(st, r)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(st)
	}
	if complete(st.d, &st.d.Status) {
		if err := c.cleanup(st); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(st)
}

// rolloutRecreate scales every old replica set to zero, waits until none
// of their pods runs, then brings up the new replica set at full size.
func (c *Controller) rolloutRecreate(st *state, sel labels.Selector) error {
	newRS, oldRSs, err := c.syncRevision(st, false)
	if err != nil {
		return err
	}
	scaledDown := false
	for _, rs := range active(oldRSs) {
		scaled, err := c.resize(st, resize{rs: rs, to: 0})
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(st)
	}
	running, err := c.oldPodsRunning(st, newRS, oldRSs, sel)
	if err != nil {
		return err
	}
	if running {
		return c.syncRolloutStatus(st)
	}
	if newRS == nil {
		if newRS, _, err = c.syncRevision(st, true); err != nil {
			return err
		}
	}
	if newRS != nil && specReplicas(newRS) != replicasOf(st.d) {
		if _, err := c.resize(st, resize{rs: newRS, to: replicasOf(st.d)}); err != nil {
			return err
		}
	}
	if complete(st.d, &st.d.Status) {
		if err := c.cleanup(st); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(st)
}

// oldPodsRunning reports whether any pod of an old replica set may still
// run: the sets report pods, or a pod of theirs has not finished.
func (c *Controller) oldPodsRunning(st *state, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, sel labels.Selector) (bool, error) {
	if sum(oldRSs, statusReplicas) > 0 {
		return true, nil
	}
	old := map[string]bool{}
	for _, rs := range oldRSs {
		if newRS == nil || rs.UID != newRS.UID {
			old[string(rs.UID)] = true
		}
	}
	pods, err := c.pods.Pods(st.d.Namespace).List(sel)
	if err != nil {
		return false, err
	}
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil || !old[string(ref.UID)] {
			continue
		}
		if p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
			return true, nil
		}
	}
	return false, nil
}

// syncRolloutStatus writes the rollout status; when nothing changed and a
// progress deadline is pending it asks to be requeued to check it.
func (c *Controller) syncRolloutStatus(st *state) error {
	newRS, oldRSs := st.split()
	status := rolloutStatus(st.d, withNew(oldRSs, newRS), newRS, st.now)
	if equality.Semantic.DeepEqual(st.d.Status, status) {
		if after, ok := recheckIn(st.d, &status, st.now); ok {
			return controller.RequeueAfter(after)
		}
		return nil
	}
	st.d.Status = status
	return c.updateStatus(st)
}

// updateStatus writes st.d's status (and annotations, which the status
// subresource of deployments carries) and adopts the server's answer.
func (c *Controller) updateStatus(st *state) error {
	updated, err := c.cfg.Client.AppsV1().Deployments(st.d.Namespace).UpdateStatus(st.ctx, st.d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating status of deployment %s/%s: %w", st.d.Namespace, st.d.Name, err)
	}
	*st.d = *updated
	return nil
}
