package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"
)

// Reconcile implements controller.Reconciler for a "namespace/name" key:
// it claims the set's pods, creates or deletes pods towards spec.replicas
// unless earlier creates or deletes are still unobserved, and writes the
// status.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	s, err := c.kind.get(ns, name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	needsSync := c.exp.satisfied(key, s.UID)
	all, err := c.pods.candidates(ns, s.UID)
	if err != nil {
		return err
	}
	pods, err := c.claimPods(ctx, s, activePods(all))
	if err != nil {
		return err
	}
	var manageErr error
	if needsSync && s.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, key, s, pods)
	}
	now := c.cfg.Now()
	status := calculateStatus(s, pods, manageErr, now)
	if !equality.Semantic.DeepEqual(status, s.Status) {
		err := c.kind.updateStatus(ctx, s, status)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case apierrors.IsConflict(err):
			// Our cache is behind: the newer object's event requeues key.
			c.log.Debug("status update conflict; waiting for the newer object", "key", key)
		case err != nil:
			return fmt.Errorf("updating status of %s: %w", key, err)
		}
	}
	if manageErr != nil {
		return manageErr
	}
	if wait, ok := untilAvailable(pods, s.MinReadySeconds, now); ok {
		return controller.RequeueAfter(wait)
	}
	return nil
}

// claimPods returns the active pods s owns after adopting matching orphans
// and releasing owned pods that no longer match.
func (c *Controller) claimPods(ctx context.Context, s *set, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var (
		owned    []*corev1.Pod
		errs     []error
		canAdopt *bool
	)
	deleting := s.DeletionTimestamp != nil
	gvk := c.kind.gvk()
	for _, p := range pods {
		switch controller.ClaimOf(s.UID, deleting, s.Selector, p) {
		case controller.ClaimKeep:
			owned = append(owned, p)
		case controller.ClaimRelease:
			if err := c.patchPod(ctx, p, releasePatch(s.UID, p.UID)); err != nil &&
				!apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, fmt.Errorf("releasing pod %s/%s: %w", p.Namespace, p.Name, err))
			}
		case controller.ClaimAdopt:
			if canAdopt == nil {
				ok, err := c.stillCurrent(ctx, s)
				if err != nil {
					return nil, err
				}
				canAdopt = &ok
			}
			if !*canAdopt {
				continue
			}
			ref := metav1.NewControllerRef(&s.ObjectMeta, gvk)
			patch, err := adoptPatch(*ref, p.UID)
			if err != nil {
				return nil, err
			}
			adopted, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				errs = append(errs, fmt.Errorf("adopting pod %s/%s: %w", p.Namespace, p.Name, err))
			case isPodActive(adopted):
				owned = append(owned, adopted)
			}
		}
	}
	return owned, utilerrors.NewAggregate(errs)
}

// stillCurrent re-reads s from the API server before adopting, so that a
// set deleted (or re-created) since the cache saw it adopts nothing.
func (c *Controller) stillCurrent(ctx context.Context, s *set) (bool, error) {
	fresh, err := c.kind.getLive(ctx, s.Namespace, s.Name)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking %s/%s before adopting: %w", s.Namespace, s.Name, err)
	}
	return fresh.UID == s.UID && fresh.DeletionTimestamp == nil, nil
}

func (c *Controller) patchPod(ctx context.Context, p *corev1.Pod, patch []byte) error {
	_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// adoptPatch adds ref to a pod's owner references; the pod's UID makes it
// fail on a different pod of the same name.
func adoptPatch(ref metav1.OwnerReference, podUID types.UID) ([]byte, error) {
	return json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{ref},
		"uid":             podUID,
	}})
}

// releasePatch removes the owner reference to ownerUID from a pod.
func releasePatch(ownerUID, podUID types.UID) []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": ownerUID}},
		"uid":             podUID,
	}})
	return b
}

// manageReplicas creates or deletes pods to bring the owned, active pods
// to s.Replicas, recording what it expects the informer to report.
func (c *Controller) manageReplicas(ctx context.Context, key string, s *set, pods []*corev1.Pod) error {
	diff := len(pods) - int(s.Replicas)
	switch {
	case diff < 0:
		n := min(-diff, c.cfg.BurstReplicas)
		c.exp.expectCreations(key, s.UID, n)
		created, err := c.slowStart(n, func() error { return c.createPod(ctx, s) })
		for i := created; i < n; i++ {
			// Never attempted or failed: the informer will not report them.
			c.exp.creationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, c.cfg.BurstReplicas)
		related, err := c.relatedPods(s, pods)
		if err != nil {
			return err
		}
		victims := podsToDelete(pods, related, n, c.cfg.Now())
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = p.Namespace + "/" + p.Name
		}
		c.exp.expectDeletions(key, s.UID, keys)
		return c.deletePods(ctx, key, s, victims)
	}
	return nil
}

// errNamespaceTerminating marks a create refused because the namespace is
// going away; it is not a failure of the set.
var errNamespaceTerminating = errors.New("namespace terminating")

// createPod creates one pod for s and records the event.
func (c *Controller) createPod(ctx context.Context, s *set) error {
	pod, err := podFromTemplate(s, c.kind.gvk())
	if err != nil {
		c.recorder.Eventf(s.obj, corev1.EventTypeWarning, ReasonFailedCreate, "Error creating: %v", err)
		return err
	}
	created, err := c.cfg.Client.CoreV1().Pods(s.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return errNamespaceTerminating
		}
		c.recorder.Eventf(s.obj, corev1.EventTypeWarning, ReasonFailedCreate, "Error creating: %v", err)
		return err
	}
	c.log.Debug("created pod", "set", keyOf(s), "pod", created.Name)
	c.recorder.Eventf(s.obj, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

// slowStart calls fn count times in batches of 1, 2, 4, ..., each batch in
// parallel, stopping after the first batch with a failure. It returns the
// number of successful calls and the first error.
func (c *Controller) slowStart(count int, fn func() error) (int, error) {
	successes := 0
	for _, size := range batchSizes(count) {
		errCh := make(chan error, size)
		var wg sync.WaitGroup
		for range size {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errCh <- err
				}
			}()
		}
		wg.Wait()
		close(errCh)
		failed := len(errCh)
		successes += size - failed
		if failed > 0 {
			err := <-errCh
			if errors.Is(err, errNamespaceTerminating) {
				return successes, nil
			}
			return successes, err
		}
	}
	return successes, nil
}

// deletePods deletes victims in parallel and records events; a pod already
// gone is not an error.
func (c *Controller) deletePods(ctx context.Context, key string, s *set, victims []*corev1.Pod) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, p := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.cfg.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
			switch {
			case err == nil:
				c.recorder.Eventf(s.obj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
				return
			case apierrors.IsNotFound(err):
			default:
				c.recorder.Eventf(s.obj, corev1.EventTypeWarning, ReasonFailedDelete, "Error deleting: %v", err)
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
				}
				mu.Unlock()
			}
			// The informer will not report this deletion.
			c.exp.deletionObserved(key, p.Namespace+"/"+p.Name)
		}()
	}
	wg.Wait()
	return first
}

// relatedPods are the active pods of every set controlled by the same owner
// as s (s included), used to prefer deleting pods from crowded nodes.
func (c *Controller) relatedPods(s *set, own []*corev1.Pod) ([]*corev1.Pod, error) {
	uids, err := c.kind.siblings(s)
	if err != nil {
		return nil, err
	}
	if len(uids) <= 1 {
		return own, nil
	}
	pods, err := c.pods.controlledBy(s.Namespace, uids)
	if err != nil {
		return nil, err
	}
	return activePods(pods), nil
}
