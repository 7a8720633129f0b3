package deployment

import (
	"encoding/json"
	"fmt"
	"github.com/skiff-io/skiff/internal/controller"
	"maps"
	"math"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// syncRevision finds the new replica set and brings its annotations (and
// minReadySeconds) up to date, giving it the next revision when it is an
// older one coming back (a rollback). When there is none and create is
// set it creates it, sized by newRSNewReplicas. The deployment's revision
// annotation and its Progressing condition follow. It returns the new
// replica set (nil when none and !create) and all the old ones.
func (c *Controller) syncRevision(st *state, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	d := st.d
	existing, oldRSs := st.split()
	newRevision := strconv.FormatInt(maxRevision(oldRSs)+1, 10)
	if existing != nil {
		rs := existing.DeepCopy()
		changed := setNewReplicaSetAnnotations(d, rs, newRevision, true)
		if changed || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			updated, err := c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Update(st.ctx, rs, metav1.UpdateOptions{})
			if err != nil {
				return nil, nil, fmt.Errorf("updating replica set %s/%s: %w", rs.Namespace, rs.Name, err)
			}
			st.put(updated)
			return updated, oldRSs, nil
		}
		needsUpdate := setDeploymentRevision(d, rs.Annotations[RevisionAnnotation])
		if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewReplicaSet,
				fmt.Sprintf("Found new replica set %q", rs.Name), st.now))
			needsUpdate = true
		}
		if needsUpdate {
			if err := c.updateStatus(st); err != nil {
				return nil, nil, err
			}
		}
		return existing, oldRSs, nil
	}
	if !create {
		return nil, oldRSs, nil
	}
	newRS := newReplicaSet(d)
	n := newRSNewReplicas(d, withNew(oldRSs, newRS), newRS)
	newRS.Spec.Replicas = &n
	setNewReplicaSetAnnotations(d, newRS, newRevision, false)
	created, err := c.cfg.Client.AppsV1().ReplicaSets(d.Namespace).Create(st.ctx, newRS, metav1.CreateOptions{})
	alreadyExisted := false
	switch {
	case apierrors.IsAlreadyExists(err):
		found, getErr := c.cfg.Client.AppsV1().ReplicaSets(d.Namespace).Get(st.ctx, newRS.Name, metav1.GetOptions{})
		if getErr != nil {
			return nil, nil, fmt.Errorf("reading replica set %s: %w", newRS.Name, getErr)
		}
		if ref := metav1.GetControllerOfNoCopy(found); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &found.Spec.Template) {
			created, alreadyExisted = found, true
			break
		}
		// Another template (or object) owns the name: a hash collision.
		// Bumping collisionCount changes the hash on the next sync.
		count := int32(0)
		if d.Status.CollisionCount != nil {
			count = *d.Status.CollisionCount
		}
		count++
		d.Status.CollisionCount = &count
		if uerr := c.updateStatus(st); uerr == nil {
			c.log.Info("hash collision; bumping collisionCount", "deployment", d.Namespace+"/"+d.Name, "collisionCount", count)
		}
		return nil, nil, err
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", newRS.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonReplicaSetCreateErr, msg, st.now))
			_ = c.updateStatus(st)
		}
		c.recorder.Event(d, corev1.EventTypeWarning, ReasonReplicaSetCreateErr, msg)
		return nil, nil, err
	}
	st.put(created)
	if !alreadyExisted && n > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, n)
	}
	needsUpdate := setDeploymentRevision(d, newRevision)
	if !alreadyExisted && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetCreated,
			fmt.Sprintf("Created new replica set %q", created.Name), st.now))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.updateStatus(st); err != nil {
			return nil, nil, err
		}
	}
	return created, oldRSs, nil
}

// newReplicaSet is the replica set for d's current template, before
// sizing: named "<deployment>-<hash>", with the pod-template-hash label on
// its labels, selector and template, and d as controller.
func newReplicaSet(d *appsv1.Deployment) *appsv1.ReplicaSet {
	tmpl := d.Spec.Template.DeepCopy()
	hash := computeHash(tmpl, d.Status.CollisionCount)
	tmpl.Labels = maps.Clone(tmpl.Labels)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	sel := d.Spec.Selector.DeepCopy()
	if sel == nil {
		sel = &metav1.LabelSelector{}
	}
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	zero := int32(0)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, deploymentKind)},
			Labels:          maps.Clone(tmpl.Labels),
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        &zero,
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        sel,
			Template:        *tmpl,
		},
	}
}

