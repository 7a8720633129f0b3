// Package daemonset implements the DaemonSet controller: one daemon pod on
// every eligible node (by nodeSelector, required node affinity and taints
// against the pod's tolerations), following node additions, removals and
// label and taint changes, with RollingUpdate (maxUnavailable, maxSurge)
// and OnDelete updates, ControllerRevision history and status.
//
// Daemon pods are not bound by the controller: each is pinned to its node
// by a required node affinity term on metadata.name (matchFields) and the
// scheduler binds it, as in Kubernetes.
package daemonset

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/controller/history"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder receives the controller's events (SuccessfulCreate,
	// SuccessfulDelete, FailedCreate, FailedDaemonPod...); nil drops them.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of daemon sets synced concurrently (default 2).
	Workers int
}

// Controller keeps daemon sets' pods on their nodes.
type Controller struct {
	cfg       Config
	log       *slog.Logger
	sets      appslisters.DaemonSetLister
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	revisions appslisters.ControllerRevisionLister
	ctrl      *controller.Controller
	expect    *history.Expectations
	// failedBackoff limits how fast failed daemon pods on a node are
	// deleted and recreated (keyed by daemon set UID and node).
	failedBackoff *flowcontrol.Backoff
	now           func() time.Time
}

// Pace of the controller.
const (
	// burst caps the pods created or deleted for one daemon set per sync.
	burst = 250
	// expectationsTTL bounds the wait for the cache to show our writes.
	expectationsTTL = time.Minute
)

// New returns the controller, registered with cfg.Informers; it does no
// I/O until Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	apps := cfg.Informers.Apps().V1()
	core := cfg.Informers.Core().V1()
	c := &Controller{
		cfg:           cfg,
		log:           cfg.Logger,
		sets:          apps.DaemonSets().Lister(),
		pods:          core.Pods().Lister(),
		nodes:         core.Nodes().Lister(),
		revisions:     apps.ControllerRevisions().Lister(),
		expect:        history.NewExpectations(expectationsTTL),
		failedBackoff: flowcontrol.NewBackOff(time.Second, 15*time.Minute),
		now:           time.Now,
	}
	ctrl, err := controller.New(controller.Config{Name: "daemonset", Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(apps.DaemonSets().Informer(), nil); err != nil {
		return nil, err
	}
	// Dependents reconcile their controller; orphans the sets that may
	// adopt them.
	if err := ctrl.Watch(core.Pods().Informer(), ownerKey); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(apps.ControllerRevisions().Informer(), ownerKey); err != nil {
		return nil, err
	}
	if _, err := core.Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueAdopters,
		UpdateFunc: func(old, cur interface{}) { c.enqueueAdopters(cur); c.enqueueFormerOwner(old, cur) },
	}); err != nil {
		return nil, err
	}
	// Node changes that can change eligibility reconcile every set.
	if err := ctrl.Watch(core.Nodes().Informer(), func(interface{}) (string, bool) { return "", false }); err != nil {
		return nil, err
	}
	if _, err := core.Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(interface{}) { c.enqueueAll() },
		UpdateFunc: func(old, cur interface{}) {
			o, ok1 := old.(*corev1.Node)
			n, ok2 := cur.(*corev1.Node)
			if !ok1 || !ok2 || !reflect.DeepEqual(o.Labels, n.Labels) || !reflect.DeepEqual(o.Spec.Taints, n.Spec.Taints) {
				c.enqueueAll()
			}
		},
		DeleteFunc: func(interface{}) { c.enqueueAll() },
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

// enqueueAdopters enqueues the daemon sets that may adopt an orphan pod.
func (c *Controller) enqueueAdopters(obj interface{}) {
	m, ok := controller.MetaOf(obj)
	if !ok || metav1.GetControllerOfNoCopy(m) != nil {
		return
	}
	sets, err := c.sets.DaemonSets(m.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range sets {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(m.GetLabels())) {
			c.ctrl.Enqueue(ds.Namespace + "/" + ds.Name)
		}
	}
}

// enqueueFormerOwner enqueues the daemon set that controlled a pod before
// an update changed or dropped its controller reference.
func (c *Controller) enqueueFormerOwner(old, cur interface{}) {
	if key, ok := formerOwnerKey(old, cur); ok {
		c.ctrl.Enqueue(key)
	}
}

func (c *Controller) enqueueAll() {
	sets, err := c.sets.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range sets {
		c.ctrl.Enqueue(ds.Namespace + "/" + ds.Name)
	}
}

// event records an event on ds when a recorder is configured.
func (c *Controller) event(ds *appsv1.DaemonSet, eventType, reason, format string, args ...interface{}) {
	if c.cfg.Recorder != nil {
		c.cfg.Recorder.Eventf(ds, eventType, reason, format, args...)
	}
}
