// Package resourcequota implements the quota controller: it keeps each
// ResourceQuota's status.hard and status.used equal to the spec and to what
// the namespace really holds, so that deletions give quota back.
package resourcequota

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/quota"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
)

// resyncPeriod bounds how stale usage of resources without an informer
// here (count/<resource>.<group>) can get.
const resyncPeriod = time.Minute

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Metadata  metadata.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
}

// Controller recomputes quota usage.
type Controller struct {
	cfg      Config
	quotas   corelisters.ResourceQuotaLister
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	claims   corelisters.PersistentVolumeClaimLister
	ctrl     *controller.Controller
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	core := cfg.Informers.Core().V1()
	c := &Controller{cfg: cfg, quotas: core.ResourceQuotas().Lister(), pods: core.Pods().Lister(),
		services: core.Services().Lister(), claims: core.PersistentVolumeClaims().Lister()}
	ctrl, err := controller.New(controller.Config{Name: "resourcequota", Reconciler: c, Workers: 2, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(core.ResourceQuotas().Informer(), nil); err != nil {
		return nil, err
	}
	// A change to anything a quota counts re-evaluates the namespace's
	// quotas; keys are "namespace/" + quota name, so enqueue them all.
	for _, inf := range []cache.SharedIndexInformer{core.Pods().Informer(), core.Services().Informer(), core.PersistentVolumeClaims().Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueNamespaceOf,
			UpdateFunc: func(_, obj interface{}) { c.enqueueNamespaceOf(obj) },
			DeleteFunc: c.enqueueNamespaceOf,
		}); err != nil {
			return nil, err
		}
	}
	c.ctrl = ctrl
	return c, nil
}

func (c *Controller) enqueueNamespaceOf(obj interface{}) {
	m, ok := controller.MetaOf(obj)
	if !ok {
		return
	}
	qs, err := c.quotas.ResourceQuotas(m.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range qs {
		c.ctrl.Enqueue(q.Namespace + "/" + q.Name)
	}
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for "namespace/name".
func (c *Controller) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	used, err := c.usage(ctx, q)
	if err != nil {
		return err
	}
	if !apiequality.Semantic.DeepEqual(q.Status.Hard, q.Spec.Hard) || !apiequality.Semantic.DeepEqual(q.Status.Used, used) {
		q = q.DeepCopy()
		q.Status.Hard, q.Status.Used = q.Spec.Hard, used
		if _, err := c.cfg.Client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("updating quota %s: %w", key, err)
		}
	}
	return controller.RequeueAfter(resyncPeriod)
}

// usage totals what the namespace holds of every resource the quota
// limits.
func (c *Controller) usage(ctx context.Context, q *corev1.ResourceQuota) (corev1.ResourceList, error) {
	total := corev1.ResourceList{}
	for name := range q.Spec.Hard {
		total[name] = resource.MustParse("0")
	}
	add := func(gr schema.GroupResource, obj runtime.Object) {
		if len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil {
			if !quota.Matches(q, obj) {
				return
			}
		}
		for name, v := range quota.Usage(gr, obj) {
			if cur, ok := total[name]; ok {
				cur.Add(v)
				total[name] = cur
			}
		}
	}
	pods, err := c.pods.Pods(q.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, p := range pods {
		add(schema.GroupResource{Resource: "pods"}, p)
	}
	svcs, err := c.services.Services(q.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, s := range svcs {
		add(schema.GroupResource{Resource: "services"}, s)
	}
	claims, err := c.claims.PersistentVolumeClaims(q.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, pvc := range claims {
		add(schema.GroupResource{Resource: "persistentvolumeclaims"}, pvc)
	}
	// Plain object counts of everything else are read as metadata.
	for name := range q.Spec.Hard {
		gr, ok := countedResource(name)
		if !ok {
			continue
		}
		list, err := c.cfg.Metadata.Resource(gr.WithVersion(preferredVersion(gr))).Namespace(q.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		total[name] = *resource.NewQuantity(int64(len(list.Items)), resource.DecimalSI)
	}
	return total, nil
}

// informerCounted are counted from the typed informers above.
var informerCounted = map[string]bool{"pods": true, "services": true, "persistentvolumeclaims": true}

// countedResource maps "configmaps" or "count/deployments.apps" to the
// resource it counts, for resources without a typed informer here.
func countedResource(name corev1.ResourceName) (schema.GroupResource, bool) {
	s := string(name)
	switch s {
	case "configmaps", "secrets", "replicationcontrollers", "resourcequotas":
		return schema.GroupResource{Resource: s}, true
	}
	rest, ok := strings.CutPrefix(s, "count/")
	if !ok {
		return schema.GroupResource{}, false
	}
	res, group, _ := strings.Cut(rest, ".")
	if group == "" && informerCounted[res] {
		return schema.GroupResource{}, false
	}
	return schema.GroupResource{Group: group, Resource: res}, true
}

// preferredVersion is the served version of the groups quotas count.
func preferredVersion(gr schema.GroupResource) string {
	if gr.Group == "autoscaling" {
		return "v2"
	}
	return "v1"
}