// resize applies a planned size (and the replica annotations) to a
// replica set, recording a ScalingReplicaSet event when the size changes.
// It reports whether the size changed.
func (c *Controller) resize(st *state, r resize) (bool, error) {
	d, rs := st.d, r.rs
	from := specReplicas(rs)
	sizeChanged := from != r.to
	desired, maxReplicas := replicasOf(d), replicasOf(d)+maxSurge(d)
	if !sizeChanged && (!r.refresh || !replicasAnnotationsNeedUpdate(rs, desired, maxReplicas)) {
		return false, nil
	}
	cp := rs.DeepCopy()
	to := r.to
	cp.Spec.Replicas = &to
	setReplicasAnnotations(cp, desired, maxReplicas)
	updated, err := c.cfg.Client.AppsV1().ReplicaSets(cp.Namespace).Update(st.ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return false, fmt.Errorf("scaling replica set %s/%s: %w", cp.Namespace, cp.Name, err)
	}
	st.put(updated)
	if sizeChanged {
		op := "down"
		if to > from {
			op = "up"
		}
		c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.Name, from, to)
	}
	return sizeChanged, nil
}

// cleanupCandidates returns the old replica sets to delete so that at most
// revisionHistoryLimit remain, lowest revision first. Only sets that are
// scaled to zero, have no pods and whose status is current qualify.
func cleanupCandidates(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit == math.MaxInt32 {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	excess := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if excess <= 0 {
		return nil
	}
	sort.SliceStable(alive, func(i, j int) bool {
		ri, rj := revision(alive[i].Annotations), revision(alive[j].Annotations)
		if ri == rj {
			return alive[i].CreationTimestamp.Before(&alive[j].CreationTimestamp)
		}
		return ri < rj
	})
	var out []*appsv1.ReplicaSet
	for _, rs := range alive[:excess] {
		if rs.Status.Replicas != 0 || specReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}

// cleanup deletes old replica sets beyond revisionHistoryLimit.
func (c *Controller) cleanup(st *state) error {
	_, oldRSs := st.split()
	for _, rs := range cleanupCandidates(st.d, oldRSs) {
		err := c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Delete(st.ctx, rs.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &rs.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting old replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}

// claimReplicaSets returns the replica sets d owns after adopting matching
// orphans and releasing owned sets that no longer match its selector.
func (c *Controller) claimReplicaSets(st *state, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	d := st.d
	all, err := c.rss.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var (
		owned    []*appsv1.ReplicaSet
		errs     []error
		canAdopt *bool
	)
	client := c.cfg.Client.AppsV1().ReplicaSets(d.Namespace)
	for _, rs := range all {
		switch controller.ClaimOf(d.UID, d.DeletionTimestamp != nil, sel, rs) {
		case controller.ClaimKeep:
			owned = append(owned, rs)
		case controller.ClaimRelease:
			_, err := client.Patch(st.ctx, rs.Name, types.StrategicMergePatchType, releasePatch(d.UID, rs.UID), metav1.PatchOptions{})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, fmt.Errorf("releasing replica set %s: %w", rs.Name, err))
			}
		case controller.ClaimAdopt:
			if canAdopt == nil {
				ok, err := c.stillCurrent(st)
				if err != nil {
					return nil, err
				}
				canAdopt = &ok
			}
			if !*canAdopt {
				continue
			}
			adopted, err := client.Patch(st.ctx, rs.Name, types.StrategicMergePatchType, adoptPatch(d, rs.UID), metav1.PatchOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				errs = append(errs, fmt.Errorf("adopting replica set %s: %w", rs.Name, err))
			default:
				owned = append(owned, adopted)
			}
		}
	}
	return owned, utilerrors.NewAggregate(errs)
}

// stillCurrent re-reads the deployment before adopting, so that one
// deleted (or re-created) since the cache saw it adopts nothing.
func (c *Controller) stillCurrent(st *state) (bool, error) {
	fresh, err := c.cfg.Client.AppsV1().Deployments(st.d.Namespace).Get(st.ctx, st.d.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking deployment %s/%s before adopting: %w", st.d.Namespace, st.d.Name, err)
	}
	return fresh.UID == st.d.UID && fresh.DeletionTimestamp == nil, nil
}

// adoptPatch makes d the controller of the object with uid.
func adoptPatch(d *appsv1.Deployment, uid types.UID) []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{*metav1.NewControllerRef(d, deploymentKind)},
		"uid":             uid,
	}})
	return b
}

// releasePatch removes the owner reference to ownerUID.
func releasePatch(ownerUID, uid types.UID) []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": ownerUID}},
		"uid":             uid,
	}})
	return b
}
