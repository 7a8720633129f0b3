// Package node is Skiff's Node authorizer: it lets a node agent (user
// system:node:<name> in group system:nodes) read only the secrets, config
// maps, volumes and service accounts of the pods bound to it, and write
// only its own Node, Lease and CSINode and the status of its own pods, as
// Kubernetes' Node authorization mode does. It never denies: what it does
// not allow is left to the next authorizer (RBAC).
package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Source reads the API server's cache. Returned objects are shared: callers
// must not modify them. The getters return an error for which
// apierrors.IsNotFound is true when the object does not exist.
type Source interface {
	// PodsOnNode returns the pods, in every namespace, whose spec.nodeName
	// is nodeName.
	PodsOnNode(nodeName string) []*corev1.Pod
	GetPod(namespace, name string) (*corev1.Pod, error)
	GetPVC(namespace, name string) (*corev1.PersistentVolumeClaim, error)
	GetPV(name string) (*corev1.PersistentVolume, error)
}

// Authorizer is the Node authorizer. It is safe for concurrent use when its
// Source is.
type Authorizer struct {
	src Source
}

// New returns a Node authorizer reading pods and volumes from src.
func New(src Source) *Authorizer {
	return &Authorizer{src: src}
}

// kind of object whose access depends on the pods bound to the node.
type kind int

const (
	secretKind kind = iota
	configMapKind
	claimKind
	volumeKind
	serviceAccountKind
)

// Authorize implements authorizer.Authorizer. Users that are not nodes get
// NoOpinion without a reason.
func (az *Authorizer) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	nodeName, isNode := Identity(a.User)
	if !isNode {
		return authorizer.NoOpinion, "", nil
	}
	if nodeName == "" {
		return authorizer.NoOpinion, fmt.Sprintf("unknown node for user %q", a.User.Name), nil
	}
	if !a.ResourceRequest {
		return authorizer.NoOpinion, "", nil
	}
	switch a.APIGroup + "/" + a.Resource {
	case "/secrets":
		return az.authorizeRead(nodeName, secretKind, a)
	case "/configmaps":
		return az.authorizeRead(nodeName, configMapKind, a)
	case "/persistentvolumeclaims":
		if a.Subresource == "status" {
			return az.authorizeClaimStatus(nodeName, a)
		}
		return az.authorizeRead(nodeName, claimKind, a)
	case "/persistentvolumes":
		return az.authorizeRead(nodeName, volumeKind, a)
	case "/serviceaccounts":
		if a.Subresource == "token" {
			return az.authorizeToken(nodeName, a)
		}
		return az.authorizeRead(nodeName, serviceAccountKind, a)
	case "/nodes":
		return authorizeNode(nodeName, a)
	case "/pods":
		return az.authorizePod(nodeName, a)
	case "coordination.k8s.io/leases":
		return authorizeLease(nodeName, a)
	case "storage.k8s.io/csinodes":
		return authorizeCSINode(nodeName, a)
	}
	if staticAllows(a) {
		return authorizer.Allow, "", nil
	}
	return authorizer.NoOpinion, "", nil
}

// authorizeRead allows get, and list or watch of one named object (what a
// single-object informer sends), of an object a pod bound to the node
// needs.
func (az *Authorizer) authorizeRead(nodeName string, k kind, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if !slices.Contains(readVerbs, a.Verb) {
		return authorizer.NoOpinion, "can only read resources of this type", nil
	}
	if a.Subresource != "" {
		return authorizer.NoOpinion, "cannot read subresource", nil
	}
	if k != volumeKind && a.Namespace == "" {
		return authorizer.NoOpinion, "can only read namespaced object of this type", nil
	}
	return az.authorizeRelated(nodeName, k, a)
}

// authorizeToken allows creating a token for a service account that a pod
// bound to the node runs as. NodeRestriction admission then checks that
// the token is bound to such a pod.
func (az *Authorizer) authorizeToken(nodeName string, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.Verb != "create" || a.Name == "" {
		return authorizer.NoOpinion, "can only create tokens for individual service accounts", nil
	}
	return az.authorizeRelated(nodeName, serviceAccountKind, a)
}

// authorizeClaimStatus allows reading and updating the status of a claim a
// pod bound to the node mounts (volume expansion); NodeRestriction
// admission limits what the update may change.
func (az *Authorizer) authorizeClaimStatus(nodeName string, a authorizer.Attributes) (authorizer.Decision, string, error) {
	switch a.Verb {
	case "get", "update", "patch":
	default:
		return authorizer.NoOpinion, "can only get/update/patch this type", nil
	}
	return az.authorizeRelated(nodeName, claimKind, a)
}

