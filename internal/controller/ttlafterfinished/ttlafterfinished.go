// Package ttlafterfinished implements the TTL-after-finished controller:
// a Job with spec.ttlSecondsAfterFinished is deleted, with its pods, that
// many seconds after it finished (Complete or Failed).
package ttlafterfinished

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
	// Clock tells the time (default: the real clock).
	Clock clock.PassiveClock
	// Propagation is how an expired job's pods are deleted (default
	// Background: the job goes at once and the garbage collector removes
	// its pods; Kubernetes' own controller uses Foreground).
	Propagation metav1.DeletionPropagation
	// Workers is the number of jobs handled in parallel (default 5).
	Workers int
}

// Controller deletes finished jobs whose TTL has expired.
type Controller struct {
	cfg  Config
	jobs batchlisters.JobLister
	ctrl *controller.Controller
}

// New returns the controller, registered with cfg.Informers (jobs). It
// does no I/O.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Propagation == "" {
		cfg.Propagation = metav1.DeletePropagationBackground
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	inf := cfg.Informers.Batch().V1().Jobs()
	c := &Controller{cfg: cfg, jobs: inf.Lister()}
	ctrl, err := controller.New(controller.Config{Name: "ttl-after-finished", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(inf.Informer(), nil); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for a job key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || ns == "" {
		return nil
	}
	j, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	left, expired, err := timeLeft(j, c.cfg.Clock.Now())
	if err != nil || !expired {
		return waitOrFail(left, err)
	}
	// The cached TTL may be stale: decide again on a fresh copy.
	fresh, err := c.cfg.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting job %s: %w", key, err)
	}
	left, expired, err = timeLeft(fresh, c.cfg.Clock.Now())
	if err != nil || !expired {
		return waitOrFail(left, err)
	}
	policy := c.cfg.Propagation
	err = c.cfg.Client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &fresh.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting job %s: %w", key, err)
	}
	c.cfg.Logger.Debug("deleted job after its TTL", "job", key)
	return nil
}

func waitOrFail(left time.Duration, err error) error {
	switch {
	case err != nil:
		return err
	case left > 0:
		return controller.RequeueAfter(left)
	}
	return nil
}

// errNoFinishTime is returned for a finished job whose terminal condition
// has no transition time.
var errNoFinishTime = errors.New("finished job has no finish time")

// timeLeft reports how long a job has before its TTL expires, or that it
// has expired. Jobs being deleted, unfinished or without a TTL never
// expire (left is 0 and expired false).
func timeLeft(j *batchv1.Job, now time.Time) (left time.Duration, expired bool, err error) {
	if j.DeletionTimestamp != nil || j.Spec.TTLSecondsAfterFinished == nil {
		return 0, false, nil
	}
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			if c.LastTransitionTime.IsZero() {
				return 0, false, fmt.Errorf("job %s/%s: %w", j.Namespace, j.Name, errNoFinishTime)
			}
			expireAt := c.LastTransitionTime.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second)
			if left := expireAt.Sub(now); left > 0 {
				return left, false, nil
			}
			return 0, true, nil
		}
	}
	return 0, false, nil
}
