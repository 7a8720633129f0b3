// Package endpointslice implements the EndpointSlice controller: every
// Service with a selector gets EndpointSlices ("<service>-<random>",
// labelled kubernetes.io/service-name and managed-by
// endpointslice-controller.k8s.io, owned by the Service) listing the pods
// its selector matches, at most MaxEndpointsPerSlice endpoints per slice,
// one address type per slice, with as little churn as possible.
package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/controller/endpoints"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// ControllerName is the endpointslice.kubernetes.io/managed-by value of
// the slices this controller manages.
const ControllerName = "endpointslice-controller.k8s.io"

// DefaultMaxEndpointsPerSlice is Kubernetes' default slice size.
const DefaultMaxEndpointsPerSlice = 100

// podsByNode is the pod informer index this controller adds.
const podsByNode = "endpointslice.skiff.io/node"

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder receives FailedToUpdateEndpointSlices warnings (optional).
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of Services synced at once (default 5).
	Workers int
	// MaxEndpointsPerSlice defaults to DefaultMaxEndpointsPerSlice.
	MaxEndpointsPerSlice int
}

// Controller keeps EndpointSlices in line with Services and their pods.
type Controller struct {
	cfg      Config
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	podIndex cache.Indexer
	nodes    corelisters.NodeLister
	slices   discoverylisters.EndpointSliceLister
	ctrl     *controller.Controller
	triggers *endpoints.TriggerTimes
	tracker  *tracker
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	if cfg.MaxEndpointsPerSlice <= 0 {
		cfg.MaxEndpointsPerSlice = DefaultMaxEndpointsPerSlice
	}
	core := cfg.Informers.Core().V1()
	sliceInf := cfg.Informers.Discovery().V1().EndpointSlices()
	c := &Controller{cfg: cfg, services: core.Services().Lister(), pods: core.Pods().Lister(),
		nodes: core.Nodes().Lister(), slices: sliceInf.Lister(),
		triggers: endpoints.NewTriggerTimes(), tracker: newTracker(5 * time.Second)}
	ctrl, err := controller.New(controller.Config{Name: "endpointslice", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(core.Services().Informer(), nil); err != nil {
		return nil, err
	}
	podInf := core.Pods().Informer()
	if err := podInf.AddIndexers(cache.Indexers{podsByNode: nodeNameIndex}); err != nil {
		return nil, fmt.Errorf("endpointslice: pod index: %w", err)
	}
	c.podIndex = podInf.GetIndexer()
	if err := endpoints.WatchPods(ctrl, podInf, c.services); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(sliceInf.Informer(), serviceKeyOfSlice); err != nil {
		return nil, err
	}
	if _, err := sliceInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.sliceDeleted}); err != nil {
		return nil, fmt.Errorf("endpointslice: %w", err)
	}
	if err := c.watchNodes(core.Nodes().Informer()); err != nil {
		return nil, err
	}
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

func nodeNameIndex(obj interface{}) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return nil, nil
	}
	return []string{pod.Spec.NodeName}, nil
}

// serviceKeyOfSlice maps a slice this controller manages to its Service.
func serviceKeyOfSlice(obj interface{}) (string, bool) {
	s, ok := sliceFromObject(obj)
	if !ok || s.Labels[discoveryv1.LabelManagedBy] != ControllerName || s.Labels[discoveryv1.LabelServiceName] == "" {
		return "", false
	}
	return s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName], true
}

func sliceFromObject(obj interface{}) (*discoveryv1.EndpointSlice, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	return s, ok
}

func (c *Controller) sliceDeleted(obj interface{}) {
	if key, ok := serviceKeyOfSlice(obj); ok {
		s, _ := sliceFromObject(obj)
		c.tracker.observedDeletion(key, s.Name)
	}
}

// watchNodes requeues the Services of a node's pods when the node
// appears, goes, or changes zone.
func (c *Controller) watchNodes(inf cache.SharedIndexInformer) error {
	if err := c.ctrl.Watch(inf, func(interface{}) (string, bool) { return "", false }); err != nil {
		return err
	}
	enqueue := func(obj interface{}) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		node, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		pods, err := c.podIndex.ByIndex(podsByNode, node.Name)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, o := range pods {
			for _, key := range endpoints.ServicesForPod(c.services, o.(*corev1.Pod)) {
				if !seen[key] {
					seen[key] = true
					c.ctrl.Enqueue(key)
				}
			}
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue,
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, ok1 := oldObj.(*corev1.Node)
			n, ok2 := newObj.(*corev1.Node)
			if ok1 && ok2 && o.Labels[corev1.LabelTopologyZone] != n.Labels[corev1.LabelTopologyZone] {
				enqueue(n)
			}
		},
		DeleteFunc: enqueue,
	})
	if err != nil {
		return fmt.Errorf("endpointslice: watching nodes: %w", err)
	}
	return nil
}

