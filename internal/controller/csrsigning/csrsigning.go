// Package csrsigning implements the controller that signs approved
// CertificateSigningRequests addressed to the Kubernetes signers Skiff
// runs with the cluster CA: kubernetes.io/kube-apiserver-client,
// kubernetes.io/kube-apiserver-client-kubelet and
// kubernetes.io/kubelet-serving. Requests that break the signer's
// documented rules get a Failed condition (reason SignerValidationFailure)
// instead of a certificate. Requests to any other signer are left alone.
package csrsigning

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certificateslisters "k8s.io/client-go/listers/certificates/v1"
)

// DefaultMaxDuration is the longest certificate the controller issues when
// Config.MaxDuration is unset: one year, Kubernetes' default
// --cluster-signing-duration.
const DefaultMaxDuration = 365 * 24 * time.Hour

// ReasonSignerValidationFailure is the reason of the Failed condition set
// on requests the signer refuses.
const ReasonSignerValidationFailure = "SignerValidationFailure"

// Signer issues a PEM certificate for a request; *pki.Bundle implements it
// with the cluster CA.
type Signer interface {
	SignCSR(csr *x509.CertificateRequest, usages []x509.ExtKeyUsage, keyUsage x509.KeyUsage, duration time.Duration) ([]byte, error)
}

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Signer    Signer
	// MaxDuration caps every certificate's lifetime; a request's
	// spec.expirationSeconds can only shorten it. Zero means
	// DefaultMaxDuration.
	MaxDuration time.Duration
	Logger      *slog.Logger
}

// Controller signs approved requests.
type Controller struct {
	cfg  Config
	csrs certificateslisters.CertificateSigningRequestLister
	ctrl *controller.Controller
}

// New returns the controller, registered with cfg.Informers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil || cfg.Signer == nil {
		return nil, fmt.Errorf("csrsigning: Client, Informers and Signer are required")
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	inf := cfg.Informers.Certificates().V1().CertificateSigningRequests()
	c := &Controller{cfg: cfg, csrs: inf.Lister()}
	ctrl, err := controller.New(controller.Config{Name: "csrsigning", Reconciler: c, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(inf.Informer(), nil); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// Run signs until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.ctrl.Run(ctx) }

// Reconcile implements controller.Reconciler for a CSR name.
func (c *Controller) Reconcile(ctx context.Context, name string) error {
	csr, err := c.csrs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !awaitingSignature(csr) || !IsOurSigner(csr.Spec.SignerName) {
		return nil
	}
	req, keyUsage, extUsages, err := checkRequest(csr)
	update := csr.DeepCopy()
	if err != nil {
		c.cfg.Logger.Info("refusing to sign certificate signing request", "csr", name, "signer", csr.Spec.SignerName, "reason", err.Error())
		update.Status.Conditions = append(update.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type:           certificatesv1.CertificateFailed,
			Status:         corev1.ConditionTrue,
			Reason:         ReasonSignerValidationFailure,
			Message:        err.Error(),
			LastUpdateTime: metav1.Now(),
		})
	} else {
		cert, err := c.cfg.Signer.SignCSR(req, extUsages, keyUsage, Duration(csr.Spec.ExpirationSeconds, c.cfg.MaxDuration))
		if err != nil {
			return fmt.Errorf("signing certificate signing request %s: %w", name, err)
		}
		update.Status.Certificate = cert
	}
	if _, err := c.cfg.Client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating status of certificate signing request %s: %w", name, err)
	}
	return nil
}

// checkRequest parses csr's request and applies its signer's rules,
// returning what the certificate must say or why it may not be issued.
func checkRequest(csr *certificatesv1.CertificateSigningRequest) (*x509.CertificateRequest, x509.KeyUsage, []x509.ExtKeyUsage, error) {
	req, err := ParseRequest(csr.Spec.Request)
	if err != nil {
		return nil, 0, nil, err
	}
	if err := validateForSigner(csr.Spec.SignerName, req, csr.Spec.Usages); err != nil {
		return nil, 0, nil, err
	}
	keyUsage, extUsages, err := x509Usages(csr.Spec.Usages)
	if err != nil {
		return nil, 0, nil, err
	}
	return req, keyUsage, extUsages, nil
}

// awaitingSignature reports whether csr is approved (and not denied), has
// not failed and has no certificate yet.
func awaitingSignature(csr *certificatesv1.CertificateSigningRequest) bool {
	if len(csr.Status.Certificate) > 0 {
		return false
	}
	var approved bool
	for _, c := range csr.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			return false
		}
	}
	return approved
}

// Duration is the lifetime of an issued certificate: the requested
// expirationSeconds when set and shorter than max, else max.
func Duration(expirationSeconds *int32, max time.Duration) time.Duration {
	if expirationSeconds != nil {
		if d := time.Duration(*expirationSeconds) * time.Second; d < max {
			return d
		}
	}
	return max
}
