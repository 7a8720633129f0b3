package job

import (
	"context"
	"errors"
	"fmt"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// createPods creates n pods (for the given indexes, if any) in batches of
// 1, 2, 4, ... so that a quota or admission error stops early instead of
// failing n times. It returns how many were created.
func (c *Controller) createPods(ctx context.Context, key string, j *batchv1.Job, n int, indexes []int) (int32, error) {
	c.exp.expectCreations(key, n)
	var created int32
	next := 0
	for batch := 1; next < n; batch *= 2 {
		size := min(batch, n-next)
		errs := make([]error, size)
		var wg sync.WaitGroup
		for i := 0; i < size; i++ {
			index := noIndex
			if indexes != nil {
				index = indexes[next+i]
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.createPod(ctx, j, index)
			}()
		}
		wg.Wait()
		next += size
		var failed error
		for _, err := range errs {
			if err != nil {
				c.exp.created(key)
				failed = errors.Join(failed, err)
			} else {
				created++
			}
		}
		if failed != nil {
			for ; next < n; next++ {
				c.exp.created(key) // never attempted
			}
			return created, failed
		}
	}
	return created, nil
}

func (c *Controller) createPod(ctx context.Context, j *batchv1.Job, index int) error {
	p := newPod(j, index)
	out, err := c.cfg.Client.CoreV1().Pods(j.Namespace).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return fmt.Errorf("namespace %s is terminating: %w", j.Namespace, err)
		}
		c.cfg.Recorder.Eventf(j, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return fmt.Errorf("creating pod for job %s/%s: %w", j.Namespace, j.Name, err)
	}
	c.cfg.Recorder.Eventf(j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", out.Name)
	return nil
}

// deletePods deletes pods in parallel. With dropFinalizer the tracking
// finalizer goes first, so the pod is not counted as failed (pods removed
// for suspension or excess parallelism); without it the deleted pods are
// counted as failed by the tracking that follows. It returns how many of
// the deleted pods were ready and how many were deleted.
func (c *Controller) deletePods(ctx context.Context, key string, j *batchv1.Job, pods []*corev1.Pod, dropFinalizer bool) (int32, int32, error) {
	if dropFinalizer {
		for _, p := range pods {
			c.exp.expectDeletion(key, p.UID)
		}
	}
	ok := make([]bool, len(pods))
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i], errs[i] = c.deletePod(ctx, key, j, p, dropFinalizer)
			if !ok[i] && dropFinalizer {
				c.exp.deleted(key, p.UID)
			}
		}()
	}
	wg.Wait()
	var ready, deleted int32
	for i, p := range pods {
		if ok[i] {
			deleted++
			if isReady(p) {
				ready++
			}
		}
	}
	return ready, deleted, errors.Join(errs...)
}

func (c *Controller) deletePod(ctx context.Context, key string, j *batchv1.Job, p *corev1.Pod, dropFinalizer bool) (bool, error) {
	pods := c.cfg.Client.CoreV1().Pods(p.Namespace)
	if dropFinalizer && hasTrackingFinalizer(p) {
		c.exp.removingFinalizer(key, p.UID)
		if _, err := pods.Patch(ctx, p.Name, types.StrategicMergePatchType, removeFinalizerPatch(), metav1.PatchOptions{}); err != nil {
			c.exp.finalizerGone(key, p.UID)
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, fmt.Errorf("removing finalizer of pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		c.cfg.Recorder.Eventf(j, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
		return false, fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	c.cfg.Recorder.Eventf(j, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
	return true, nil
}

// removeFinalizers removes the tracking finalizer from pods in parallel and
// returns the UIDs of those now without it (a pod already gone counts).
func (c *Controller) removeFinalizers(ctx context.Context, key string, pods []*corev1.Pod) ([]types.UID, error) {
	var todo []*corev1.Pod
	for _, p := range pods {
		if hasTrackingFinalizer(p) {
			todo = append(todo, p)
			c.exp.removingFinalizer(key, p.UID)
		}
	}
	done := make([]bool, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, p := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, removeFinalizerPatch(), metav1.PatchOptions{})
			switch {
			case err == nil:
				done[i] = true
			case apierrors.IsNotFound(err):
				c.exp.finalizerGone(key, p.UID)
				done[i] = true
			default:
				c.exp.finalizerGone(key, p.UID)
				errs[i] = fmt.Errorf("removing tracking finalizer of pod %s/%s: %w", p.Namespace, p.Name, err)
			}
		}()
	}
	wg.Wait()
	var out []types.UID
	for i, p := range todo {
		if done[i] {
			out = append(out, p.UID)
		}
	}
	return out, errors.Join(errs...)
}
