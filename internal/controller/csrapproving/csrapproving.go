// Package csrapproving implements the controller that approves the
// CertificateSigningRequests node agents make, so that nodes can join and
// renew their credentials without an administrator:
//
//   - kubernetes.io/kube-apiserver-client-kubelet requests that are node
//     client requests (O=system:nodes, CN=system:node:<n>, no SANs, client
//     usages), when a SubjectAccessReview allows the requestor to create
//     certificatesigningrequests/nodeclient (bootstrap tokens, group
//     system:bootstrappers), or, for a node renewing its own credential
//     (requestor equal to the CN), certificatesigningrequests/selfnodeclient.
//     This is what Kubernetes' csrapproving controller does.
//   - kubernetes.io/kubelet-serving requests made by the node itself
//     (requestor system:node:<n> in system:nodes, equal to the CN) whose
//     DNS SANs are only the node's name or Hostname addresses and whose IP
//     SANs are only addresses in the Node's status.addresses. Kubernetes
//     leaves these to the administrator (or an external approver) because
//     a node reports its own addresses, so approving on their strength
//     trusts the node not to claim someone else's IP. Skiff approves them
//     anyway: the API server must trust the agent's HTTPS API (logs, exec,
//     port-forward) as soon as a node joins, and a single-binary cluster
//     has no separate approver to install. A node can at worst obtain a
//     serving certificate for an address it already told the cluster is
//     its own, under its own node name.
//
// Everything else is left for `kubectl certificate approve` or `deny`.
package csrapproving

import (
	"context"
	"fmt"
	"k8s.io/apimachinery/pkg/labels"
	"log/slog"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/controller/csrsigning"
	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certificateslisters "k8s.io/client-go/listers/certificates/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

const (
	// retryInterval is how often a request the controller could approve
	// later (permission not granted yet, Node not registered yet) is
	// looked at again.
	retryInterval = time.Minute
	// retryWindow stops those retries for requests older than this; an
	// administrator decides about them.
	retryWindow = 24 * time.Hour
)

// Config configures the controller.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
}

// Controller approves node certificate requests.
type Controller struct {
	cfg   Config
	csrs  certificateslisters.CertificateSigningRequestLister
	nodes corelisters.NodeLister
	now   func() time.Time
	ctrl  *controller.Controller
}

// New returns the controller, registered with cfg.Informers (CSRs and
// Nodes).
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, fmt.Errorf("csrapproving: Client and Informers are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	inf := cfg.Informers.Certificates().V1().CertificateSigningRequests()
	c := &Controller{cfg: cfg, csrs: inf.Lister(), nodes: cfg.Informers.Core().V1().Nodes().Lister(), now: time.Now}
	ctrl, err := controller.New(controller.Config{Name: "csrapproving", Reconciler: c, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(inf.Informer(), nil); err != nil {
		return nil, err
	}
	// A serving CSR waits for its Node to exist with the addresses it
	// names: look at a node's pending CSRs again whenever the node changes.
	if err := ctrl.Watch(cfg.Informers.Core().V1().Nodes().Informer(), c.enqueueNodeCSRs); err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	return c, nil
}

// enqueueNodeCSRs queues the pending CSRs whose subject is node obj; it
// returns no key of its own.
func (c *Controller) enqueueNodeCSRs(obj interface{}) (string, bool) {
	m, ok := controller.MetaOf(obj)
	if !ok || c.ctrl == nil {
		return "", false
	}
	csrs, err := c.csrs.List(labels.Everything())
	if err != nil {
		return "", false
	}
	for _, csr := range csrs {
		if !pending(csr) || csr.Spec.Username != nodeUserPrefix+m.GetName() {
			continue
		}
		c.ctrl.Enqueue(csr.Name)
	}
	return "", false
}

// Run approves until ctx ends.
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
	if !pending(csr) {
		return nil
	}
	req, err := csrsigning.ParseRequest(csr.Spec.Request)
	if err != nil {
		// The API server validated the request; nothing to approve.
		return nil
	}
	var node *corev1.Node
	if csr.Spec.SignerName == certificatesv1.KubeletServingSignerName && strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix) {
		node, err = c.nodes.Get(strings.TrimPrefix(req.Subject.CommonName, nodeUserPrefix))
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err != nil {
			node = nil
		}
	}
	d := decide(csr, req, node)
	switch d.verdict {
	case approve:
		return c.approve(ctx, csr, d.message)
	case authorize:
		for _, p := range d.perms {
			allowed, err := c.allowed(ctx, csr, p.subresource)
			if err != nil {
				return err
			}
			if allowed {
				return c.approve(ctx, csr, p.message)
			}
		}
		c.cfg.Logger.Debug("requestor may not create node client certificates", "csr", name, "user", csr.Spec.Username)
		return c.retry(csr)
	case waitForNode:
		return c.retry(csr)
	}
	return nil
}

// retry looks at csr again later while it is young enough.
func (c *Controller) retry(csr *certificatesv1.CertificateSigningRequest) error {
	if c.now().Sub(csr.CreationTimestamp.Time) > retryWindow {
		return nil
	}
	return controller.RequeueAfter(retryInterval)
}

// allowed asks the authorizer whether the requestor may create
// certificatesigningrequests/<subresource>.
func (c *Controller) allowed(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, subresource string) (bool, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(csr.Spec.Extra))
	for k, v := range csr.Spec.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: certificatesv1.GroupName, Version: "*", Resource: "certificatesigningrequests",
			Subresource: subresource, Verb: "create",
		},
	}}
	res, err := c.cfg.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("reviewing access of %q to certificatesigningrequests/%s: %w", csr.Spec.Username, subresource, err)
	}
	return res.Status.Allowed, nil
}

// approve adds the Approved condition through the approval subresource.
func (c *Controller) approve(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, message string) error {
	update := csr.DeepCopy()
	update.Status.Conditions = append(update.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type:           certificatesv1.CertificateApproved,
		Status:         corev1.ConditionTrue,
		Reason:         ReasonAutoApproved,
		Message:        message,
		LastUpdateTime: metav1.NewTime(c.now()),
	})
	if _, err := c.cfg.Client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("approving certificate signing request %s: %w", csr.Name, err)
	}
	c.cfg.Logger.Info("approved certificate signing request", "csr", csr.Name, "user", csr.Spec.Username, "message", message)
	return nil
}
