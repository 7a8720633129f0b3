package serviceaccount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// LegacyTokenIssuer signs the non-expiring token stored in a
// service-account-token Secret (the auth/serviceaccount Issuer does).
type LegacyTokenIssuer interface {
	Legacy(sa *corev1.ServiceAccount, secret *corev1.Secret) (string, error)
}

// TokensConfig configures the TokensController.
type TokensConfig struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Issuer    LegacyTokenIssuer
	// CAPEM is the cluster CA written into each token Secret as ca.crt.
	CAPEM  []byte
	Logger *slog.Logger
}

// TokensController is Kubernetes' token controller: it fills Secrets of
// type kubernetes.io/service-account-token that name a ServiceAccount
// (annotation kubernetes.io/service-account.name) with a legacy token,
// ca.crt and namespace, records the account's UID in the
// kubernetes.io/service-account.uid annotation, and deletes such Secrets
// once their ServiceAccount is gone (deleted, or recreated with another
// UID than the annotation records).
type TokensController struct {
	cfg      TokensConfig
	accounts corelisters.ServiceAccountLister
	secrets  corelisters.SecretLister
	ctrl     *controller.Controller
}

// NewTokens returns the controller, registered with cfg.Informers. Its
// keys are "namespace/serviceaccount-name": a ServiceAccount and every
// token Secret naming it are reconciled together.
func NewTokens(cfg TokensConfig) (*TokensController, error) {
	if cfg.Client == nil || cfg.Informers == nil || cfg.Issuer == nil {
		return nil, errors.New("serviceaccount tokens controller: Client, Informers and Issuer are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	core := cfg.Informers.Core().V1()
	c := &TokensController{cfg: cfg, accounts: core.ServiceAccounts().Lister(), secrets: core.Secrets().Lister()}
	ctrl, err := controller.New(controller.Config{Name: "serviceaccount-token", Reconciler: c, Workers: 2, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(core.ServiceAccounts().Informer(), nil); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(core.Secrets().Informer(), tokenSecretKey); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// tokenSecretKey maps a token Secret to the key of the ServiceAccount it
// names, and ignores other Secrets.
func tokenSecretKey(obj interface{}) (string, bool) {
	m, ok := controller.MetaOf(obj)
	if !ok {
		return "", false
	}
	secret, ok := m.(*corev1.Secret)
	if !ok || secret.Type != corev1.SecretTypeServiceAccountToken {
		return "", false
	}
	name := secret.Annotations[corev1.ServiceAccountNameKey]
	if name == "" {
		return "", false
	}
	return secret.Namespace + "/" + name, true
}

// Run reconciles until ctx ends.
func (c *TokensController) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for "namespace/name" of a
// ServiceAccount, present or not.
func (c *TokensController) Reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || namespace == "" {
		return nil // not a key we produce; retrying cannot help
	}
	sa, err := c.accounts.ServiceAccounts(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		sa = nil
	} else if err != nil {
		return err
	}
	all, err := c.secrets.Secrets(namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	var errs []error
	for _, secret := range all {
		if secret.Type != corev1.SecretTypeServiceAccountToken || secret.Annotations[corev1.ServiceAccountNameKey] != name {
			continue
		}
		if err := c.syncSecret(ctx, sa, secret); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("token secrets of service account %s: %w", key, errors.Join(errs...))
	}
	return nil
}

// syncSecret applies decideTokenSecret to one Secret.
func (c *TokensController) syncSecret(ctx context.Context, sa *corev1.ServiceAccount, secret *corev1.Secret) error {
	action := decideTokenSecret(sa, secret, c.cfg.CAPEM)
	if action == tokenSecretDelete {
		// The cache may lag behind a ServiceAccount created together with
		// its Secret: only a live read may condemn a user's Secret.
		live, err := c.cfg.Client.CoreV1().ServiceAccounts(secret.Namespace).Get(ctx, secret.Annotations[corev1.ServiceAccountNameKey], metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			return fmt.Errorf("reading service account of secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
		sa = live
		action = decideTokenSecret(sa, secret, c.cfg.CAPEM)
	}
	switch action {
	case tokenSecretDelete:
		uid := secret.UID
		err := c.cfg.Client.CoreV1().Secrets(secret.Namespace).Delete(ctx, secret.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting token secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
		c.cfg.Logger.Info("deleted token secret of a deleted service account", "secret", secret.Namespace+"/"+secret.Name)
	case tokenSecretFill:
		filled, err := filledTokenSecret(sa, secret, c.cfg.CAPEM, c.cfg.Issuer)
		if err != nil {
			return err
		}
		if _, err := c.cfg.Client.CoreV1().Secrets(secret.Namespace).Update(ctx, filled, metav1.UpdateOptions{}); err != nil {
			// A conflict means our copy was stale: the retry reads anew.
			return fmt.Errorf("filling token secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
	}
	return nil
}

// tokenSecretAction is what a token Secret needs.
type tokenSecretAction int

const (
	tokenSecretKeep tokenSecretAction = iota
	tokenSecretFill
	tokenSecretDelete
)

// decideTokenSecret decides what a service-account-token Secret naming
// sa's name needs, sa being nil when no such ServiceAccount exists:
// deletion when the account is gone (missing, or not the UID the Secret
// recorded); filling when token, namespace or the UID annotation is
// missing, or ca.crt differs from caPEM (when one is configured).
// Secrets being deleted are left alone.
func decideTokenSecret(sa *corev1.ServiceAccount, secret *corev1.Secret, caPEM []byte) tokenSecretAction {
	if secret.DeletionTimestamp != nil {
		return tokenSecretKeep
	}
	recorded := secret.Annotations[corev1.ServiceAccountUIDKey]
	if sa == nil || (recorded != "" && recorded != string(sa.UID)) {
		return tokenSecretDelete
	}
	switch {
	case len(secret.Data[corev1.ServiceAccountTokenKey]) == 0,
		len(secret.Data[corev1.ServiceAccountNamespaceKey]) == 0,
		len(caPEM) > 0 && !bytes.Equal(secret.Data[corev1.ServiceAccountRootCAKey], caPEM),
		recorded == "":
		return tokenSecretFill
	}
	return tokenSecretKeep
}

// filledTokenSecret returns a copy of secret with what decideTokenSecret
// found missing: a token from issuer (only when it has none, so existing
// tokens stay valid), namespace, ca.crt and the account's UID annotation.
func filledTokenSecret(sa *corev1.ServiceAccount, secret *corev1.Secret, caPEM []byte, issuer LegacyTokenIssuer) (*corev1.Secret, error) {
	out := secret.DeepCopy()
	if out.Data == nil {
		out.Data = map[string][]byte{}
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	if len(caPEM) > 0 {
		out.Data[corev1.ServiceAccountRootCAKey] = append([]byte(nil), caPEM...)
	}
	if len(out.Data[corev1.ServiceAccountNamespaceKey]) == 0 {
		out.Data[corev1.ServiceAccountNamespaceKey] = []byte(out.Namespace)
	}
	if len(out.Data[corev1.ServiceAccountTokenKey]) == 0 {
		token, err := issuer.Legacy(sa, out)
		if err != nil {
			return nil, fmt.Errorf("generating token for secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
		out.Data[corev1.ServiceAccountTokenKey] = []byte(token)
	}
	out.Annotations[corev1.ServiceAccountNameKey] = sa.Name
	out.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
	return out, nil
}
