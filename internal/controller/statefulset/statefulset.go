// Package statefulset implements the StatefulSet controller: pods with
// stable ordinal names (<set>-<ordinal>, from spec.ordinals.start),
// hostnames under the governing service, and per-ordinal
// PersistentVolumeClaims from volumeClaimTemplates; ordered (OrderedReady)
// or Parallel creation and deletion; RollingUpdate from the highest
// ordinal down to the partition within maxUnavailable, or OnDelete;
// ControllerRevision history; the claim retention policy; and status.
package statefulset

import (
	"context"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder receives the controller's events (SuccessfulCreate,
	// SuccessfulDelete, RecreatingFailedPod...); nil drops them.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of sets synced concurrently (default 5).
	Workers int
}

// Controller keeps stateful sets' pods and claims.
type Controller struct {
	cfg       Config
	log       *slog.Logger
	sets      appslisters.StatefulSetLister
	pods      corelisters.PodLister
	claims    corelisters.PersistentVolumeClaimLister
	revisions appslisters.ControllerRevisionLister
	ctrl      *controller.Controller
	expect    *history.Expectations
	now       func() time.Time
}

// expectationsTTL bounds the wait for the cache to show our writes.
const expectationsTTL = time.Minute

// New returns the controller, registered with cfg.Informers; it does no
// I/O until Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	apps := cfg.Informers.Apps().V1()
	core := cfg.Informers.Core().V1()
	c := &Controller{
		cfg:       cfg,
		log:       cfg.Logger,
		sets:      apps.StatefulSets().Lister(),
		pods:      core.Pods().Lister(),
		claims:    core.PersistentVolumeClaims().Lister(),
		revisions: apps.ControllerRevisions().Lister(),
		expect:    history.NewExpectations(expectationsTTL),
		now:       time.Now,
	}
	ctrl, err := controller.New(controller.Config{Name: "statefulset", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(apps.StatefulSets().Informer(), nil); err != nil {
		return nil, err
	}
	for _, inf := range []cache.SharedIndexInformer{core.Pods().Informer(), apps.ControllerRevisions().Informer(), core.PersistentVolumeClaims().Informer()} {
		if err := ctrl.Watch(inf, ownerKey); err != nil {
			return nil, err
		}
	}
	if _, err := core.Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueAdopters,
		UpdateFunc: func(old, cur interface{}) { c.enqueueAdopters(cur); c.enqueueFormerOwner(old, cur) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// ownerKey maps a pod or revision to the key of the set controlling it.
var ownerKey = controller.OwnerKey(controllerKind)

// formerOwnerKey maps an updated pod or revision to the set that lost it.
var formerOwnerKey = controller.FormerOwnerKey(ownerKey)

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// enqueueAdopters enqueues the sets that may adopt an orphan pod.
func (c *Controller) enqueueAdopters(obj interface{}) {
	m, ok := controller.MetaOf(obj)
	if !ok || metav1.GetControllerOfNoCopy(m) != nil {
		return
	}
	parent, _, ok := parseName(m.GetName())
	if !ok {
		return
	}
	set, err := c.sets.StatefulSets(m.GetNamespace()).Get(parent)
	if err != nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err == nil && !sel.Empty() && sel.Matches(labels.Set(m.GetLabels())) {
		c.ctrl.Enqueue(set.Namespace + "/" + set.Name)
	}
}

// enqueueFormerOwner enqueues the set that controlled a pod before an
// update changed or dropped its controller reference.
func (c *Controller) enqueueFormerOwner(old, cur interface{}) {
	if key, ok := formerOwnerKey(old, cur); ok {
		c.ctrl.Enqueue(key)
	}
}

// event records an event on set when a recorder is configured.
func (c *Controller) event(set *appsv1.StatefulSet, eventType, reason, format string, args ...interface{}) {
	if c.cfg.Recorder != nil {
		c.cfg.Recorder.Eventf(set, eventType, reason, format, args...)
	}
}