// Reconcile implements controller.Reconciler for a Service key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	managed, err := c.slices.EndpointSlices(namespace).List(labels.SelectorFromSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ControllerName}))
	if err != nil {
		return err
	}
	if c.tracker.stale(key, managed) {
		// Our own writes have not reached the cache; their events bring
		// the key back (the delay is a safety net).
		return controller.RequeueAfter(time.Second)
	}
	svc, err := c.services.Services(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		// The garbage collector removes slices through their owner
		// reference too; deleting them here does not depend on it.
		c.triggers.Forget(key)
		return c.deleteAll(ctx, key, managed)
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		// Endpoints of such Services are managed by others; the slices
		// this controller made while the Service had a selector go.
		return c.deleteAll(ctx, key, managed)
	}
	pods, err := c.pods.Pods(namespace).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	trigger := c.triggers.Compute(key, svc, pods)
	p, missing := plan(planInput{svc: svc, pods: pods, existing: managed, max: c.cfg.MaxEndpointsPerSlice,
		node: func(name string) *corev1.Node {
			n, err := c.nodes.Get(name)
			if err != nil {
				return nil
			}
			return n
		}})
	if err := c.apply(ctx, key, svc, p, trigger); err != nil {
		if c.cfg.Recorder != nil && !apierrors.IsConflict(err) {
			c.cfg.Recorder.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices",
				"Error updating Endpoint Slices for Service %s/%s: %v", svc.Namespace, svc.Name, err)
		}
		return err
	}
	if len(missing) > 0 {
		// Pods on nodes not (yet) known are left out until the node
		// shows up; the node's event requeues the Service, this is a
		// safety net.
		return controller.RequeueAfter(5 * time.Second)
	}
	return nil
}

// apply performs a plan: creations (skipped while the Service is being
// deleted), updates, then deletions.
func (c *Controller) apply(ctx context.Context, key string, svc *corev1.Service, p Plan, trigger time.Time) error {
	client := c.cfg.Client.DiscoveryV1().EndpointSlices(svc.Namespace)
	if svc.DeletionTimestamp == nil {
		for _, s := range p.Create {
			annotate(s, trigger)
			out, err := client.Create(ctx, s, metav1.CreateOptions{})
			if err != nil {
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return nil
				}
				return fmt.Errorf("failed to create EndpointSlice for Service %s: %w", key, err)
			}
			c.tracker.wrote(key, out)
		}
	}
	for _, s := range p.Update {
		annotate(s, trigger)
		out, err := client.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("failed to update %s EndpointSlice for Service %s: %w", s.Name, key, err)
		}
		c.tracker.wrote(key, out)
	}
	for _, s := range p.Delete {
		if err := c.deleteSlice(ctx, key, s); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) deleteAll(ctx context.Context, key string, slices []*discoveryv1.EndpointSlice) error {
	var errs []error
	for _, s := range slices {
		errs = append(errs, c.deleteSlice(ctx, key, s))
	}
	if len(slices) == 0 {
		c.tracker.forget(key)
	}
	return errors.Join(errs...)
}

func (c *Controller) deleteSlice(ctx context.Context, key string, s *discoveryv1.EndpointSlice) error {
	err := c.cfg.Client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name,
		metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("failed to delete %s EndpointSlice for Service %s: %w", s.Name, key, err)
	}
	c.tracker.deleted(key, s.Name)
	return nil
}

// annotate sets (or clears) the last-change-trigger-time annotation.
func annotate(s *discoveryv1.EndpointSlice, trigger time.Time) {
	if trigger.IsZero() {
		delete(s.Annotations, corev1.EndpointsLastChangeTriggerTime)
		return
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[corev1.EndpointsLastChangeTriggerTime] = endpoints.FormatTriggerTime(trigger)
}
