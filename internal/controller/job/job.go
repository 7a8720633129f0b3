// Package job implements the Job controller: it runs a Job's pods to
// completion (completions, parallelism, Indexed and NonIndexed modes),
// retries failed pods with exponential back-off up to backoffLimit, applies
// activeDeadlineSeconds, the pod failure policy, the success policy and
// suspension, and reports it all in the Job's status. Finished pods are
// counted exactly once through the batch.kubernetes.io/job-tracking
// finalizer (see track.go).
package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder receives the controller's events (SuccessfulCreate,
	// Completed, BackoffLimitExceeded, ...); nil drops them.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Clock tells the time (default: the real clock).
	Clock clock.PassiveClock
	// PodFailureBackoff is the delay before a failed pod is replaced; it
	// doubles with each further failure since the last success, up to
	// MaxPodFailureBackoff. Defaults: 10 s and 10 min, as in Kubernetes.
	PodFailureBackoff    time.Duration
	MaxPodFailureBackoff time.Duration
	// Workers is the number of jobs synced in parallel (default 5).
	Workers int
}

// Controller is the Job controller.
type Controller struct {
	cfg  Config
	jobs batchlisters.JobLister
	pods corelisters.PodLister
	exp  *expectations
	ctrl *controller.Controller
}

// New returns the controller, registered with cfg.Informers (jobs and
// pods). It does no I/O.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &record.FakeRecorder{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.PodFailureBackoff <= 0 {
		cfg.PodFailureBackoff = 10 * time.Second
	}
	if cfg.MaxPodFailureBackoff <= 0 {
		cfg.MaxPodFailureBackoff = 10 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	jobInf := cfg.Informers.Batch().V1().Jobs()
	podInf := cfg.Informers.Core().V1().Pods()
	c := &Controller{cfg: cfg, jobs: jobInf.Lister(), pods: podInf.Lister(), exp: newExpectations(cfg.Clock.Now)}
	ctrl, err := controller.New(controller.Config{Name: "job", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(jobInf.Informer(), nil); err != nil {
		return nil, err
	}
	// Pod events must update the expectations before they enqueue the job,
	// so they get a handler of their own; Watch only makes Run wait for the
	// pod cache.
	if err := ctrl.Watch(podInf.Informer(), func(interface{}) (string, bool) { return "", false }); err != nil {
		return nil, err
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// jobKeyOf returns the key of the job a pod belongs to: its controller if
// that is a Job, else (for an orphan still carrying the tracking finalizer)
// the job named by its job-name label, so that the finalizer is removed.
func jobKeyOf(p *corev1.Pod) (string, bool) {
	if ref := metav1.GetControllerOf(p); ref != nil {
		if ref.Kind != jobKind.Kind || ref.APIVersion != jobKind.GroupVersion().String() {
			return "", false
		}
		return p.Namespace + "/" + ref.Name, true
	}
	if name := p.Labels[batchv1.JobNameLabel]; name != "" && hasTrackingFinalizer(p) {
		return p.Namespace + "/" + name, true
	}
	return "", false
}

func (c *Controller) podAdded(obj interface{}) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key, ok := jobKeyOf(p)
	if !ok {
		return
	}
	switch {
	case p.DeletionTimestamp != nil:
		// Seen for the first time already being deleted (e.g. after a
		// restart): no creation to observe.
		c.exp.deleted(key, p.UID)
	case metav1.GetControllerOf(p) != nil:
		c.exp.created(key)
	}
	c.ctrl.Enqueue(key)
}

func (c *Controller) podUpdated(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	p, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == p.ResourceVersion {
		return
	}
	if oldKey, ok := jobKeyOf(old); ok {
		if !hasTrackingFinalizer(p) {
			c.exp.finalizerGone(oldKey, p.UID)
		}
		c.ctrl.Enqueue(oldKey)
	}
	key, ok := jobKeyOf(p)
	if !ok {
		return
	}
	if p.DeletionTimestamp != nil {
		c.exp.deleted(key, p.UID)
	}
	if !hasTrackingFinalizer(p) {
		c.exp.finalizerGone(key, p.UID)
	}
	c.ctrl.Enqueue(key)
}

func (c *Controller) podDeleted(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key, ok := jobKeyOf(p)
	if !ok {
		return
	}
	c.exp.deleted(key, p.UID)
	c.exp.finalizerGone(key, p.UID)
	c.ctrl.Enqueue(key)
}