func (az *Authorizer) authorizeRelated(nodeName string, k kind, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.Name == "" {
		return authorizer.NoOpinion, "No Object name found", nil
	}
	ok, err := az.related(nodeName, k, a.Namespace, a.Name)
	if err != nil {
		return authorizer.NoOpinion, noRelationship(nodeName), fmt.Errorf("node authorizer: %w", err)
	}
	if !ok {
		return authorizer.NoOpinion, noRelationship(nodeName), nil
	}
	return authorizer.Allow, "", nil
}

func noRelationship(nodeName string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", nodeName)
}

// authorizePod lets a node read every pod (the agent lists its own with a
// spec.nodeName field selector, which Attributes do not carry) and delete,
// evict or report the status of the pods bound to it. A pod missing from
// the cache is allowed so that the request answers NotFound, as it does
// for the kubelet; NodeRestriction admission checks the stored pod again.
func (az *Authorizer) authorizePod(nodeName string, a authorizer.Attributes) (authorizer.Decision, string, error) {
	switch {
	case a.Subresource == "" && slices.Contains(readVerbs, a.Verb):
		return authorizer.Allow, "", nil
	case a.Subresource == "" && a.Verb == "create":
		return authorizer.NoOpinion, fmt.Sprintf("node %q can not create pods: Skiff has no static or mirror pods", nodeName), nil
	case a.Subresource == "" && a.Verb == "delete",
		a.Subresource == "status" && (a.Verb == "update" || a.Verb == "patch"),
		a.Subresource == "eviction" && a.Verb == "create":
	default:
		return authorizer.NoOpinion, "", nil
	}
	if a.Name == "" {
		return authorizer.NoOpinion, "No Object name found", nil
	}
	pod, err := az.src.GetPod(a.Namespace, a.Name)
	switch {
	case apierrors.IsNotFound(err):
		return authorizer.Allow, "", nil
	case err != nil:
		return authorizer.NoOpinion, noRelationship(nodeName), fmt.Errorf("node authorizer: reading pod %s/%s: %w", a.Namespace, a.Name, err)
	case pod.Spec.NodeName != nodeName:
		return authorizer.NoOpinion, noRelationship(nodeName), nil
	}
	return authorizer.Allow, "", nil
}

// authorizeNode lets a node read every Node and write only its own; the
// name of a Node being created is not known here, so NodeRestriction
// admission checks it.
func authorizeNode(nodeName string, a authorizer.Attributes) (authorizer.Decision, string, error) {
	switch a.Subresource {
	case "":
		switch a.Verb {
		case "get", "list", "watch":
			return authorizer.Allow, "", nil
		case "create":
			if a.Name == "" || a.Name == nodeName {
				return authorizer.Allow, "", nil
			}
		case "update", "patch", "delete":
			if a.Name == nodeName {
				return authorizer.Allow, "", nil
			}
		default:
			return authorizer.NoOpinion, "", nil
		}
	case "status":
		switch a.Verb {
		case "get", "update", "patch":
			if a.Name == nodeName {
				return authorizer.Allow, "", nil
			}
		default:
			return authorizer.NoOpinion, "", nil
		}
	default:
		return authorizer.NoOpinion, "", nil
	}
	return authorizer.NoOpinion, fmt.Sprintf("node '%s' can only modify its own Node object, not '%s'", nodeName, a.Name), nil
}

// authorizeLease lets a node manage its own Lease in kube-node-lease.
func authorizeLease(nodeName string, a authorizer.Attributes) (authorizer.Decision, string, error) {
	switch a.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return authorizer.NoOpinion, "can only get, create, update, patch, or delete a node lease", nil
	}
	if a.Namespace != corev1.NamespaceNodeLease {
		return authorizer.NoOpinion, fmt.Sprintf("can only access leases in the %q system namespace", corev1.NamespaceNodeLease), nil
	}
	// A create carries no name here; NodeRestriction admission checks it.
	if a.Verb != "create" && a.Name != nodeName {
		return authorizer.NoOpinion, "can only access node lease with the same name as the requesting node", nil
	}
	return authorizer.Allow, "", nil
}

// authorizeCSINode lets a node manage its own CSINode.
func authorizeCSINode(nodeName string, a authorizer.Attributes) (authorizer.Decision, string, error) {
	switch a.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return authorizer.NoOpinion, "can only get, create, update, patch, or delete a CSINode", nil
	}
	if a.Subresource != "" {
		return authorizer.NoOpinion, "cannot authorize CSINode subresources", nil
	}
	if a.Verb != "create" && a.Name != nodeName {
		return authorizer.NoOpinion, "can only access CSINode with the same name as the requesting node", nil
	}
	return authorizer.Allow, "", nil
}
