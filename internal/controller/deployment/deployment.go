// Package deployment implements the Deployment controller: it rolls a
// deployment's pod template out through ReplicaSets named
// "<deployment>-<pod-template-hash>", by RollingUpdate (within maxSurge and
// maxUnavailable) or Recreate, keeps revisionHistoryLimit old replica sets
// for rollbacks, and reports progress in the conditions kubectl reads.
package deployment

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder records ScalingReplicaSet and the other deployment events.
	// When nil the controller makes its own, with source component
	// "deployment-controller", writing through Client while Run runs.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of concurrent syncs (default 5).
	Workers int
	// Now is the clock (default time.Now); tests may replace it.
	Now func() time.Time
}

// Controller is the Deployment controller.
type Controller struct {
	cfg         Config
	log         *slog.Logger
	deployments appslisters.DeploymentLister
	rss         appslisters.ReplicaSetLister
	pods        corelisters.PodLister
	synced      []cache.InformerSynced
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
	ctrl        *controller.Controller
}

// component is the controller's name and event source.
const component = "deployment-controller"

// New returns the controller, registered with cfg.Informers (Deployments,
// ReplicaSets and Pods). It does no I/O until Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("deployment: Client and Informers are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	apps := cfg.Informers.Apps().V1()
	pods := cfg.Informers.Core().V1().Pods()
	c := &Controller{
		cfg:         cfg,
		log:         cfg.Logger.With("controller", component),
		deployments: apps.Deployments().Lister(),
		rss:         apps.ReplicaSets().Lister(),
		pods:        pods.Lister(),
		synced:      []cache.InformerSynced{apps.ReplicaSets().Informer().HasSynced, pods.Informer().HasSynced},
		recorder:    cfg.Recorder,
	}
	if c.recorder == nil {
		c.broadcaster = record.NewBroadcaster()
		c.recorder = c.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	}
	ctrl, err := controller.New(controller.Config{Name: component, Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(apps.Deployments().Informer(), nil); err != nil {
		return nil, err
	}
	if _, err := apps.ReplicaSets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addReplicaSet,
		UpdateFunc: c.updateReplicaSet,
		DeleteFunc: c.deleteReplicaSet,
	}); err != nil {
		return nil, err
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.deletePod}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if c.broadcaster != nil {
		c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.cfg.Client.CoreV1().Events("")})
		defer c.broadcaster.Shutdown()
	}
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return nil
	}
	return c.ctrl.Run(ctx)
}

// ownerOf returns the deployment controlling obj, if it still exists with
// the referenced UID.
func (c *Controller) ownerOf(obj metav1.Object) *appsv1.Deployment {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != "Deployment" {
		return nil
	}
	d, err := c.deployments.Deployments(obj.GetNamespace()).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil
	}
	return d
}

func (c *Controller) enqueue(d *appsv1.Deployment) { c.ctrl.Enqueue(d.Namespace + "/" + d.Name) }

// enqueueMatching enqueues the deployments whose selector matches an
// orphaned replica set: the candidates to adopt it.
func (c *Controller) enqueueMatching(rs *appsv1.ReplicaSet) {
	ds, err := c.deployments.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(rs.Labels)) {
			c.enqueue(d)
		}
	}
}

func (c *Controller) addReplicaSet(obj interface{}) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if metav1.GetControllerOfNoCopy(rs) != nil {
		if d := c.ownerOf(rs); d != nil {
			c.enqueue(d)
		}
		return
	}
	if rs.DeletionTimestamp == nil {
		c.enqueueMatching(rs)
	}
}

func (c *Controller) updateReplicaSet(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*appsv1.ReplicaSet)
	cur, ok2 := newObj.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := (curRef == nil) != (oldRef == nil) || (curRef != nil && curRef.UID != oldRef.UID)
	if refChanged && oldRef != nil {
		if d := c.ownerOf(old); d != nil {
			c.enqueue(d)
		}
	}
	if curRef != nil {
		if d := c.ownerOf(cur); d != nil {
			c.enqueue(d)
		}
		return
	}
	if refChanged || !labels.Equals(old.Labels, cur.Labels) {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deleteReplicaSet(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		if d := c.ownerOf(rs); d != nil {
			c.enqueue(d)
		}
	}
}

// deletePod wakes a Recreate deployment waiting for its old pods to go.
func (c *Controller) deletePod(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.rss.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	if d := c.ownerOf(rs); d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.enqueue(d)
	}
}
