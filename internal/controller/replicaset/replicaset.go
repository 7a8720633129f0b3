// Package replicaset implements the ReplicaSet and ReplicationController
// controllers: each keeps exactly spec.replicas active pods matching its
// selector, owned through controller references, creating them in
// slow-start batches and deleting the most expendable first.
package replicaset

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// DefaultBurstReplicas caps the pods one sync creates or deletes, the
// same limit of 500 Kubernetes' ReplicaSet controller uses.
const DefaultBurstReplicas = 500

// Config configures a ReplicaSet or ReplicationController controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder records SuccessfulCreate, SuccessfulDelete, FailedCreate
	// and FailedDelete events. When nil the controller makes its own,
	// with source component "replicaset-controller" (or
	// "replication-controller"), writing through Client while Run runs.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Workers is the number of concurrent syncs (default 5).
	Workers int
	// BurstReplicas caps creations or deletions per sync (default 500).
	BurstReplicas int
	// Now is the clock (default time.Now); tests may replace it.
	Now func() time.Time
}

// Controller is a running ReplicaSet or ReplicationController controller.
type Controller struct {
	cfg         Config
	kind        kind
	log         *slog.Logger
	pods        *podIndex
	podsSynced  cache.InformerSynced
	exp         *expectations
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
	ctrl        *controller.Controller
}

// New returns the ReplicaSet controller, registered with cfg.Informers
// (ReplicaSets and Pods). It does no I/O until Run.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("replicaset: Client and Informers are required")
	}
	return newController(cfg, newReplicaSets(cfg.Client, cfg.Informers))
}

// NewReplicationController returns the ReplicationController controller,
// the same logic over v1 ReplicationControllers, registered with
// cfg.Informers (ReplicationControllers and Pods).
func NewReplicationController(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("replicationcontroller: Client and Informers are required")
	}
	return newController(cfg, newReplicationControllers(cfg.Client, cfg.Informers))
}

func newController(cfg Config, k kind) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 5
	}
	if cfg.BurstReplicas <= 0 {
		cfg.BurstReplicas = DefaultBurstReplicas
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	podInf := cfg.Informers.Core().V1().Pods()
	c := &Controller{
		cfg:        cfg,
		kind:       k,
		log:        cfg.Logger.With("controller", k.name()),
		podsSynced: podInf.Informer().HasSynced,
		exp:        newExpectations(cfg.Now),
		recorder:   cfg.Recorder,
	}
	c.pods = newPodIndex(podInf.Informer(), podInf.Lister(), c.log)
	if c.recorder == nil {
		c.broadcaster = record.NewBroadcaster()
		c.recorder = c.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: k.name()})
	}
	ctrl, err := controller.New(controller.Config{Name: k.name(), Reconciler: c, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	if err := ctrl.Watch(k.informer(), nil); err != nil {
		return nil, err
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
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
	if !cache.WaitForCacheSync(ctx.Done(), c.podsSynced) {
		return nil
	}
	return c.ctrl.Run(ctx)
}

// keyOf is the work-queue key of a set.
func keyOf(s *set) string { return s.Namespace + "/" + s.Name }

// owner returns the set that controls pod per its controller reference,
// if it still exists with the referenced UID.
func (c *Controller) owner(pod *corev1.Pod) *set {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != c.kind.gvk().Kind {
		return nil
	}
	s, err := c.kind.get(pod.Namespace, ref.Name)
	if err != nil || s.UID != ref.UID {
		return nil
	}
	return s
}

// enqueueMatching enqueues every set in the pod's namespace whose selector
// matches it: the candidates to adopt an orphan.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	sets, err := c.kind.list(pod.Namespace)
	if err != nil {
		return
	}
	for _, s := range sets {
		if s.Selector.Matches(labels.Set(pod.Labels)) {
			c.ctrl.Enqueue(keyOf(s))
		}
	}
}

func (c *Controller) addPod(obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating (e.g. after a
		// restart): count it as the deletion it is.
		c.deletePod(pod)
		return
	}
	if metav1.GetControllerOfNoCopy(pod) != nil {
		if s := c.owner(pod); s != nil {
			c.exp.creationObserved(keyOf(s))
			c.ctrl.Enqueue(keyOf(s))
		}
		return
	}
	c.enqueueMatching(pod)
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelsChanged := !labels.Equals(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// Graceful deletion: the pod is as good as gone for counting.
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := (curRef == nil) != (oldRef == nil) || (curRef != nil && curRef.UID != oldRef.UID)
	if refChanged && oldRef != nil {
		if s := c.owner(old); s != nil {
			c.ctrl.Enqueue(keyOf(s))
		}
	}
	if curRef != nil {
		if s := c.owner(cur); s != nil {
			c.ctrl.Enqueue(keyOf(s))
		}
		return
	}
	if labelsChanged || refChanged {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deletePod(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if s := c.owner(pod); s != nil {
		c.exp.deletionObserved(keyOf(s), pod.Namespace+"/"+pod.Name)
		c.ctrl.Enqueue(keyOf(s))
	}
}
