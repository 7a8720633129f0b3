// Package clusterroleaggregation implements the controller that keeps
// every ClusterRole with an aggregationRule holding the union of the rules
// of the ClusterRoles its selectors match, as Kubernetes'
// clusterrole-aggregation controller does. This is how admin, edit and
// view grow when a ClusterRole labelled aggregate-to-{admin,edit,view}
// (for example one for a custom resource) is added.
package clusterroleaggregation

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skiff-io/skiff/internal/auth/rbac"
	"github.com/skiff-io/skiff/internal/controller"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
}

// Controller keeps aggregated ClusterRoles' rules up to date.
type Controller struct {
	cfg   Config
	roles rbaclisters.ClusterRoleLister
	ctrl  *controller.Controller
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	inf := cfg.Informers.Rbac().V1().ClusterRoles()
	c := &Controller{cfg: cfg, roles: inf.Lister()}
	ctrl, err := controller.New(controller.Config{Name: "clusterrole-aggregation", Reconciler: c, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	// A change to any ClusterRole may change what any aggregated role
	// selects (labels added or removed, rules edited), so every
	// aggregated role is reconsidered; the queue merges the duplicates.
	if err := ctrl.Watch(inf.Informer(), nil); err != nil {
		return nil, err
	}
	enqueueAggregated := func(interface{}) {
		all, err := c.roles.List(labels.Everything())
		if err != nil {
			return
		}
		for _, r := range all {
			if r.AggregationRule != nil {
				ctrl.Enqueue(r.Name)
			}
		}
	}
	if _, err := inf.Informer().AddEventHandler(cacheHandler(enqueueAggregated)); err != nil {
		return nil, fmt.Errorf("clusterrole-aggregation: %w", err)
	}
	c.ctrl = ctrl
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for a ClusterRole name: when
// the role has an aggregationRule and its rules differ from the aggregate
// of the roles it selects, they are replaced.
func (c *Controller) Reconcile(ctx context.Context, name string) error {
	role, err := c.roles.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if role.AggregationRule == nil {
		return nil
	}
	all, err := c.roles.List(labels.Everything())
	if err != nil {
		return err
	}
	want := rbac.AggregateRules(role, all)
	if apiequality.Semantic.DeepEqual(want, role.Rules) {
		return nil
	}
	upd := role.DeepCopy()
	upd.Rules = want
	if upd.Rules == nil {
		upd.Rules = []rbacv1.PolicyRule{}
	}
	if _, err := c.cfg.Client.RbacV1().ClusterRoles().Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("updating aggregated clusterrole %s: %w", name, err)
	}
	c.cfg.Logger.Info("updated aggregated clusterrole", "clusterrole", name, "rules", len(upd.Rules))
	return nil
}

// cacheHandler calls fn for every add, update and delete.
func cacheHandler(fn func(obj interface{})) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    fn,
		UpdateFunc: func(_, obj interface{}) { fn(obj) },
		DeleteFunc: fn,
	}
}
