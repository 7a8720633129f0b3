// Package namespace implements the namespace controller: when a namespace
// is deleted it removes everything in it, then drops the "kubernetes"
// finalizer so that the namespace itself goes away.
package namespace

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Metadata  metadata.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
	// RetryInterval is how often a namespace with content still being
	// deleted (pods in their grace period, finalizers) is checked again.
	RetryInterval time.Duration
}

// Controller deletes the content of terminating namespaces.
type Controller struct {
	cfg    Config
	lister corelisters.NamespaceLister
	ctrl   *controller.Controller

	mu        sync.Mutex
	resources []schema.GroupVersionResource
	fetched   time.Time
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = time.Second
	}
	c := &Controller{cfg: cfg}
	inf := cfg.Informers.Core().V1().Namespaces()
	c.lister = inf.Lister()
	ctrl, err := controller.New(controller.Config{Name: "namespace", Reconciler: c, Workers: 2, Logger: cfg.Logger})
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

// Reconcile implements controller.Reconciler.
func (c *Controller) Reconcile(ctx context.Context, name string) error {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	switch nextStep(ns) {
	case stepNone:
		return nil
	case stepDelete:
		return c.deleteNamespace(ctx, name)
	}
	remaining, err := c.deleteContent(ctx, name)
	if err != nil {
		return err
	}
	if len(remaining) > 0 {
		c.cfg.Logger.Debug("namespace content remaining", "namespace", name, "remaining", remainingMessage(remaining))
		return controller.RequeueAfter(c.cfg.RetryInterval)
	}
	ns = ns.DeepCopy()
	ns.Spec.Finalizers = withoutKubernetes(ns.Spec.Finalizers)
	if _, err := c.cfg.Client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("finalizing namespace %s: %w", name, err)
	}
	if len(ns.Spec.Finalizers) == 0 {
		return c.deleteNamespace(ctx, name)
	}
	return nil
}

// step is what a namespace needs next.
type step int

const (
	stepNone    step = iota // not being deleted, or waiting on others' finalizers
	stepContent             // delete content, then drop our finalizer
	stepDelete              // no finalizers left: delete the namespace object
)

// nextStep decides what to do with a namespace.
func nextStep(ns *corev1.Namespace) step {
	if ns.DeletionTimestamp == nil {
		return stepNone
	}
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return stepContent
		}
	}
	if len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		return stepDelete
	}
	return stepNone
}

func withoutKubernetes(in []corev1.FinalizerName) []corev1.FinalizerName {
	var out []corev1.FinalizerName
	for _, f := range in {
		if f != corev1.FinalizerKubernetes {
			out = append(out, f)
		}
	}
	return out
}

func (c *Controller) deleteNamespace(ctx context.Context, name string) error {
	err := c.cfg.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting namespace %s: %w", name, err)
	}
	return nil
}

// deleteContent asks for every object in the namespace to be deleted and
// returns how many of each resource are still there.
func (c *Controller) deleteContent(ctx context.Context, ns string) (map[string]int, error) {
	resources, err := c.namespacedResources()
	if err != nil {
		return nil, err
	}
	background := metav1.DeletePropagationBackground
	remaining := map[string]int{}
	for _, gvr := range resources {
		client := c.cfg.Metadata.Resource(gvr).Namespace(ns)
		err := client.DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &background}, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
			return nil, fmt.Errorf("deleting %s in %s: %w", gvr.Resource, ns, err)
		}
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue
			}
			return nil, fmt.Errorf("listing %s in %s: %w", gvr.Resource, ns, err)
		}
		if n := len(list.Items); n > 0 {
			remaining[gvr.GroupResource().String()] = n
		}
	}
	return remaining, nil
}

// namespacedResources lists the namespaced resources that can be listed and
// deleted, refreshed from discovery at most every 30 seconds.
func (c *Controller) namespacedResources() ([]schema.GroupVersionResource, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resources != nil && time.Since(c.fetched) < 30*time.Second {
		return c.resources, nil
	}
	lists, err := c.cfg.Client.Discovery().ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list", "deletecollection"}}, lists)
	gvrs, err := discovery.GroupVersionResources(lists)
	if err != nil {
		return nil, err
	}
	out := make([]schema.GroupVersionResource, 0, len(gvrs))
	for gvr := range gvrs {
		out = append(out, gvr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	c.resources, c.fetched = out, time.Now()
	return out, nil
}

// remainingMessage describes what is left, as the namespace controller's
// conditions do ("pods has 2 resource instances").
func remainingMessage(remaining map[string]int) string {
	var parts []string
	for r, n := range remaining {
		parts = append(parts, fmt.Sprintf("%s has %d resource instances", r, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
