// Package controller is the base every Skiff controller shares: shared
// informers feed keys into a rate-limited work queue, and workers call a
// level-triggered Reconcile for each key until it succeeds.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Reconciler brings the object named by key ("namespace/name", or "name"
// for cluster-scoped objects) to its desired state. Reconcile must be
// idempotent and read current state itself (from listers), since it sees
// only keys, never events. A returned error requeues the key with
// exponential back-off; a RequeueAfter error requeues it after a delay
// without counting as a failure.
type Reconciler interface {
	Reconcile(ctx context.Context, key string) error
}

// RequeueAfter asks for key to be reconciled again after the delay, e.g.
// while waiting for something no informer reports.
type RequeueAfter time.Duration

func (r RequeueAfter) Error() string { return fmt.Sprintf("requeue after %s", time.Duration(r)) }

// Controller runs a Reconciler over a work queue.
type Controller struct {
	name       string
	reconciler Reconciler
	queue      workqueue.TypedRateLimitingInterface[string]
	synced     []cache.InformerSynced
	workers    int
	log        *slog.Logger
}

// Config configures a Controller.
type Config struct {
	Name       string
	Reconciler Reconciler
	// Workers is the number of concurrent Reconcile calls (default 1).
	Workers int
	Logger  *slog.Logger
}

// New returns a controller; connect informers with Watch before Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Name == "" || cfg.Reconciler == nil {
		return nil, errors.New("controller: Name and Reconciler are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Controller{
		name:       cfg.Name,
		reconciler: cfg.Reconciler,
		workers:    cfg.Workers,
		log:        cfg.Logger.With("controller", cfg.Name),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: cfg.Name}),
	}, nil
}

// Watch enqueues the key of every object the informer adds, updates or
// deletes. keyOf maps an object to the key to reconcile (nil: the object's
// own key), so that a change to a dependent can enqueue its owner.
func (c *Controller) Watch(inf cache.SharedIndexInformer, keyOf func(obj interface{}) (string, bool)) error {
	if keyOf == nil {
		keyOf = ObjectKey
	}
	enqueue := func(obj interface{}) {
		if key, ok := keyOf(obj); ok {
			c.queue.Add(key)
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	if err != nil {
		return fmt.Errorf("controller %s: %w", c.name, err)
	}
	c.synced = append(c.synced, inf.HasSynced)
	return nil
}

// ObjectKey is the default key of an informer object, tombstones included.
func ObjectKey(obj interface{}) (string, bool) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	return key, err == nil
}

// Enqueue adds a key directly.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// EnqueueAfter adds a key after a delay, for work retried outside
// Reconcile (e.g. by a background goroutine that failed).
func (c *Controller) EnqueueAfter(key string, d time.Duration) { c.queue.AddAfter(key, d) }

// Run waits for the informers to sync, then reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return nil
	}
	var wg sync.WaitGroup
	for i := 0; i < c.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	err := c.reconciler.Reconcile(ctx, key)
	var after RequeueAfter
	switch {
	case err == nil:
		c.queue.Forget(key)
	case errors.As(err, &after):
		c.queue.Forget(key)
		c.queue.AddAfter(key, time.Duration(after))
	case ctx.Err() != nil:
	default:
		c.log.Warn("reconcile failed; retrying", "key", key, "err", err)
		c.queue.AddRateLimited(key)
	}
	return true
}
