// Package endpoints implements the Endpoints controller: every Service
// with a selector gets an Endpoints object of the same name listing the
// addresses of the pods the selector matches, ready and not ready, with
// the ports the Service's target ports resolve to on each pod.
package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder receives the FailedToCreateEndpoint/FailedToUpdateEndpoint
	// warnings (optional).
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of Services synced at once (default 5).
	Workers int
}

// Controller keeps Endpoints in line with Services and their pods.
type Controller struct {
	cfg       Config
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	ctrl      *controller.Controller
	triggers  *TriggerTimes

	endpointsSynced cache.InformerSynced

	mu      sync.Mutex
	written map[string]string // key -> resourceVersion we last wrote
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	core := cfg.Informers.Core().V1()
	c := &Controller{cfg: cfg, services: core.Services().Lister(), pods: core.Pods().Lister(),
		endpoints: core.Endpoints().Lister(), triggers: NewTriggerTimes(), written: map[string]string{}}
	ctrl, err := controller.New(controller.Config{Name: "endpoints", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(core.Services().Informer(), nil); err != nil {
		return nil, err
	}
	// An Endpoints object changed or deleted by someone else is put
	// right, if its Service is ours to serve. Endpoints without such a
	// Service (made by hand for a Service without selector, possibly
	// before the Service) are left alone, except at start-up when
	// leftovers of deleted Services are removed.
	c.endpointsSynced = core.Endpoints().Informer().HasSynced
	if err := ctrl.Watch(core.Endpoints().Informer(), c.keyOfEndpoints); err != nil {
		return nil, err
	}
	if err := WatchPods(ctrl, core.Pods().Informer(), c.services); err != nil {
		return nil, err
	}
	return c, nil
}

// WatchPods enqueues, for every relevant pod change, the keys of the
// Services selecting the pod before and after the change. It is shared
// with the EndpointSlice controller.
func WatchPods(ctrl *controller.Controller, inf cache.SharedIndexInformer, services corelisters.ServiceLister) error {
	// Registering through Watch makes Run wait for the pod cache; the
	// keys themselves come from the handler below, which sees both the
	// old and the new pod.
	if err := ctrl.Watch(inf, func(interface{}) (string, bool) { return "", false }); err != nil {
		return err
	}
	enqueue := func(pod *corev1.Pod) {
		for _, key := range ServicesForPod(services, pod) {
			ctrl.Enqueue(key)
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if pod, ok := PodFromObject(obj); ok {
				enqueue(pod)
			}
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			old, ok1 := PodFromObject(oldObj)
			cur, ok2 := PodFromObject(newObj)
			if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion || !PodEndpointChanged(old, cur) {
				return
			}
			enqueue(cur)
			if !apiequality.Semantic.DeepEqual(old.Labels, cur.Labels) {
				enqueue(old)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if pod, ok := PodFromObject(obj); ok {
				enqueue(pod)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}
	return nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	go c.enqueueLeftovers(ctx, time.Now())
	return c.ctrl.Run(ctx)
}

// keyOfEndpoints maps an Endpoints event to its Service's key when that
// Service exists and has a selector.
func (c *Controller) keyOfEndpoints(obj interface{}) (string, bool) {
	key, ok := controller.ObjectKey(obj)
	if !ok {
		return "", false
	}
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return "", false
	}
	svc, err := c.services.Services(namespace).Get(name)
	if err != nil || svc.Spec.Selector == nil {
		return "", false
	}
	return key, true
}

// leaderAnnotation marks Endpoints used as a (legacy) leader-election
// lock, which have no Service and must survive.
const leaderAnnotation = "control-plane.alpha.kubernetes.io/leader"

// enqueueLeftovers queues, once the cache has synced, every Endpoints
// object that predates the controller's start, so that those whose
// Service was deleted while the controller was not running are removed.
// Younger ones (creation times have a one-second resolution) may belong
// to a Service being created right now and are left alone.
func (c *Controller) enqueueLeftovers(ctx context.Context, started time.Time) {
	if !cache.WaitForCacheSync(ctx.Done(), c.endpointsSynced) {
		return
	}
	list, err := c.endpoints.List(labels.Everything())
	if err != nil {
		return
	}
	cutoff := started.Add(-time.Second)
	for _, ep := range list {
		if _, ok := ep.Annotations[leaderAnnotation]; ok || !ep.CreationTimestamp.Time.Before(cutoff) {
			continue
		}
		c.ctrl.Enqueue(ep.Namespace + "/" + ep.Name)
	}
}

// Reconcile implements controller.Reconciler for a Service key.
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	if namespace == metav1.NamespaceDefault && name == "kubernetes" {
		// The API server publishes its own endpoints.
		return nil
	}
	svc, err := c.services.Services(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.triggers.Forget(key)
		return c.deleteEndpoints(ctx, namespace, name)
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		// Such Services get no endpoints from this controller; any
		// Endpoints of the same name are managed by someone else.
		return nil
	}
	pods, err := c.pods.Pods(namespace).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	trigger := c.triggers.Compute(key, svc, pods)
	subsets := DesiredSubsets(svc, pods)
	truncated := Truncate(subsets, MaxAddresses)
	wantLabels := DesiredLabels(svc)

	cur, err := c.endpoints.Endpoints(namespace).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		cur = nil
	case err != nil:
		return err
	case c.stale(key, cur):
		// Our last write has not reached the cache yet; its event
		// brings the key back.
		return controller.RequeueAfter(time.Second)
	}
	if cur != nil && upToDate(cur, subsets, wantLabels, truncated) {
		return nil
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if cur != nil {
		ep = cur.DeepCopy()
	}
	ep.Subsets = subsets
	ep.Labels = wantLabels
	if ep.Annotations == nil {
		ep.Annotations = map[string]string{}
	}
	if trigger.IsZero() {
		delete(ep.Annotations, corev1.EndpointsLastChangeTriggerTime)
	} else {
		ep.Annotations[corev1.EndpointsLastChangeTriggerTime] = FormatTriggerTime(trigger)
	}
	if truncated {
		ep.Annotations[corev1.EndpointsOverCapacity] = "truncated"
	} else {
		delete(ep.Annotations, corev1.EndpointsOverCapacity)
	}
	if len(ep.Annotations) == 0 {
		ep.Annotations = nil
	}
	return c.write(ctx, key, svc, ep, cur == nil)
}

// upToDate reports whether an Endpoints object already holds what a sync
// would write (the trigger-time annotation aside).
func upToDate(cur *corev1.Endpoints, subsets []corev1.EndpointSubset, wantLabels map[string]string, truncated bool) bool {
	_, annotated := cur.Annotations[corev1.EndpointsOverCapacity]
	return annotated == truncated &&
		apiequality.Semantic.DeepEqual(cur.Subsets, subsets) &&
		apiequality.Semantic.DeepEqual(nonNil(cur.Labels), wantLabels)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (c *Controller) write(ctx context.Context, key string, svc *corev1.Service, ep *corev1.Endpoints, create bool) error {
	var (
		out *corev1.Endpoints
		err error
	)
	client := c.cfg.Client.CoreV1().Endpoints(ep.Namespace)
	if create {
		out, err = client.Create(ctx, ep, metav1.CreateOptions{})
	} else {
		out, err = client.Update(ctx, ep, metav1.UpdateOptions{})
	}
	if err != nil {
		if create && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			// A stale cache: retry with the next event or back-off.
			return fmt.Errorf("writing endpoints %s: %w", key, err)
		}
		if c.cfg.Recorder != nil {
			if create {
				c.cfg.Recorder.Eventf(ep, corev1.EventTypeWarning, "FailedToCreateEndpoint",
					"Failed to create endpoint for service %s/%s: %v", svc.Namespace, svc.Name, err)
			} else {
				c.cfg.Recorder.Eventf(ep, corev1.EventTypeWarning, "FailedToUpdateEndpoint",
					"Failed to update endpoint %s/%s: %v", svc.Namespace, svc.Name, err)
			}
		}
		return fmt.Errorf("writing endpoints %s: %w", key, err)
	}
	c.mu.Lock()
	c.written[key] = out.ResourceVersion
	c.mu.Unlock()
	return nil
}

// stale reports whether the cached Endpoints predate our last write.
func (c *Controller) stale(key string, cur *corev1.Endpoints) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	rv, ok := c.written[key]
	if !ok {
		return false
	}
	if OlderResourceVersion(cur.ResourceVersion, rv) {
		return true
	}
	delete(c.written, key)
	return false
}

// deleteEndpoints removes the Endpoints of a Service that is gone, after
// checking with the server that the Service is really gone (the cache
// may not have seen it created yet).
func (c *Controller) deleteEndpoints(ctx context.Context, namespace, name string) error {
	c.mu.Lock()
	delete(c.written, namespace+"/"+name)
	c.mu.Unlock()
	if _, err := c.endpoints.Endpoints(namespace).Get(name); apierrors.IsNotFound(err) {
		return nil
	}
	_, err := c.cfg.Client.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		// The Service exists: its event brings the key back.
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("checking service %s/%s: %w", namespace, name, err)
	}
	err = c.cfg.Client.CoreV1().Endpoints(namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting endpoints %s/%s: %w", namespace, name, err)
	}
	return nil
}
