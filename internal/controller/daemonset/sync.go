package daemonset

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

// Reconcile implements controller.Reconciler for a daemon set key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ds, err := c.sets.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		// The API server refuses such daemon sets; never select everything.
		return nil
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	revs, err := c.claimRevisions(ctx, ds, sel)
	if err != nil {
		return err
	}
	data, err := history.TemplatePatch(ds)
	if err != nil {
		return err
	}
	collisions := int32(0)
	if ds.Status.CollisionCount != nil {
		collisions = *ds.Status.CollisionCount
	}
	cur, err := history.Record(ctx, c.cfg.Client, ds, controllerKind, ds.Spec.Template.Labels, data, revs, &collisions)
	if err != nil {
		if collisions != ptrValue(ds.Status.CollisionCount) {
			// Persist the bumped count so the next attempt takes a new name.
			st := ds.Status.DeepCopy()
			st.CollisionCount = &collisions
			_ = c.writeStatus(ctx, ds, *st)
		}
		return err
	}
	hash := cur.Labels[history.HashLabel]
	pods, err := c.claimPods(ctx, ds, sel)
	if err != nil {
		return err
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	byNode := groupByNode(pods)
	elig := eligibility(ds, nodes)
	now := c.now()

	var requeue time.Duration
	var syncErr error
	if c.expect.Satisfied(key, c.lookup(ns)) {
		var wrote bool
		wrote, requeue, syncErr = c.manage(ctx, ds, key, elig, byNode, hash, now)
		if syncErr == nil && !wrote && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
			roll := planRollingUpdate(ds, elig, byNode, hash, now)
			syncErr = c.syncNodes(ctx, ds, key, roll.delete, roll.create, hash)
		}
		if syncErr == nil {
			syncErr = c.pruneHistory(ctx, ds, append(revs, cur), pods, hash)
		}
	} else {
		requeue = expectationsTTL
	}

	st, statusRequeue := computeStatus(ds, elig, byNode, hash, now)
	st.CollisionCount = ds.Status.CollisionCount
	if collisions != ptrValue(ds.Status.CollisionCount) {
		st.CollisionCount = &collisions
	}
	if err := c.writeStatus(ctx, ds, st); err != nil {
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

// groupByNode groups daemon pods by the node they are for; pods for no
// node are left out.
func groupByNode(pods []*corev1.Pod) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, pod := range pods {
		if node, ok := TargetNode(pod); ok {
			out[node] = append(out[node], pod)
		}
	}
	return out
}

// manage runs the core loop's plan; wrote reports whether it changed
// anything, requeue when failed pods wait on their back-off.
func (c *Controller) manage(ctx context.Context, ds *appsv1.DaemonSet, key string, elig nodeEligibility,
	byNode map[string][]*corev1.Pod, hash string, now time.Time) (wrote bool, requeue time.Duration, err error) {
	maxSurge, _ := updateBudget(ds, elig.desired())
	surge := ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && maxSurge > 0
	p := planManage(ds, elig, byNode, hash, surge, now)
	deletes := p.delete
	if len(p.failed) > 0 {
		c.failedBackoff.GC()
	}
	for _, pod := range p.failed {
		node, _ := TargetNode(pod)
		id := string(ds.UID) + "/" + node
		if c.failedBackoff.IsInBackOffSinceUpdate(id, now) {
			if d := c.failedBackoff.Get(id); requeue == 0 || d < requeue {
				requeue = d
			}
			continue
		}
		c.failedBackoff.Next(id, now)
		c.event(ds, corev1.EventTypeWarning, "FailedDaemonPod", "Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, node)
		deletes = append(deletes, pod)
	}
	err = c.syncNodes(ctx, ds, key, deletes, p.create, hash)
	return len(deletes)+len(p.create) > 0, requeue, err
}

// syncNodes deletes pods and creates daemon pods on nodes, at most burst
// of each, creating in batches that double in size (1, 2, 4...) and stop
// at the first failure so that a failing template does not flood the API.
func (c *Controller) syncNodes(ctx context.Context, ds *appsv1.DaemonSet, key string, deletes []*corev1.Pod, nodes []string, hash string) error {
	if len(deletes) > burst {
		deletes = deletes[:burst]
	}
	if len(nodes) > burst {
		nodes = nodes[:burst]
	}
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for batch, done := 1, 0; done < len(nodes); batch *= 2 {
		n := min(batch, len(nodes)-done)
		var wg sync.WaitGroup
		for _, node := range nodes[done : done+n] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.createPod(ctx, ds, key, node, hash); err != nil {
					fail(err)
				}
			}()
		}
		wg.Wait()
		done += n
		if len(errs) > 0 {
			break
		}
	}
	var wg sync.WaitGroup
	for _, pod := range deletes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.deletePod(ctx, ds, key, pod); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Controller) createPod(ctx context.Context, ds *appsv1.DaemonSet, key, node, hash string) error {
	created, err := c.cfg.Client.CoreV1().Pods(ds.Namespace).Create(ctx, newPod(ds, node, hash), metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.event(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("creating daemon pod of %s on node %s: %w", key, node, err)
	}
	c.expect.ExpectCreate(key, created.Name)
	c.event(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

func (c *Controller) deletePod(ctx context.Context, ds *appsv1.DaemonSet, key string, pod *corev1.Pod) error {
	err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	switch {
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return nil
	case err != nil:
		c.event(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
		return fmt.Errorf("deleting daemon pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	c.expect.ExpectDelete(key, pod.Name, pod.UID)
	c.event(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", pod.Name)
	return nil
}

// pruneHistory deletes the oldest revisions no pod uses beyond
// revisionHistoryLimit.
func (c *Controller) pruneHistory(ctx context.Context, ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision, pods []*corev1.Pod, hash string) error {
	live := map[string]bool{hash: true}
	for _, pod := range pods {
		if h := pod.Labels[history.HashLabel]; h != "" {
			live[h] = true
		}
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
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	return history.Delete(ctx, c.cfg.Client, history.Prune(unique, func(r *appsv1.ControllerRevision) bool {
		return live[r.Labels[history.HashLabel]]
	}, limit))
}

// writeStatus stores st as ds's status unless it is unchanged, retrying
// once on a conflict with a fresh copy.
func (c *Controller) writeStatus(ctx context.Context, ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) error {
	if reflect.DeepEqual(ds.Status, st) {
		return nil
	}
	api := c.cfg.Client.AppsV1().DaemonSets(ds.Namespace)
	next := ds.DeepCopy()
	next.Status = st
	_, err := api.UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		fresh, gerr := api.Get(ctx, ds.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("reading daemon set %s/%s: %w", ds.Namespace, ds.Name, gerr)
		}
		if fresh.UID != ds.UID || fresh.Generation != ds.Generation {
			return fmt.Errorf("daemon set %s/%s changed while syncing: %w", ds.Namespace, ds.Name, err)
		}
		fresh.Status = st
		_, err = api.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating status of daemon set %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return nil
}
