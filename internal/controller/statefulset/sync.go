package statefulset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// Reconcile implements controller.Reconciler for a stateful set key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	set, err := c.sets.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		// The API server refuses such sets; never select everything.
		return nil
	}
	revs, err := c.claimRevisions(ctx, set, sel)
	if err != nil {
		return err
	}
	pods, err := c.claimPods(ctx, set, sel)
	if err != nil {
		return err
	}
	now := c.now()
	if set.DeletionTimestamp != nil {
		// The garbage collector removes the pods; only report them.
		st, _ := computeStatus(set, pods, set.Status.CurrentRevision, set.Status.UpdateRevision, set.Status.CollisionCount, now)
		return c.writeStatus(ctx, set, st)
	}

	collisions := ptrValue(set.Status.CollisionCount)
	data, err := history.TemplatePatch(set)
	if err != nil {
		return err
	}
	update, err := history.Record(ctx, c.cfg.Client, set, controllerKind, set.Spec.Template.Labels, data, revs, &collisions)
	if err != nil {
		if collisions != ptrValue(set.Status.CollisionCount) {
			st := set.Status.DeepCopy()
			st.CollisionCount = &collisions
			_ = c.writeStatus(ctx, set, *st)
		}
		return err
	}
	current := update
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			current = r
		}
	}
	currentTemplate, err := history.Template(current)
	if err != nil {
		c.log.Warn("unreadable controller revision; using the set's template", "revision", current.Name, "err", err)
		currentTemplate = &set.Spec.Template
	}

	var requeue time.Duration
	var syncErr error
	if c.expect.Satisfied(key, c.lookup(ns)) {
		claims, err := c.claims.PersistentVolumeClaims(ns).List(labels.Everything())
		if err != nil {
			return err
		}
		s := state{set: set, current: currentTemplate, update: &set.Spec.Template,
			currentRev: current.Name, updateRev: update.Name,
			pods: map[int]*corev1.Pod{}, claims: map[string]*corev1.PersistentVolumeClaim{}, now: now}
		for _, pod := range pods {
			ord, _ := memberOrdinal(set, pod)
			s.pods[ord] = pod
		}
		for _, cl := range claims {
			s.claims[cl.Name] = cl
		}
		p := planSync(s)
		requeue = p.wait
		syncErr = c.execute(ctx, set, key, p)
		if syncErr == nil {
			syncErr = c.pruneHistory(ctx, set, append(revs, update), pods, current.Name, update.Name)
		}
	} else {
		requeue = expectationsTTL
	}

	st, statusRequeue := computeStatus(set, pods, current.Name, update.Name, set.Status.CollisionCount, now)
	if collisions != ptrValue(set.Status.CollisionCount) {
		st.CollisionCount = &collisions
	}
	if err := c.writeStatus(ctx, set, st); err != nil {
		syncErr = errors.Join(syncErr, err)
	}
	if syncErr != nil {
		return syncErr
	}
	if statusRequeue > 0 && (requeue == 0 || statusRequeue < requeue) {
		requeue = statusRequeue
	}
	if requeue > 0 {
		return controller.RequeueAfter(requeue)
	}
	return nil
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// lookup reads the cached pods of a namespace for expectations.
func (c *Controller) lookup(ns string) history.Lookup {
	return func(name string) metav1.Object {
		pod, err := c.pods.Pods(ns).Get(name)
		if err != nil {
			return nil
		}
		return pod
	}
}

