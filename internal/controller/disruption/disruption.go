// Package disruption implements the disruption controller: it keeps each
// PodDisruptionBudget's status (healthy pods, how many may be disrupted)
// current, which the eviction subresource consults.
package disruption

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
}

// Controller maintains PodDisruptionBudget status.
type Controller struct {
	cfg  Config
	pdbs policylisters.PodDisruptionBudgetLister
	pods corelisters.PodLister
	ctrl *controller.Controller
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pdbInf := cfg.Informers.Policy().V1().PodDisruptionBudgets()
	podInf := cfg.Informers.Core().V1().Pods()
	c := &Controller{cfg: cfg, pdbs: pdbInf.Lister(), pods: podInf.Lister()}
	ctrl, err := controller.New(controller.Config{Name: "disruption", Reconciler: c, Workers: 2, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(pdbInf.Informer(), nil); err != nil {
		return nil, err
	}
	// A pod change re-evaluates the budgets of its namespace that select it.
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueBudgetsOf,
		UpdateFunc: func(_, obj interface{}) { c.enqueueBudgetsOf(obj) },
		DeleteFunc: c.enqueueBudgetsOf,
	}); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

func (c *Controller) enqueueBudgetsOf(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	pdbs, err := c.pdbs.PodDisruptionBudgets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, pdb := range pdbs {
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && sel.Matches(labels.Set(pod.Labels)) {
			c.ctrl.Enqueue(pdb.Namespace + "/" + pdb.Name)
		}
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
	pdb, err := c.pdbs.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && !sel.Empty() {
		if pods, err = c.pods.Pods(ns).List(sel); err != nil {
			return err
		}
	}
	status := computeStatus(pdb, pods)
	if apiequality.Semantic.DeepEqual(pdb.Status, status) {
		return nil
	}
	pdb = pdb.DeepCopy()
	pdb.Status = status
	if _, err := c.cfg.Client.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating budget %s: %w", key, err)
	}
	return nil
}

// computeStatus derives a budget's status from the pods it selects. The
// expected count is the number of selected pods that are not finished.
func computeStatus(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod) policyv1.PodDisruptionBudgetStatus {
	var expected, healthy int32
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		expected++
		if podReady(p) {
			healthy++
		}
	}
	desired := desiredHealthy(pdb.Spec, expected)
	allowed := healthy - desired
	if allowed < 0 {
		allowed = 0
	}
	st := policyv1.PodDisruptionBudgetStatus{
		ObservedGeneration: pdb.Generation,
		DisruptionsAllowed: allowed,
		CurrentHealthy:     healthy,
		DesiredHealthy:     desired,
		ExpectedPods:       expected,
		DisruptedPods:      pdb.Status.DisruptedPods,
		Conditions:         append([]metav1.Condition(nil), pdb.Status.Conditions...),
	}
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue,
		Reason: policyv1.SufficientPodsReason, ObservedGeneration: pdb.Generation}
	if allowed == 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, policyv1.InsufficientPodsReason
	}
	if existing := meta.FindStatusCondition(st.Conditions, cond.Type); existing == nil || existing.Status != cond.Status || existing.Reason != cond.Reason {
		cond.LastTransitionTime = metav1.Now()
		meta.SetStatusCondition(&st.Conditions, cond)
	}
	return st
}

// desiredHealthy is how many pods must stay healthy: minAvailable (a
// percentage rounds up), or expected minus maxUnavailable (a percentage of
// it rounds up too, leaving fewer required).
func desiredHealthy(spec policyv1.PodDisruptionBudgetSpec, expected int32) int32 {
	switch {
	case spec.MinAvailable != nil:
		return scaled(*spec.MinAvailable, expected)
	case spec.MaxUnavailable != nil:
		d := expected - scaled(*spec.MaxUnavailable, expected)
		if d < 0 {
			d = 0
		}
		return d
	}
	return expected
}

func scaled(v intstr.IntOrString, total int32) int32 {
	n, err := intstr.GetScaledValueFromIntOrPercent(&v, int(total), true)
	if err != nil || n < 0 {
		return 0
	}
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(n)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
