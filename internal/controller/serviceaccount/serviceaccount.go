// Package serviceaccount implements the controllers that give every
// namespace its "default" ServiceAccount and the "kube-root-ca.crt"
// ConfigMap holding the cluster CA, which pods use to trust the API server.
package serviceaccount

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// RootCAConfigMap is the name of the ConfigMap holding the cluster CA.
const RootCAConfigMap = "kube-root-ca.crt"

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// CAPEM is the cluster CA certificate published in every namespace.
	CAPEM  []byte
	Logger *slog.Logger
}

// Controller keeps the per-namespace defaults in place.
type Controller struct {
	cfg        Config
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	configMaps corelisters.ConfigMapLister
	ctrl       *controller.Controller
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	core := cfg.Informers.Core().V1()
	c := &Controller{cfg: cfg, namespaces: core.Namespaces().Lister(),
		accounts: core.ServiceAccounts().Lister(), configMaps: core.ConfigMaps().Lister()}
	ctrl, err := controller.New(controller.Config{Name: "serviceaccount", Reconciler: c, Workers: 2, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	// Every key is a namespace name: changes to the objects we own
	// reconcile their namespace.
	namespaceOf := func(obj interface{}) (string, bool) {
		m, ok := controller.MetaOf(obj)
		if !ok {
			return "", false
		}
		return m.GetNamespace(), true
	}
	if err := ctrl.Watch(core.Namespaces().Informer(), nil); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(core.ServiceAccounts().Informer(), namespaceOf); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(core.ConfigMaps().Informer(), namespaceOf); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for a namespace name.
func (c *Controller) Reconcile(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return nil
	}
	if _, err := c.accounts.ServiceAccounts(name).Get("default"); apierrors.IsNotFound(err) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}}
		if _, err := c.cfg.Client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating default service account in %s: %w", name, err)
		}
	}
	want := rootCA(name, c.cfg.CAPEM)
	cm, err := c.configMaps.ConfigMaps(name).Get(RootCAConfigMap)
	switch {
	case apierrors.IsNotFound(err):
		if _, err := c.cfg.Client.CoreV1().ConfigMaps(name).Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s in %s: %w", RootCAConfigMap, name, err)
		}
	case err != nil:
		return err
	case cm.Data["ca.crt"] != want.Data["ca.crt"]:
		cm = cm.DeepCopy()
		cm.Data = want.Data
		if _, err := c.cfg.Client.CoreV1().ConfigMaps(name).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating %s in %s: %w", RootCAConfigMap, name, err)
		}
	}
	return nil
}

// rootCA is the kube-root-ca.crt ConfigMap of a namespace.
func rootCA(namespace string, caPEM []byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: RootCAConfigMap, Namespace: namespace,
			Annotations: map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
		Data: map[string]string{"ca.crt": string(caPEM)},
	}
}