// execute performs a plan: first the updates of claims and pods and the
// claims of pending pods (so that claims follow the retention policy
// before their pods go), then pod creations and deletions. Each phase
// runs in batches that double in size (1, 2, 4...) and stops at the first
// failure.
func (c *Controller) execute(ctx context.Context, set *appsv1.StatefulSet, key string, p plan) error {
	var first, second []step
	for _, s := range p.steps {
		switch s.kind {
		case fixClaims, fixIdentity, createClaims:
			first = append(first, s)
		default:
			second = append(second, s)
		}
	}
	for _, phase := range [][]step{first, second} {
		if err := c.slowStart(ctx, set, key, phase); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) slowStart(ctx context.Context, set *appsv1.StatefulSet, key string, steps []step) error {
	for batch, done := 1, 0; done < len(steps); batch *= 2 {
		n := min(batch, len(steps)-done)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, s := range steps[done : done+n] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.do(ctx, set, key, s)
			}()
		}
		wg.Wait()
		done += n
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// do performs one step.
func (c *Controller) do(ctx context.Context, set *appsv1.StatefulSet, key string, s step) error {
	pods := c.cfg.Client.CoreV1().Pods(set.Namespace)
	switch s.kind {
	case createPod:
		if err := c.createClaims(ctx, set, s.pod, s.claims); err != nil {
			return err
		}
		_, err := pods.Create(ctx, s.pod, metav1.CreateOptions{})
		switch {
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			return nil
		case apierrors.IsAlreadyExists(err):
		case err != nil:
			c.podEvent(set, "create", s.pod, err)
			return fmt.Errorf("creating pod %s/%s: %w", s.pod.Namespace, s.pod.Name, err)
		default:
			c.podEvent(set, "create", s.pod, nil)
		}
		c.expect.ExpectCreate(key, s.pod.Name)
	case recreatePod, deletePod:
		if s.kind == recreatePod {
			if s.pod.Status.Phase == corev1.PodFailed {
				c.event(set, corev1.EventTypeWarning, "RecreatingFailedPod", "StatefulSet %s/%s is recreating failed Pod %s", set.Namespace, set.Name, s.pod.Name)
			} else {
				c.event(set, corev1.EventTypeNormal, "RecreatingTerminatedPod", "StatefulSet %s/%s is recreating terminated Pod %s", set.Namespace, set.Name, s.pod.Name)
			}
		}
		err := pods.Delete(ctx, s.pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.pod.UID}})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			return nil
		case err != nil:
			c.podEvent(set, "delete", s.pod, err)
			return fmt.Errorf("deleting pod %s/%s: %w", s.pod.Namespace, s.pod.Name, err)
		}
		c.expect.ExpectDelete(key, s.pod.Name, s.pod.UID)
		c.podEvent(set, "delete", s.pod, nil)
	case fixIdentity:
		_, err := pods.Update(ctx, s.pod, metav1.UpdateOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case apierrors.IsConflict(err):
			return fmt.Errorf("updating pod %s/%s: %w", s.pod.Namespace, s.pod.Name, err)
		}
		c.podEvent(set, "update", s.pod, err)
		if err != nil {
			return fmt.Errorf("updating pod %s/%s: %w", s.pod.Namespace, s.pod.Name, err)
		}
	case createClaims:
		return c.createClaims(ctx, set, s.pod, s.claims)
	case fixClaims:
		for _, claim := range s.claims {
			_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, claim, metav1.UpdateOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("updating owner references of claim %s/%s: %w", claim.Namespace, claim.Name, err)
			}
		}
	}
	return nil
}

// createClaims creates a pod's missing claims; ones that appeared
// meanwhile are fine.
func (c *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, claims []*corev1.PersistentVolumeClaim) error {
	for _, claim := range claims {
		_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
		case err != nil:
			c.event(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim.Name, pod.Name, set.Name, err)
			return fmt.Errorf("creating claim %s/%s: %w", claim.Namespace, claim.Name, err)
		default:
			c.event(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod.Name, set.Name)
		}
	}
	return nil
}

// podEvent records the outcome of a pod write the way Kubernetes words it.
func (c *Controller) podEvent(set *appsv1.StatefulSet, verb string, pod *corev1.Pod, err error) {
	title := map[string]string{"create": "Create", "delete": "Delete", "update": "Update"}[verb]
	if err == nil {
		c.event(set, corev1.EventTypeNormal, "Successful"+title, "%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name)
		return
	}
	c.event(set, corev1.EventTypeWarning, "Failed"+title, "%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err)
}

// pruneHistory deletes the oldest revisions in use by neither the set nor
// a pod beyond revisionHistoryLimit.
func (c *Controller) pruneHistory(ctx context.Context, set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, pods []*corev1.Pod, current, update string) error {
	live := map[string]bool{current: true, update: true}
	for _, pod := range pods {
		live[revisionOf(pod)] = true
	}
	seen := map[string]bool{}
	var unique []*appsv1.ControllerRevision
	for _, r := range revs {
		if !seen[r.Name] {
			seen[r.Name] = true
			unique = append(unique, r)
		}
	}
	history.Sort(unique)
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	return history.Delete(ctx, c.cfg.Client, history.Prune(unique, func(r *appsv1.ControllerRevision) bool { return live[r.Name] }, limit))
}

// writeStatus stores st as set's status unless it is unchanged, retrying
// once on a conflict with a fresh copy.
func (c *Controller) writeStatus(ctx context.Context, set *appsv1.StatefulSet, st appsv1.StatefulSetStatus) error {
	if reflect.DeepEqual(set.Status, st) {
		return nil
	}
	api := c.cfg.Client.AppsV1().StatefulSets(set.Namespace)
	next := set.DeepCopy()
	next.Status = st
	_, err := api.UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		fresh, gerr := api.Get(ctx, set.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("reading stateful set %s/%s: %w", set.Namespace, set.Name, gerr)
		}
		if fresh.UID != set.UID || fresh.Generation != set.Generation {
			return fmt.Errorf("stateful set %s/%s changed while syncing: %w", set.Namespace, set.Name, err)
		}
		fresh.Status = st
		_, err = api.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating status of stateful set %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}
